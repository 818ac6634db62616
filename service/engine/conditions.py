"""Conditional events: evaluated when the process's variables may have changed.

SpiffWorkflow evaluates a conditional event once, against the waiting task's own copy of the
data, and never again, so a conditional boundary, intermediate or event sub-process start event
never fires on a later change. Camunda re-evaluates them whenever variables change. We do the
same at the points where variables can change, after every run of automatic steps
(:func:`refresh`, called by the instance until nothing more fires):

* waiting intermediate and boundary conditional events are re-evaluated (:class:`WatchedCondition`
  reads the *current* variables: the merged data of the live tasks of its process or sub-process,
  not the snapshot it took when it started waiting);
* conditional start events of event sub-processes are evaluated in every active scope and
  trigger their sub-process when the condition turns true (false to true: a condition that stays
  true does not start a second one).
"""
from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.conditional import ConditionalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

from service.errors import EngineFailure

from .catching import trigger_event_subprocess
from .expressions import ExpressionError
from .juel import JuelEvaluationError
from .spiff_compat import refresh as refresh_task

__all__ = ["WatchedCondition", "live_data", "refresh"]

_STATE = "omniflow_conditions"
MAX_ROUNDS = 50


def live_data(workflow: Any, base: dict | None = None) -> dict:
    """The variables of a (sub-)process now: its live tasks' data merged, oldest change first."""
    merged: dict = {}
    if workflow.parent_task_id is not None:                 # a sub-process sees its parent's
        owner = workflow.top_workflow.get_task_from_id(workflow.parent_task_id)
        if owner is not None:
            DeepMerge.merge(merged, live_data(owner.workflow))
    if base:
        DeepMerge.merge(merged, base)
    live = [t for t in workflow.tasks.values() if t.has_state(TaskState.DEFINITE_MASK)]
    for task in sorted(live, key=lambda t: t.last_state_change):
        if isinstance(task.task_spec, UnstructuredJoin) and task.parent is not None:
            DeepMerge.merge(merged, task.parent.data)   # a branch's data waits in the join's input
        DeepMerge.merge(merged, task.data)
    return merged


def _holds(task: Any, expression: str, data: dict) -> bool:
    """Evaluate a condition; one that reads a variable that does not exist yet is false
    (Camunda's ``tryEvaluate``: the event waits for the variable to appear)."""
    try:
        return bool(task.workflow.script_engine.evaluate_in(task, expression, data))
    except EngineFailure as exc:
        cause = exc.__cause__
        if isinstance(cause, JuelEvaluationError) and "cannot resolve identifier" in str(cause):
            return False
        if isinstance(cause, (NameError, ExpressionError)):
            return False
        raise


class WatchedCondition(ConditionalEventDefinition):
    """A conditional event definition evaluated against the current variables."""

    def has_fired(self, my_task):
        if my_task.internal_data.get("event_fired", False):
            return True
        return _holds(my_task, self.expression, live_data(my_task.workflow, my_task.data))


def _definitions(task: Any) -> list:
    definition = getattr(task.task_spec, "event_definition", None)
    if isinstance(definition, MultipleEventDefinition):
        return list(definition.event_definitions)
    return [definition] if definition is not None else []


def _waiting_conditionals(workflow: Any) -> list:
    return [t for t in list(workflow.event_manager.tasks.values())
            if t.state == TaskState.WAITING
            and any(isinstance(d, WatchedCondition) for d in _definitions(t))]


def _scopes(workflow: Any) -> list:
    return [workflow] + [sp for sp in workflow.subprocesses.values() if not sp.completed]


def _start_conditions(scope: Any) -> bool:
    """Trigger event sub-processes of ``scope`` whose conditional start turned true."""
    start = getattr(scope.spec, "start", None)
    if start is None or not getattr(start, "trigger_specs", None):
        return False
    state = scope.task_tree.internal_data.setdefault(_STATE, {})
    fired = False
    for name in list(start.trigger_specs):
        sp_spec = scope.top_workflow.subprocess_specs.get(name)
        for event in (sp_spec.bpmn_start_events if sp_spec is not None else ()):
            definition = event.event_definition
            if not isinstance(definition, WatchedCondition):
                continue
            try:
                now = _holds(scope.task_tree, definition.expression, live_data(scope))
            except EngineFailure as exc:
                raise EngineFailure(f"conditional start event {event.bpmn_id!r}: {exc.detail}",
                                    element=event.bpmn_id) from exc
            was = state.get(event.name, False)
            state[event.name] = now
            if now and not was:
                started = trigger_event_subprocess(scope, lambda d, target=definition: int(d is target))
                if started is not None:
                    task, found = started
                    if task.state == TaskState.WAITING:
                        task.task_spec.catch(task, BpmnEvent(found))
                        refresh_task(task)
                    fired = True
    return fired


def refresh(workflow: Any) -> bool:
    """Re-evaluate every conditional event of the instance; return whether any fired."""
    fired = False
    for task in _waiting_conditionals(workflow):
        refresh_task(task)
        fired = fired or task.state != TaskState.WAITING
    for scope in _scopes(workflow):
        fired = _start_conditions(scope) or fired
    return fired
