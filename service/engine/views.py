"""Value objects the engine hands out: task views and events.

They are frozen snapshots in plain Python values, so the caller can store or render them without
holding on to SpiffWorkflow objects (which are mutable and tied to one loaded instance).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["EngineEvent", "EVENT_KINDS", "UserTaskView", "WaitingMessage"]

EVENT_KINDS = frozenset({
    "task_ready", "task_completed", "gateway_taken", "timer_set", "timer_fired", "script_run",
    "decision_evaluated", "connector_called", "message_waiting", "message_received",
    "process_completed", "process_cancelled", "error", "task_cancelled", "message_sent",
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
    """A message catch the instance waits for: ``name`` plus the values it is correlated by."""

    name: str
    correlation: dict[str, Any]
    element_id: str
    task_id: str

    def __iter__(self):
        # Unpacks as the (name, correlation) pair the API promises.
        return iter((self.name, self.correlation))
