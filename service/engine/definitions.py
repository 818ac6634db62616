"""Validate analysts' BPMN files before they are stored, and say what each process needs.

Files are untrusted: each is size-capped, parsed by lxml with DTDs, entities and network access
refused (any DOCTYPE is rejected outright, which also stops entity-expansion bombs), then parsed
by our SpiffWorkflow parser. Every fault becomes one :class:`DefinitionInvalid` naming the file,
the element id and the line, translated here once from SpiffWorkflow's ``ValidationException``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent, ThrowingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException

from service.errors import DefinitionInvalid

from .bindings import BindingsInvalid, parse_bindings
from .cycles import unbounded_cycle
from .dialects import CAMUNDA_NS
from .messages import CorrelatedMessage
from .parser import NSMAP, OmniflowParser
from .tasks import ConnectorTask, DecisionTask, ExternalTask

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

    * ``connectors``: names the process calls through the ConnectorPort. It includes the
      ``external_topics``, because a service that runs a connector of a topic itself
      (``ConnectorPort.handles``) serves that topic; a topic no connector handles waits for an
      external worker instead, so a service with workers need not register it.
    * ``timer_start`` / ``timer_start_kind``: the text and kind (``timeCycle``, ``timeDate``,
      ``timeDuration``) of the process's timer start event, or None: the service creates one
      case per due time (``timers.next_start``) and starts it with ``Runtime.start(...,
      timer_fired=True)``.
    * ``bindings``: the connector bindings document given for the file (``{"bindings": {...}}``,
      or ``{}``), to store beside the definition and hand to ``ProcessLibrary.spec``.
    * ``notes``: what the file says that the engine does not run (listeners), one text each,
      for the deployer to see; they do not stop the deploy.
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
    external_topics: tuple[str, ...] = ()
    timer_start: str | None = None
    timer_start_kind: str | None = None
    bindings: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    # Version bindings other than latest: {"element", "ref", "binding": Binding.as_dict()}
    decision_bindings: tuple[dict, ...] = ()
    call_bindings: tuple[dict, ...] = ()
    version_tag: str | None = None          # camunda:versionTag / zeebe:versionTag


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
    line = getattr(exc, "line_number", None)
    line = line if isinstance(line, int) else None
    if element and line is None:
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


def _timer_start(process: etree._Element) -> tuple[str | None, str | None]:
    for kind in ("timeCycle", "timeDate", "timeDuration"):
        found = process.xpath(f"./bpmn:startEvent/bpmn:timerEventDefinition/bpmn:{kind}",
                              namespaces=NSMAP)
        if found:
            return (found[0].text or "").strip() or None, kind
    return None, None


def _version_tag(process: etree._Element) -> str | None:
    tag = (process.get(f"{{{CAMUNDA_NS}}}versionTag") or "").strip()
    if not tag:
        found = process.xpath("./bpmn:extensionElements/zeebe:versionTag", namespaces=NSMAP)
        tag = (found[0].get("value") or "").strip() if found else ""
    return tag or None


def _describe(parser: OmniflowParser, process: etree._Element, file: str, xml: bytes,
              embedded: set[str]) -> ProcessDefinition:
    key = process.get("id")
    called, decisions, connectors, messages, starts, topics = set(), set(), set(), set(), set(), set()
    seen = set()
    call_bindings, decision_bindings = [], []
    for spec in _specs_of(parser, key):
        if spec.name in seen or (spec.name != key and spec.name not in embedded):
            continue  # a called process is described by its own definition
        seen.add(spec.name)
        for task_spec in spec.task_specs.values():
            if isinstance(task_spec, CallActivity):
                called.add(task_spec.spec)
                if getattr(task_spec, "binding", None) is not None:
                    call_bindings.append({"element": task_spec.bpmn_id, "ref": task_spec.spec,
                                          "binding": task_spec.binding.as_dict()})
            elif isinstance(task_spec, DecisionTask):
                decisions.add(task_spec.decision_ref)
                if task_spec.binding is not None:
                    decision_bindings.append({"element": task_spec.bpmn_id,
                                              "ref": task_spec.decision_ref,
                                              "binding": task_spec.binding.as_dict()})
            elif isinstance(task_spec, ConnectorTask):
                connectors.add(task_spec.connector)
            elif isinstance(task_spec, ExternalTask):
                topics.add(task_spec.topic)
            definition = getattr(task_spec, "event_definition", None)
            if isinstance(task_spec, (CatchingEvent, ThrowingEvent)) and definition is not None:
                definitions = definition.event_definitions if isinstance(
                    definition, MultipleEventDefinition) else [definition]
                names = {d.name for d in definitions if isinstance(d, CorrelatedMessage)}
                messages.update(names)
                if spec.name == key and isinstance(task_spec, StartEvent):
                    starts.update(names)
    timer, timer_kind = _timer_start(process)
    notes = tuple(f"{n['element']} (line {n['line']}): {n['note']}" for n in parser.notes)
    return ProcessDefinition(
        key=key, name=process.get("name") or key, file=file, xml=xml,
        called_processes=tuple(sorted(called)), decision_refs=tuple(sorted(decisions)),
        connectors=tuple(sorted(connectors | topics)), message_names=tuple(sorted(messages)),
        message_starts=tuple(sorted(starts)), external_topics=tuple(sorted(topics)),
        timer_start=timer, timer_start_kind=timer_kind,
        bindings={"bindings": {k: v.as_dict() for k, v in parser.bindings_for(file).items()}}
        if parser.bindings_for(file) else {},
        decision_bindings=tuple(decision_bindings), call_bindings=tuple(call_bindings),
        version_tag=_version_tag(process),
        notes=notes,
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


def _parse_file(name: str, content: bytes, max_bytes: int, bindings: Any) -> list[ProcessDefinition]:
    root = load_xml(name, content, max_bytes)
    _check_ids(name, root)
    processes = [p for p in root.findall(f"{{{BPMN_NS}}}process")
                 if p.get("isExecutable", "true") != "false"]
    if not processes:
        first = root.find(f"{{{BPMN_NS}}}process")
        raise _invalid("no executable bpmn:process in this file (isExecutable=\"true\")", name,
                       first.get("id") if first is not None else None,
                       first.sourceline if first is not None else None)
    embedded = {n.get("id") for n in root.iter(f"{{{BPMN_NS}}}subProcess",
                                                f"{{{BPMN_NS}}}transaction")}
    parser = OmniflowParser(bindings={name: bindings} if bindings is not None else None)
    try:
        parser.add_bpmn_xml(root, filename=name)
        for process in processes:
            _check_cycles(parser, process.get("id"), name, root, embedded)
        return [_describe(parser, p, name, bytes(content), embedded) for p in processes]
    except ValidationException as exc:
        raise _translate(name, root, exc) from exc
    except (SpiffWorkflowException, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise _invalid(f"cannot parse process: {exc}", name) from exc


def parse_definitions(files: Mapping[str, bytes], *, max_bytes: int = DEFAULT_MAX_BYTES,
                      bindings: Mapping[str, Any] | None = None) -> list[ProcessDefinition]:
    """Validate BPMN files and return the executable processes they define.

    ``bindings`` maps a BPMN file name to its connector bindings document (bytes, text or a
    parsed dict; see ``bindings``; ``bindings.pair_bindings`` pairs the files of a deployment).
    Raises :class:`DefinitionInvalid` (``file``, ``element``, ``line``) for the first fault,
    including a process id defined twice across the files.
    """
    found: list[ProcessDefinition] = []
    owners: dict[str, str] = {}
    bindings = dict(bindings or {})
    for name, content in files.items():
        if name in bindings:
            try:
                parse_bindings(name, bindings[name])
            except BindingsInvalid as exc:
                raise _invalid(str(exc), name) from exc
        for definition in _parse_file(name, content, max_bytes, bindings.get(name)):
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
