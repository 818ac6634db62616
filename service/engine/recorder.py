"""Collect what happened during a run as :class:`EngineEvent` values for the audit trail.

Two sources, because SpiffWorkflow has no single place where everything passes:

* spec hooks (``SPEC_HOOKS``): stateless functions attached to every task spec's
  ``completed_event``/``cancelled_event`` by the library; they find this recorder through the
  task's workflow, so shared specs never hold per-instance state. They report completions in
  the order they happen (user task completed, script run, gateway flow taken, timer fired,
  message received);
* a scan after each operation (``scan``) for what has no hook: user tasks that became ready,
  timers and message catches that started waiting. Each is announced once; the announcement is
  remembered in the task's ``internal_data`` so a reloaded instance does not announce it again.

The decision and connector ports report their own calls (``emit``) from the script engine.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from SpiffWorkflow.bpmn.specs.event_definitions.conditional import ConditionalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import SignalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.simple import TerminateEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent, ThrowingEvent
from SpiffWorkflow.bpmn.specs.mixins.script_task import ScriptTask
from SpiffWorkflow.util.task import TaskState

from .tasks import HumanTask
from .timers import parse_when
from .views import EngineEvent

__all__ = ["ANNOUNCED_KEY", "Recorder", "SPEC_HOOKS", "json_safe"]

_ANNOUNCED = ANNOUNCED_KEY = "omniflow_announced"


def json_safe(value: Any) -> Any:
    """Return a JSON-friendly copy of ``value`` (datetimes as ISO text, unknowns as ``str``)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [json_safe(v) for v in value]
    if isinstance(value, datetime) or hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _element(task: Any) -> tuple[str | None, str | None]:
    spec = task.task_spec
    return getattr(spec, "bpmn_id", None), getattr(spec, "bpmn_name", None)


def _definitions(task: Any) -> list:
    definition = getattr(task.task_spec, "event_definition", None)
    if isinstance(definition, MultipleEventDefinition):
        return list(definition.event_definitions)
    return [definition] if definition is not None else []


class Recorder:
    """The event list of one instance while it is loaded."""

    def __init__(self, now: Callable[[], datetime]):
        self._now = now
        self.events: list[EngineEvent] = []
        self.actor: str | None = None
        self.submitted: dict | None = None
        self.terminated = False

    def emit(self, kind: str, task: Any = None, **detail: Any) -> None:
        element_id, element_name = _element(task) if task is not None else (None, None)
        if task is not None:
            detail.setdefault("task_id", str(task.id))
        self.events.append(EngineEvent(kind, element_id, element_name, json_safe(detail), self._now()))

    def drain(self) -> list[EngineEvent]:
        events, self.events = self.events, []
        return events

    # -- hooks ------------------------------------------------------------------------------

    def completed(self, task: Any) -> None:
        spec = task.task_spec
        if getattr(spec, "bpmn_id", None) is None:
            return  # engine-internal task (Start, EndJoin, boundary split/join)
        if isinstance(spec, HumanTask):
            self.emit("task_completed", task, actor=self.actor, data=self.submitted or {})
        elif isinstance(spec, ScriptTask):
            self.emit("script_run", task)
        elif getattr(spec, "omniflow_flows", None) is not None:
            for child in task.children:
                if child.has_state(TaskState.DEFINITE_MASK | TaskState.FINISHED_MASK):
                    flow = spec.omniflow_flows.get(child.task_spec.name, {})
                    target = getattr(child.task_spec, "bpmn_id", None) or child.task_spec.name.split(".")[0]
                    self.emit("gateway_taken", task, target=target, **flow)
        elif isinstance(spec, CatchingEvent):
            for definition in _definitions(task):
                if isinstance(definition, TimerEventDefinition):
                    self.emit("timer_fired", task, timer=definition.name)
                elif isinstance(definition, MessageEventDefinition):
                    self.emit("message_received", task, message=definition.name)
        if isinstance(spec, EndEvent) and isinstance(getattr(spec, "event_definition", None),
                                                      TerminateEventDefinition):
            self.terminated = True
        if isinstance(spec, ThrowingEvent):
            for definition in _definitions(task):
                if isinstance(definition, MessageEventDefinition):
                    self.emit("message_sent", task, message=definition.name)

    def cancelled(self, task: Any) -> None:
        if isinstance(task.task_spec, HumanTask) and task.internal_data.get(_ANNOUNCED):
            self.emit("task_cancelled", task)

    # -- scan -------------------------------------------------------------------------------

    def scan(self, workflow: Any, on_ready: Callable[[Any], dict]) -> None:
        """Announce newly ready human tasks and newly waiting timers, messages, signals and
        conditions (so a case's timeline always says what it waits for)."""
        for task in workflow.get_tasks(state=TaskState.READY, manual=True):
            if isinstance(task.task_spec, HumanTask) and not task.internal_data.get(_ANNOUNCED):
                task.internal_data[_ANNOUNCED] = True
                self.emit("task_ready", task, **on_ready(task))
        for task in list(workflow.event_manager.tasks.values()):
            if not task.has_state(TaskState.WAITING):
                continue
            for definition in _definitions(task):
                if isinstance(definition, TimerEventDefinition):
                    due = timer_due(task)
                    if due is not None and task.internal_data.get(_ANNOUNCED) != due.isoformat():
                        task.internal_data[_ANNOUNCED] = due.isoformat()
                        self.emit("timer_set", task, due=due, timer=definition.name)
                elif isinstance(definition, MessageEventDefinition):
                    if not task.internal_data.get(_ANNOUNCED):
                        task.internal_data[_ANNOUNCED] = True
                        self.emit("message_waiting", task, message=definition.name,
                                  correlation=task.internal_data.get("correlation", {}))
                elif isinstance(definition, (SignalEventDefinition, ConditionalEventDefinition)):
                    if not task.internal_data.get(_ANNOUNCED):
                        task.internal_data[_ANNOUNCED] = True
                        if isinstance(definition, SignalEventDefinition):
                            self.emit("signal_waiting", task, signal=definition.name)
                        else:
                            self.emit("condition_waiting", task, condition=definition.expression)


def timer_due(task: Any) -> datetime | None:
    """Return when a waiting timer task fires next, from the value its definition stored."""
    value = task.internal_data.get("event_value")
    if isinstance(value, dict):
        if value.get("cycles") == 0:
            return None
        value = value.get("next")
    if not value:
        return None
    try:
        return parse_when(value)
    except ValueError:
        return None


def _on_completed(workflow: Any, task: Any) -> None:
    recorder = getattr(workflow.script_engine, "recorder", None)
    if recorder is not None:
        recorder.completed(task)


def _on_cancelled(workflow: Any, task: Any) -> None:
    recorder = getattr(workflow.script_engine, "recorder", None)
    if recorder is not None:
        recorder.cancelled(task)


SPEC_HOOKS: tuple[tuple[str, Callable], ...] = (
    ("completed_event", _on_completed),
    ("cancelled_event", _on_cancelled),
)
