"""Read what a Camunda 8 (Zeebe) element says (``zeebe:`` extension elements).

Camunda 8 expressions are FEEL and start with ``=``; a value without ``=`` is a constant. Job
types, called process ids and decision ids must be constants here: they name what the
deployment must provide, which is checked at deploy.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..io_mapping import IoMapping, Literal, Parameter
from . import NSMAP, ModelError, ZEEBE_NS

__all__ = ["AssignmentText", "CalledDecision", "CalledElement", "Job", "LoopSpec", "assignment",
           "called_decision", "called_element", "correlation_key", "form", "io_mapping", "job",
           "listener_notes", "loop", "properties", "script"]

_Z = "{" + ZEEBE_NS + "}"


def _ext(node: Any, name: str) -> Any:
    found = node.xpath(f"./bpmn:extensionElements/zeebe:{name}", namespaces=NSMAP)
    return found[0] if found else None


def _value(text: str | None) -> Any:
    if text is None:
        return Literal(None)
    stripped = text.strip()
    return stripped if stripped.startswith("=") else Literal(text)


def _constant(node: Any, attribute: str, what: str) -> str | None:
    value = (node.get(attribute) or "").strip()
    if value.startswith("="):
        raise ModelError(f"a {what} given as an expression ({value!r}) is not supported: it must "
                         "name what the deployment provides", node)
    return value or None


@dataclass(frozen=True)
class Job:
    """A ``zeebe:taskDefinition``: the job type workers subscribe to, and the retries hint."""

    type: str
    retries: int | None
    headers: dict


def job(node: Any) -> Job | None:
    definition = _ext(node, "taskDefinition")
    if definition is None:
        return None
    job_type = _constant(definition, "type", "job type")
    if not job_type:
        raise ModelError("zeebe:taskDefinition needs a type", definition)
    retries = (definition.get("retries") or "").strip()
    if retries and not retries.isdigit():
        raise ModelError(f"retries {retries!r} must be a whole number", definition)
    headers = {h.get("key"): h.get("value", "") for h in
               node.xpath("./bpmn:extensionElements/zeebe:taskHeaders/zeebe:header", namespaces=NSMAP)
               if h.get("key")}
    return Job(job_type, int(retries) if retries else None, headers)


def io_mapping(node: Any) -> IoMapping:
    found = _ext(node, "ioMapping")
    if found is None:
        return IoMapping()
    params = {"input": [], "output": []}
    for child in found:
        kind = child.tag[len(_Z):] if isinstance(child.tag, str) and child.tag.startswith(_Z) else None
        if kind in params:
            if not child.get("target"):
                raise ModelError(f"a zeebe:{kind} mapping needs a target", child)
            params[kind].append(Parameter(child.get("target").strip(), _value(child.get("source"))))
    return IoMapping(tuple(params["input"]), tuple(params["output"]))


@dataclass(frozen=True)
class AssignmentText:
    assignee: str | None = None
    candidate_groups: str | None = None
    candidate_users: str | None = None
    due_date: str | None = None
    follow_up_date: str | None = None


def assignment(node: Any) -> AssignmentText | None:
    """``zeebe:assignmentDefinition`` and ``zeebe:taskSchedule`` (None when neither is there)."""
    definition, schedule = _ext(node, "assignmentDefinition"), _ext(node, "taskSchedule")
    if definition is None and schedule is None:
        return None
    get = (lambda n, a: (n.get(a) or "").strip() or None)
    return AssignmentText(
        assignee=get(definition, "assignee") if definition is not None else None,
        candidate_groups=get(definition, "candidateGroups") if definition is not None else None,
        candidate_users=get(definition, "candidateUsers") if definition is not None else None,
        due_date=get(schedule, "dueDate") if schedule is not None else None,
        follow_up_date=get(schedule, "followUpDate") if schedule is not None else None,
    )


def is_user_task(node: Any) -> bool:
    return _ext(node, "userTask") is not None


def form(node: Any) -> tuple[str | None, str | None]:
    """``(form key or id, embedded form JSON)`` of a Camunda 8 user task or start event."""
    definition = _ext(node, "formDefinition")
    key = None
    if definition is not None:
        key = (definition.get("formKey") or definition.get("formId")
               or definition.get("externalReference"))
    embedded = None
    if key and key.startswith("camunda-forms:bpmn:"):
        form_id = key.split(":", 2)[2]
        found = node.xpath(f"//zeebe:userTaskForm[@id='{form_id}']", namespaces=NSMAP)
        embedded = (found[0].text or "") if found else None
    return key, embedded


@dataclass(frozen=True)
class CalledDecision:
    decision_id: str
    result_variable: str | None


def called_decision(node: Any) -> CalledDecision | None:
    found = _ext(node, "calledDecision")
    if found is None:
        return None
    decision = _constant(found, "decisionId", "decision id")
    if not decision:
        raise ModelError("zeebe:calledDecision needs a decisionId", found)
    return CalledDecision(decision, (found.get("resultVariable") or "").strip() or None)


@dataclass(frozen=True)
class CalledElement:
    process_id: str
    propagate_child: bool
    propagate_parent: bool


def called_element(node: Any) -> CalledElement | None:
    found = _ext(node, "calledElement")
    if found is None:
        return None
    process_id = _constant(found, "processId", "called process id")
    if not process_id:
        raise ModelError("zeebe:calledElement needs a processId", found)
    return CalledElement(process_id,
                         (found.get("propagateAllChildVariables") or "true").lower() != "false",
                         (found.get("propagateAllParentVariables") or "true").lower() != "false")


def script(node: Any) -> tuple[str, str | None] | None:
    """``zeebe:script``: the FEEL expression and the variable its value goes into."""
    found = _ext(node, "script")
    if found is None:
        return None
    expression = (found.get("expression") or "").strip()
    if not expression.startswith("="):
        raise ModelError("zeebe:script needs a FEEL expression starting with '='", found)
    return expression, (found.get("resultVariable") or "").strip() or None


def correlation_key(message: Any) -> str | None:
    """The ``zeebe:subscription correlationKey`` of a ``bpmn:message`` (a FEEL expression)."""
    found = _ext(message, "subscription")
    if found is None:
        return None
    key = (found.get("correlationKey") or "").strip()
    return key or None


@dataclass(frozen=True)
class LoopSpec:
    collection: str
    element: str | None
    output_collection: str | None
    output_element: str | None


def loop(characteristics: Any) -> LoopSpec | None:
    found = characteristics.xpath("./bpmn:extensionElements/zeebe:loopCharacteristics",
                                  namespaces=NSMAP)
    if not found:
        return None
    node = found[0]
    collection = (node.get("inputCollection") or "").strip()
    if not collection:
        raise ModelError("zeebe:loopCharacteristics needs an inputCollection", node)
    get = (lambda a: (node.get(a) or "").strip() or None)
    return LoopSpec(collection, get("inputElement"), get("outputCollection"), get("outputElement"))


def properties(node: Any) -> dict[str, str]:
    return {p.get("name"): p.get("value", "") for p in
            node.xpath("./bpmn:extensionElements/zeebe:properties/zeebe:property", namespaces=NSMAP)
            if p.get("name")}


def listener_notes(node: Any) -> list[str]:
    return [f"zeebe:executionListener '{n.get('eventType')}' (job {n.get('type')!r}) is not run"
            for n in node.xpath("./bpmn:extensionElements/zeebe:executionListeners/"
                                "zeebe:executionListener", namespaces=NSMAP)]
