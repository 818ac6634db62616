"""Find what catches a BPMN error our code throws, the way Camunda looks for it, and interrupt.

An external worker's ``bpmnError`` or a connector's coded failure is caught by, in order:

1. an error boundary event of the activity with that code (one without a code catches any);
2. an error event sub-process of the activity's scope (its process or sub-process);
3. then the same, one scope up: the sub-process or call activity that runs this scope, and so on
   to the process.

SpiffWorkflow creates an event sub-process only when it is triggered, and never interrupts its
scope: :func:`route_error` triggers it, and :data:`INTERRUPT_HOOKS` cancel the rest of the scope
once an interrupting event sub-process's start event has run (for every kind of start event:
error, message, timer, conditional, signal, escalation).
"""
from __future__ import annotations

from typing import Any, Callable

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import EventSubprocess
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.util.task import TaskState

from .spiff_compat import refresh

__all__ = ["INTERRUPT_HOOKS", "route_error", "trigger_event_subprocess"]


def _codes_match(definition: Any, code: str) -> int:
    """2 for the same code, 1 for a catch-all, 0 otherwise."""
    if not isinstance(definition, ErrorEventDefinition):
        return 0
    if definition.code in (None, ""):
        return 1
    return 2 if definition.code == code else 0


def _payload(definition: Any, code: str, message: str | None, variables: dict) -> dict:
    payload = dict(variables)
    code_variable = getattr(definition, "code_variable", None)
    message_variable = getattr(definition, "message_variable", None)
    if code_variable:
        payload[code_variable] = code
    if message_variable:
        payload[message_variable] = message
    return payload


def _boundary(task: Any, code: str, message: str | None, variables: dict) -> bool:
    parent = task.parent
    if parent is None or not isinstance(parent.task_spec, BoundaryEventSplit):
        return False
    candidates = [(_codes_match(getattr(c.task_spec, "event_definition", None), code), c)
                  for c in parent.children
                  if isinstance(c.task_spec, BoundaryEvent) and c.state == TaskState.WAITING]
    candidates = [(rank, c) for rank, c in candidates if rank]
    if not candidates:
        return False
    _, boundary = max(candidates, key=lambda pair: pair[0])
    _deliver(boundary, code, message, variables)
    return True


def _deliver(task: Any, code: str, message: str | None, variables: dict) -> None:
    """Let ``task`` (a waiting catch) catch the error; its variables become process variables
    on that path, as Camunda sets them (SpiffWorkflow's own definition keeps the payload only
    under a ``spiffworkflow:variableName``)."""
    definition = task.task_spec.event_definition
    payload = _payload(definition, code, message, variables)
    task.task_spec.catch(task, BpmnEvent(definition, payload))
    refresh(task)
    task.data.update(payload)


def trigger_event_subprocess(workflow: Any, matches: Callable[[Any], int]) -> tuple[Any, Any] | None:
    """Create the best-matching event sub-process of ``workflow`` whose start event definition
    ``matches`` (a rank, 0 for no); return ``(start event task, definition)`` or None."""
    best = None
    top = workflow.top_workflow
    for name in workflow.spec.start.trigger_specs:
        sp_spec = top.subprocess_specs.get(name)
        for start in (sp_spec.bpmn_start_events if sp_spec is not None else ()):
            rank = matches(start.event_definition)
            if rank and (best is None or rank > best[0]):
                best = (rank, sp_spec, start)
    if best is None:
        return None
    _, sp_spec, start = best
    child_id = workflow.spec.start.trigger_wf(workflow.task_tree, sp_spec.name)
    subprocess = top.subprocesses.get(child_id)
    if subprocess is None:
        return None
    # The start event waits for its event, or is ready already (a condition that holds now).
    task = subprocess.get_next_task(state=TaskState.WAITING | TaskState.READY, spec_name=start.name)
    return (task, start.event_definition) if task is not None else None


def route_error(task: Any, code: str, message: str | None = None,
                variables: dict | None = None) -> bool:
    """Deliver BPMN error ``code`` thrown at ``task`` to what catches it; False if nothing does."""
    variables = dict(variables or {})
    current = task
    while current is not None:
        if _boundary(current, code, message, variables):
            return True
        workflow = current.workflow
        started = trigger_event_subprocess(workflow, lambda d: _codes_match(d, code))
        if started is not None:
            start_task, _ = started
            if start_task.state == TaskState.WAITING:
                _deliver(start_task, code, message, variables)
            return True
        if workflow.parent_task_id is None:
            return False
        current = workflow.top_workflow.get_task_from_id(workflow.parent_task_id)
    return False


def _interrupt_scope(workflow: Any, task: Any) -> None:
    """An interrupting event sub-process started: cancel everything else in its parent scope."""
    spec = task.task_spec
    if not isinstance(spec, StartEvent) or not getattr(spec, "interrupting", False):
        return
    sub = task.workflow
    if sub.parent_task_id is None:
        return
    owner = sub.top_workflow.get_task_from_id(sub.parent_task_id)
    if owner is None or not isinstance(owner.task_spec, EventSubprocess):
        return
    scope = owner.workflow
    for child in list(scope.task_tree.children):
        if child.id != owner.id:
            child.cancel()


#: Connected to every spec's ``completed_event`` by ``library.finalize``.
INTERRUPT_HOOKS: tuple[tuple[str, Callable], ...] = (("completed_event", _interrupt_scope),)
