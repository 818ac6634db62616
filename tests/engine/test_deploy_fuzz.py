"""Fuzz the deploy path with mutated copies of the shipped BPMN files (Hypothesis).

Whatever the bytes, ``parse_definitions`` returns definitions or raises ``DefinitionInvalid``
(the 4xx naming file, element and line): never another exception, which would be a 500. What it
accepts must also load (``ProcessLibrary``) and start without an exception escaping: a process
fault fails the instance, it never raises out of ``Runtime.start``.

Two generators: byte-level edits (deletions, duplications, truncation, XML and expression
fragments inserted anywhere), which mostly probe the XML layer, and edits of the parsed tree
(elements removed, duplicated or moved, ids made to clash, flows pointed elsewhere, texts and
attributes replaced), which reach the SpiffWorkflow parser and our checks. Examples are
derandomized so that a run in CI is repeatable.
"""
from __future__ import annotations

import copy
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from service.engine import (DictDecisionPort, ConnectorRegistry, FixedClock, ProcessLibrary,
                            Runtime, parse_definitions)
from service.engine.limits import EngineLimits
from service.errors import DefinitionInvalid

ROOT = Path(__file__).resolve().parents[2]
SOURCES = {path.name: path.read_bytes() for path in sorted((ROOT / "bpmn").glob("*.bpmn"))}
NAMES = sorted(SOURCES)

FRAGMENTS = [
    b"<", b">", b"/>", b'"', b"'", b"&", b"&amp;", b"&#0;", b"&#x110000;", b"]]>", b"<![CDATA[",
    b"<!--", b"-->", b"</bpmn:process>", b'<bpmn:task id="x"/>', b'id="start"',
    b'sourceRef="nowhere"', b'targetRef="StartEvent_1"', b"\x00", b"\xff\xfe", "\u00e9".encode(),
    b"=", b"${", b"}", b"#{x}", b"=for i in 1..100000 return i", b"import os", b"__class__",
    b'isExecutable="false"', b"<bpmn:script>", b"</bpmn:script>", b"R/PT0S", b"P99999Y",
    b"<!DOCTYPE x>", b"<?xml version='1.0'?>", b"xmlns:bpmn=\"urn:other\"", b"<bpmn:incoming>",
    b"<bpmn:conditionExpression>x ==</bpmn:conditionExpression>", b"camunda:", b"spiffworkflow:",
]
TEXTS = [
    "", " ", "x", "=", "${", "${a.b[0]}", "#{now()}", "=count(for i in 1..10 return i)",
    "import os", "while True: pass", "x = pow(10, 10**8)", "__import__('os')", "PT0S", "R/PT1S",
    "R5/2024-01-01T00:00:00Z/PT1M", "2024-13-45", "P99999Y", "not a timer", "\u00e9\u00e8",
    "a" * 300, "1e309", "None", "[[[[[[[[", "=)", "{{{", "x ? y : z",
]
ATTRIBUTES = [
    "id", "sourceRef", "targetRef", "attachedToRef", "messageRef", "default", "calledElement",
    "name", "isExecutable", "cancelActivity", "scriptFormat", "isSequential",
    "{http://camunda.org/schema/1.0/bpmn}decisionRef",
    "{http://camunda.org/schema/1.0/bpmn}candidateGroups",
    "{http://camunda.org/schema/1.0/bpmn}dueDate",
    "{http://camunda.org/schema/1.0/bpmn}assignee",
    "{http://camunda.org/schema/1.0/bpmn}resultVariable",
    "{http://camunda.org/schema/1.0/bpmn}mapDecisionResult",
    "{http://camunda.org/schema/1.0/bpmn}type", "{http://camunda.org/schema/1.0/bpmn}topic",
]
RESERVED = ["End", "Start", "Root", "StartEventSplit", "x.EndJoin", "y.BoundaryEventSplit"]

FUZZ = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def byte_edits(draw):
    name = draw(st.sampled_from(NAMES))
    data = bytearray(SOURCES[name])
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["delete", "insert", "duplicate", "replace", "truncate"]))
        start = draw(st.integers(0, len(data)))
        end = min(len(data), start + draw(st.integers(0, 300)))
        piece = draw(st.sampled_from(FRAGMENTS) | st.binary(max_size=16))
        if kind == "delete":
            del data[start:end]
        elif kind == "insert":
            data[start:start] = piece
        elif kind == "duplicate":
            data[start:start] = data[start:end]
        elif kind == "replace":
            data[start:end] = piece
        else:
            del data[start:]
    return name, bytes(data)


@st.composite
def tree_edits(draw):
    name = draw(st.sampled_from(NAMES))
    root = etree.fromstring(SOURCES[name])
    for _ in range(draw(st.integers(1, 6))):
        nodes = [n for n in root.iter() if isinstance(n.tag, str) and n is not root]
        if not nodes:
            break
        node = draw(st.sampled_from(nodes))
        ids = [n.get("id") for n in root.iter() if isinstance(n.tag, str) and n.get("id")]
        value = draw(st.sampled_from(ids + RESERVED + TEXTS) if ids else st.sampled_from(TEXTS))
        kind = draw(st.sampled_from(["remove", "duplicate", "move", "text", "attribute",
                                     "drop-attribute"]))
        parent = node.getparent()
        if kind == "remove" and parent is not None:
            parent.remove(node)
        elif kind == "duplicate" and parent is not None:
            parent.append(copy.deepcopy(node))
        elif kind == "move":
            target = draw(st.sampled_from([root, *nodes]))
            if target is not node and node not in target.iterancestors() and parent is not None:
                parent.remove(node)
                target.append(node)
        elif kind == "text":
            node.text = value
        elif kind == "attribute":
            node.set(draw(st.sampled_from(ATTRIBUTES)), value)
        elif kind == "drop-attribute" and node.attrib:
            del node.attrib[draw(st.sampled_from(sorted(node.attrib)))]
    return name, etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _deploy_and_start(name: str, data: bytes) -> None:
    try:
        definitions = parse_definitions({name: data})
    except DefinitionInvalid:
        return
    runtime = Runtime(decisions=DictDecisionPort(), connectors=ConnectorRegistry(),
                      clock=FixedClock(), script_cpu_seconds=0.2,
                      limits=EngineLimits(steps=300, events=300))
    for definition in definitions:
        try:
            spec = ProcessLibrary().spec(definition.key, 1, {name: data})
        except DefinitionInvalid:
            continue          # refers to a process defined in another file
        instance = runtime.start(spec, {})
        assert instance.status in ("waiting", "completed", "failed")
        instance.dumps()


@FUZZ
@given(byte_edits())
def test_byte_edits_give_definition_invalid_or_a_process_that_starts(case):
    _deploy_and_start(*case)


@FUZZ
@given(tree_edits())
def test_tree_edits_give_definition_invalid_or_a_process_that_starts(case):
    _deploy_and_start(*case)
