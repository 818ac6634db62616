"""No silent stall: an instance that stops must be waiting for something someone can give it.

After every operation the engine has run every automatic step it could. If the process has not
ended, something must be able to move it on: a ready user task, an external task waiting for a
worker, or a waiting catch event for a timer, a message, a signal or a condition. If nothing
can, the instance would sit open forever with no task, no incident and nothing in the timeline
(a join waiting for a branch that never comes, a task type that waits for nobody). Such an
instance fails instead, naming the element where it stopped, so it becomes an incident.

A path that reaches an element without outgoing flows simply ends, as in Camunda (an *implicit
end*): a process or sub-process whose every task finished has ended even if no end event ran
(:func:`all_finished`, :func:`finish_implicit_ends`). And a scope ends when its own paths are
done even though an event sub-process of it still waits for its start (a timer): Camunda ends
the scope and its event sub-processes with it; SpiffWorkflow's end join would wait for that
timer forever (:func:`close_finished_scopes`).
"""
from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import SignalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import EventSubprocess
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

from .conditions import WatchedCondition
from .script_engine import EXTERNAL_KEY
from .spiff_compat import child_ids, is_end_join, refresh
from .tasks import HumanTask

__all__ = ["all_finished", "blocking_task", "close_finished_scopes", "finish_implicit_ends",
           "is_waiting"]

_TRIGGERS = (TimerEventDefinition, MessageEventDefinition, SignalEventDefinition, WatchedCondition)


def _definitions(task: Any) -> list:
    definition = getattr(task.task_spec, "event_definition", None)
    if isinstance(definition, MultipleEventDefinition):
        return list(definition.event_definitions)
    return [definition] if definition is not None else []


def _tasks(workflow: Any):
    for wf in [workflow, *workflow.subprocesses.values()]:
        yield from wf.tasks.values()


def is_waiting(task: Any) -> bool:
    """Whether ``task`` waits for something that can come from outside the engine."""
    if task.state == TaskState.READY:
        return isinstance(task.task_spec, HumanTask)
    if task.state == TaskState.STARTED:
        return EXTERNAL_KEY in task.internal_data
    if task.state == TaskState.WAITING:
        return any(isinstance(d, _TRIGGERS) for d in _definitions(task))
    return False


def blocking_task(workflow: Any) -> Any | None:
    """The task to blame when nothing waits and the workflow has not ended, else None.

    Prefers a ready task nobody will run, then a waiting join or event, then any unfinished task
    with a BPMN id.
    """
    unfinished = [t for t in _tasks(workflow) if not t.has_state(TaskState.FINISHED_MASK)
                  and t.has_state(TaskState.DEFINITE_MASK)]
    if any(is_waiting(t) for t in unfinished):
        return None
    for states in (TaskState.READY, TaskState.WAITING, TaskState.STARTED):
        for task in unfinished:
            if task.state == states and getattr(task.task_spec, "bpmn_id", None):
                return task
    for task in unfinished:
        if task.state & (TaskState.READY | TaskState.WAITING):
            return task
    return None


def all_finished(workflow: Any) -> bool:
    """Whether every task of this (sub-)workflow finished: a scan of the task table, which,
    unlike SpiffWorkflow's tree iterators, has no depth limit."""
    return all(t.has_state(TaskState.FINISHED_MASK) for t in workflow.tasks.values())


def merge_leaves(workflow: Any) -> None:
    """An implicit end: the workflow's data is what its last tasks left (newest wins)."""
    leaves = [t for t in workflow.tasks.values() if not child_ids(t) and t.state == TaskState.COMPLETED]
    for task in sorted(leaves, key=lambda t: t.last_state_change):
        DeepMerge.merge(workflow.data, task.data)


def finish_implicit_ends(workflow: Any) -> bool:
    """Complete running sub-processes whose paths all ended without an end event."""
    finished = False
    for sub in list(workflow.subprocesses.values()):
        if not sub.completed and sub.tasks and all_finished(sub):
            merge_leaves(sub)
            sub.completed = True
            sub.completed_event(sub)
            finished = True
    return finished


_ACTIVE = TaskState.READY | TaskState.STARTED | TaskState.WAITING | TaskState.ERROR


def _live(workflow: Any) -> list:
    """Tasks that are running or waiting (not merely predicted or FUTURE)."""
    return [t for t in workflow.tasks.values() if t.has_state(_ACTIVE)]


def _not_started(sub: Any) -> bool:
    """An event sub-process whose start event still waits: nothing of it has run."""
    return all(isinstance(t.task_spec, StartEvent) and t.state == TaskState.WAITING for t in _live(sub))


def close_finished_scopes(workflow: Any) -> bool:
    """Cancel event sub-processes still waiting to start in scopes whose own paths are done,
    so the scope ends (see the module docstring); return whether any was cancelled."""
    closed = False
    for scope in [workflow, *workflow.subprocesses.values()]:
        if scope.completed:
            continue
        waiting, done = [], True
        for task in _live(scope):
            spec = task.task_spec
            if isinstance(spec, EventSubprocess):
                sub = workflow.subprocesses.get(task.id)
                if sub is None or _not_started(sub):
                    waiting.append(task)
                    continue
            if is_end_join(spec):
                continue
            done = False
            break
        if done and waiting:
            for task in waiting:
                task.cancel()
            for task in _live(scope):
                if is_end_join(task.task_spec):
                    refresh(task)
            closed = True
    return closed
