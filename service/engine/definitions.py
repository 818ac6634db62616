"""Validate analysts' BPMN files before they are stored, and say what each process needs.

Files are untrusted: each is size-capped, parsed by lxml with DTDs, entities and network access
refused (any DOCTYPE is rejected outright, which also stops entity-expansion bombs), then parsed
by our SpiffWorkflow parser. Every fault becomes one :class:`DefinitionInvalid` naming the file,
the element id and the line, translated here once from SpiffWorkflow's ``ValidationException``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent, ThrowingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException

from service.errors import DefinitionInvalid

from .cycles import unbounded_cycle
from .messages import CorrelatedMessage
from .parser import NSMAP, OmniflowParser
from .tasks import ConnectorTask, DecisionTask

__all__ = ["ProcessDefinition", "parse_definitions", "load_xml", "RESERVED_IDS"]

DEFAULT_MAX_BYTES = 2 * 1024 * 1024
BPMN_NS = NSMAP["bpmn"]

# Task spec names SpiffWorkflow creates itself (BpmnProcessSpec, ProcessParser, TaskParser):
# an element with one of these ids would silently replace an engine task.
RESERVED_IDS = frozenset({"Start", "End", "Root", "StartEventSplit", "StartEventJoin"})
_RESERVED_SUFFIXES = (".EndJoin", ".BoundaryEventSplit", ".BoundaryEventJoin", " [child]")
_DOCTYPE = re.compile(rb"<!DOCTYPE|<!ENTITY", re.I)


@dataclass(frozen=True)
class ProcessDefinition:
    """One executable process found in a file, and what it refers to outside itself.

    The caller checks the references (called processes, decisions, connectors) against what is
    deployed; this module only reports them.
    """

    key: str
    name: str
    file: str
    xml: bytes
    called_processes: tuple[str, ...]
    decision_refs: tuple[str, ...]
    connectors: tuple[str, ...]
    message_names: tuple[str, ...]
    message_starts: tuple[str, ...] = ()    # messages whose arrival starts a new instance


def _invalid(detail: str, file: str, element: str | None = None, line: int | None = None) -> DefinitionInvalid:
    return DefinitionInvalid(detail, file=file, element=element or None, line=line or None)


def load_xml(name: str, content: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """Parse one BPMN file safely and return its ``bpmn:definitions`` root element."""
    if not isinstance(content, (bytes, bytearray)):
        raise _invalid("file content must be bytes", name)
    if len(content) > max_bytes:
        raise _invalid(f"file is {len(content)} bytes; the limit is {max_bytes}", name)
    if _DOCTYPE.search(content):
        raise _invalid("DOCTYPE and entity declarations are not allowed in BPMN files", name)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             dtd_validation=False, huge_tree=False, remove_comments=True)
    try:
        root = etree.fromstring(bytes(content), parser)
    except etree.XMLSyntaxError as exc:
        raise _invalid(f"not well-formed XML: {exc.msg}", name, line=exc.lineno) from exc
    if root.getroottree().docinfo.doctype:
        raise _invalid("DOCTYPE is not allowed in BPMN files", name)
    if root.tag != f"{{{BPMN_NS}}}definitions":
        raise _invalid("the root element must be bpmn:definitions "
                       "(namespace http://www.omg.org/spec/BPMN/20100524/MODEL)", name,
                       line=root.sourceline)
    return root


def _check_ids(name: str, root: etree._Element) -> None:
    process_ids = {p.get("id") for p in root.iter(f"{{{BPMN_NS}}}process")}
    for node in root.iter():
        if not isinstance(node.tag, str) or not node.tag.startswith(f"{{{BPMN_NS}}}"):
            continue
        element_id = node.get("id")
        if element_id is None:
            continue
        reserved = element_id in RESERVED_IDS or element_id.endswith(_RESERVED_SUFFIXES)
        if reserved or any(element_id == f"{pid}.EndJoin" for pid in process_ids):
            raise _invalid(f"element id {element_id!r} clashes with a name the engine uses "
                           "internally; rename the element", name, element_id, node.sourceline)


def _translate(name: str, root: etree._Element, exc: Exception) -> DefinitionInvalid:
    element = getattr(exc, "id", None) or None
    line = None
    if element:
        found = root.xpath("//*[@id=$id]", id=element)
        line = found[0].sourceline if found else None
    message = str(exc.args[0]) if exc.args else str(exc)
    cause = getattr(exc, "__cause__", None)
    if cause is not None and str(cause) not in message:
        message = f"{message}: {cause}"
    return _invalid(message, name, element, line)


def _specs_of(parser: OmniflowParser, key: str) -> list:
    specs = [parser.get_spec(key)]
    specs.extend(s for s in parser.get_subprocess_specs(key, require_call_activity_specs=False).values()
                 if s is not None)
    return specs


def _describe(parser: OmniflowParser, key: str, name: str, file: str, xml: bytes,
              embedded: set[str]) -> ProcessDefinition:
    called, decisions, connectors, messages, starts = set(), set(), set(), set(), set()
    seen = set()
    for spec in _specs_of(parser, key):
        if spec.name in seen or (spec.name != key and spec.name not in embedded):
            continue  # a called process is described by its own definition
        seen.add(spec.name)
        for task_spec in spec.task_specs.values():
            if isinstance(task_spec, CallActivity):
                called.add(task_spec.spec)
            elif isinstance(task_spec, DecisionTask):
                decisions.add(task_spec.decision_ref)
            elif isinstance(task_spec, ConnectorTask):
                connectors.add(task_spec.connector)
            definition = getattr(task_spec, "event_definition", None)
            if isinstance(task_spec, (CatchingEvent, ThrowingEvent)) and definition is not None:
                definitions = definition.event_definitions if isinstance(
                    definition, MultipleEventDefinition) else [definition]
                names = {d.name for d in definitions if isinstance(d, CorrelatedMessage)}
                messages.update(names)
                if spec.name == key and isinstance(task_spec, StartEvent):
                    starts.update(names)
    return ProcessDefinition(
        key=key, name=name, file=file, xml=xml,
        called_processes=tuple(sorted(called)), decision_refs=tuple(sorted(decisions)),
        connectors=tuple(sorted(connectors)), message_names=tuple(sorted(messages)),
        message_starts=tuple(sorted(starts)),
    )


def _check_cycles(parser: OmniflowParser, key: str, file: str, root: etree._Element,
                  embedded: set[str]) -> None:
    """Refuse a cycle that cannot run (see ``cycles``), naming its elements."""
    for spec in _specs_of(parser, key):
        if spec.name != key and spec.name not in embedded:
            continue
        found = unbounded_cycle(spec)
        if found is not None:
            why, elements = found
            node = root.xpath("//*[@id=$id]", id=elements[0])
            raise _invalid(f"the cycle {' -> '.join(elements)} cannot run: {why}", file,
                           elements[0], node[0].sourceline if node else None)


def _parse_file(name: str, content: bytes, max_bytes: int) -> list[ProcessDefinition]:
    root = load_xml(name, content, max_bytes)
    _check_ids(name, root)
    processes = [p for p in root.findall(f"{{{BPMN_NS}}}process")
                 if p.get("isExecutable", "true") != "false"]
    if not processes:
        raise _invalid("no executable bpmn:process in this file (isExecutable=\"true\")", name)
    embedded = {n.get("id") for n in root.iter(f"{{{BPMN_NS}}}subProcess",
                                                f"{{{BPMN_NS}}}transaction")}
    parser = OmniflowParser()
    try:
        parser.add_bpmn_xml(root, filename=name)
        for process in processes:
            _check_cycles(parser, process.get("id"), name, root, embedded)
        return [_describe(parser, p.get("id"), p.get("name") or p.get("id"), name, bytes(content), embedded)
                for p in processes]
    except ValidationException as exc:
        raise _translate(name, root, exc) from exc
    except (SpiffWorkflowException, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise _invalid(f"cannot parse process: {exc}", name) from exc


def parse_definitions(files: Mapping[str, bytes], *, max_bytes: int = DEFAULT_MAX_BYTES) -> list[ProcessDefinition]:
    """Validate BPMN files and return the executable processes they define.

    Raises :class:`DefinitionInvalid` (``file``, ``element``, ``line``) for the first fault,
    including a process id defined twice across the files.
    """
    found: list[ProcessDefinition] = []
    owners: dict[str, str] = {}
    for name, content in files.items():
        for definition in _parse_file(name, content, max_bytes):
            if definition.key in owners:
                raise _invalid(f"process id {definition.key!r} is defined in both "
                               f"{owners[definition.key]!r} and {name!r}", name, definition.key)
            owners[definition.key] = name
            found.append(definition)
    return found


def iter_roots(sources: Mapping[str, bytes], max_bytes: int = DEFAULT_MAX_BYTES) -> Iterable[tuple[str, etree._Element]]:
    """Yield ``(file, root)`` for every source, parsed with the same safety rules."""
    for name, content in sources.items():
        yield name, load_xml(name, content, max_bytes)
