"""The diagram of a case: its process (BPMN XML) and where the case went on it.

``GET /cases/{id}/diagram`` answers the XML of the version the case runs on and a map
``element id -> completed | active | incident``, derived from what is recorded, never from a
deserialized workflow: the audit trail says which elements ran (tasks completed, scripts run,
decisions evaluated, gateways and the flow they took, timers fired, messages, connector calls),
the inbox and the subscriptions say what waits now, the incident table what failed. ``path`` is
the order in which the elements ran, for the timeline beside the diagram.
"""
from __future__ import annotations

from lxml import etree

from ..errors import NotFound
from ..store import AuditEvent, Incident, Instance, MessageSubscription, Task
from .cases import OPEN_TASK, require_visible

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
# Audit kinds whose element ran to its end.
RAN = {"engine.task_completed", "engine.script_run", "engine.decision_evaluated",
       "engine.gateway_taken", "engine.timer_fired", "engine.message_received",
       "engine.message_sent", "engine.connector_called", "task.completed",
       "engine.external_task_completed", "engine.bpmn_error_thrown",
       "engine.compensation_started"}
COMPLETED, ACTIVE, INCIDENT = "completed", "active", "incident"


def diagram(who, case_id: int) -> dict:
    case = require_visible(who, case_id)
    definition = case.definition
    if definition is None:
        raise NotFound(f"case {case_id} has no process diagram", case=case_id)
    model = _Model(definition.source)
    elements: dict[str, str] = {}
    path: list[str] = []
    fired_timers, set_timers = set(), set()
    for e in (AuditEvent.select(AuditEvent.kind, AuditEvent.detail)
              .where(AuditEvent.case_id == case.id).order_by(AuditEvent.seq)):
        element = (e.detail or {}).get("element_id")
        if e.kind == "engine.timer_set" and element:
            set_timers.add(element)
        if e.kind not in RAN or not element:
            continue
        if e.kind == "engine.timer_fired":
            fired_timers.add(element)
        elements[element] = COMPLETED
        if not path or path[-1] != element:
            path.append(element)
        flow = e.detail.get("flow_id")
        if e.kind == "engine.gateway_taken" and flow:
            elements[flow] = COMPLETED
    for start in model.starts:
        elements.setdefault(start, COMPLETED)
        if start not in path:
            path.insert(0, start)
    waiting = [t.element_id for t in Task.select(Task.element_id).where(
        Task.case == case.id, Task.status.in_(OPEN_TASK))]
    waiting += [s.element_id for s in MessageSubscription.select(MessageSubscription.element_id)
                .join(Instance).where(Instance.case == case.id) if s.element_id]
    for element in waiting:
        elements[element] = ACTIVE
    if case.status in ("open", "incident"):
        for timer in set_timers - fired_timers:
            host = model.attached_to.get(timer)
            if host is None or elements.get(host) == ACTIVE:
                elements[timer] = ACTIVE
    if case.status == "completed":
        for end in model.ends:
            if any(elements.get(model.source_of.get(f)) == COMPLETED for f in model.incoming[end]):
                elements[end] = COMPLETED
                path.append(end)
    for row in Incident.select(Incident.element_id).where(Incident.case == case.id,
                                                          Incident.status == "open"):
        if row.element_id:
            elements[row.element_id] = INCIDENT
    for flow, (source, target) in model.flows.items():
        if flow in elements or source in model.gateways:
            continue
        if elements.get(source) == COMPLETED and target in elements:
            elements[flow] = COMPLETED
    _lift_into_sub_processes(elements, model.parent)
    return {"case_id": case.id, "case_status": case.status,
            "definition": {"key": definition.key, "version": definition.version,
                           "file": definition.file},
            "xml": definition.source, "elements": elements, "path": path,
            # Every element with a state, not only the path: a page naming where an incident
            # or a wait is needs the name of an element the path has not passed.
            "names": {e: model.names[e] for e in (*path, *elements) if model.names.get(e)}}


_RANK = {COMPLETED: 0, ACTIVE: 1, INCIDENT: 2}


def _lift_into_sub_processes(elements: dict[str, str], parent: dict[str, str]) -> None:
    """A sub-process shows the most pressing state inside it (incident, then waiting, then
    done), so a collapsed one on the diagram still says where the case is."""
    for element, state in list(elements.items()):
        up = parent.get(element)
        while up is not None:
            if up not in elements or _RANK[state] > _RANK[elements[up]]:
                elements[up] = state
            up = parent.get(up)


class _Model:
    """The few facts of the process graph the marking needs (flows, starts, ends, timers)."""

    def __init__(self, source: str):
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                                 huge_tree=False)
        root = etree.fromstring(source.encode("utf-8"), parser)
        self.flows, self.source_of, self.attached_to, self.names = {}, {}, {}, {}
        self.incoming: dict[str, list[str]] = {}
        for node in root.iter(f"{BPMN}sequenceFlow"):
            fid, src, tgt = node.get("id"), node.get("sourceRef"), node.get("targetRef")
            self.flows[fid] = (src, tgt)
            self.source_of[fid] = src
            self.incoming.setdefault(tgt, []).append(fid)
        for node in root.iter():
            if isinstance(node.tag, str) and node.get("id") and node.get("name"):
                self.names[node.get("id")] = node.get("name")
        self.starts = [n.get("id") for process in root.iter(f"{BPMN}process")
                       for n in process.findall(f"{BPMN}startEvent")]
        self.ends = [n.get("id") for n in root.iter(f"{BPMN}endEvent")]
        for end in self.ends:
            self.incoming.setdefault(end, [])
        for node in root.iter(f"{BPMN}boundaryEvent"):
            self.attached_to[node.get("id")] = node.get("attachedToRef")
        self.parent = {child.get("id"): sub.get("id")
                       for sub in root.iter(f"{BPMN}subProcess", f"{BPMN}transaction")
                       for child in sub if isinstance(child.tag, str) and child.get("id")}
        self.gateways = {n.get("id") for tag in ("exclusiveGateway", "inclusiveGateway",
                                                  "eventBasedGateway")
                         for n in root.iter(f"{BPMN}{tag}")}


__all__ = ["ACTIVE", "COMPLETED", "INCIDENT", "diagram"]
