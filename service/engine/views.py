"""Value objects the engine hands out: task views and events.

They are frozen snapshots in plain Python values, so the caller can store or render them without
holding on to SpiffWorkflow objects (which are mutable and tied to one loaded instance).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["EngineEvent", "EVENT_KINDS", "ExternalTaskView", "UserTaskView", "WaitingMessage",
           "correlatable"]

EVENT_KINDS = frozenset({
    "task_ready", "task_completed", "gateway_taken", "timer_set", "timer_fired", "script_run",
    "decision_evaluated", "connector_called", "message_waiting", "message_received",
    "process_completed", "process_cancelled", "error", "task_cancelled", "message_sent",
    "external_task_created", "external_task_completed", "bpmn_error_thrown",
    "compensation_started", "signal_waiting", "condition_waiting",
})


@dataclass(frozen=True)
class EngineEvent:
    """One thing that happened while the engine ran, for the audit trail.

    ``kind`` is one of :data:`EVENT_KINDS`; ``detail`` is JSON-friendly (task id, data written,
    decision record, connector result...). ``at`` comes from the runtime's clock.
    """

    kind: str
    element_id: str | None
    element_name: str | None
    detail: dict
    at: datetime


@dataclass(frozen=True)
class UserTaskView:
    """A ready human task as the inbox needs it; ``data`` is a copy of the task's data."""

    id: str
    element_id: str
    name: str
    lane: str | None
    candidate_groups: tuple[str, ...]
    candidate_users: tuple[str, ...]
    assignee: str | None
    due_at: datetime | None
    form: dict
    properties: dict
    data: dict = field(repr=False)
    process_key: str = ""
    follow_up_at: datetime | None = None


@dataclass(frozen=True)
class WaitingMessage:
    """A message catch the instance waits for: ``name`` plus the values it is correlated by.

    * ``keyed`` True: the catch declares its own correlation keys; ``correlation`` holds their
      values (``{"po_id": "PO-ok"}``) and a message matches when its correlation holds every one
      with an equal value.
    * ``keyed`` False (Camunda 7 and bpmn.io files: no key declared): ``correlation`` is ``{}``
      and ``variables`` holds the instance's process variables whose values are text, numbers or
      booleans. Camunda 7 then matches a message's correlation values (``{"po_id": "PO-ok"}``)
      against these variables, and its business key against the case's business key (the
      service's external reference); a message with neither matches any waiting instance.

    Deliver to this catch with ``Instance.deliver_message(name, payload, task_id=task_id)``.
    """

    name: str
    correlation: dict[str, Any]
    element_id: str
    task_id: str
    keyed: bool = True
    variables: dict[str, Any] = field(default_factory=dict)

    def __iter__(self):
        # Unpacks as the (name, correlation) pair the API promises.
        return iter((self.name, self.correlation))


def correlatable(data: dict) -> dict:
    """The variables a message may be correlated on: top-level text, number and boolean values."""
    return {k: v for k, v in data.items()
            if isinstance(k, str) and (v is None or isinstance(v, (str, int, float, bool)))}


@dataclass(frozen=True)
class ExternalTaskView:
    """An external task waiting for a worker (Camunda external task, Zeebe job).

    ``id`` is the engine task id to pass to ``complete_external``/``throw_bpmn_error``/
    ``fail_external``; ``variables`` are the task's variables (process variables and the
    task's input mappings); ``retries`` is the model's hint (Zeebe ``retries``), None when the
    model gives none; locks, retries left and workers are the service's.
    """

    id: str
    element_id: str
    name: str
    topic: str
    variables: dict = field(repr=False)
    retries: int | None
    priority: str | None
    headers: dict
    process_key: str
    created_at: datetime
