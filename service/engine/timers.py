"""Timer event definitions that read the runtime's clock and accept what modelers write.

SpiffWorkflow's timers call ``datetime.now()`` and evaluate the timer text as a Python
expression, so an unquoted ``PT4H`` from Camunda Modeler fails and tests cannot move time. These
subclasses:

* take ``now`` from the script engine (the runtime's injectable clock, or the ``now`` given to
  ``Instance.fire_due_timers``);
* accept ISO 8601 literals unquoted (``PT4H``, ``R3/PT1H``, ``2024-05-01T09:00:00Z``, a date),
  FEEL (``=duration("PT" + string(sla_hours) + "H")``), ``${var}`` and, failing those, a
  restricted Python expression (SpiffWorkflow's quoted-string convention keeps working);
* treat a date-time without an offset as UTC (SpiffWorkflow uses the server's local zone, which
  would make a deployment's behaviour depend on its host).

The due time is computed once, when the timer starts waiting, and kept in the task's
``internal_data['event_value']`` (as SpiffWorkflow does), so reloading an instance never moves it.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)

__all__ = ["ClockCycle", "ClockDuration", "ClockTimeDate", "due_of", "parse_when", "to_duration"]

_ISO_LITERAL = re.compile(r"^(R\d*/|P(?=\d|T)|\d{4}-\d{2}-\d{2})", re.I)


def _resolve(my_task: Any, text: str) -> Any:
    """Return the timer's value: an ISO literal as-is, otherwise the evaluated expression."""
    stripped = (text or "").strip()
    if _ISO_LITERAL.match(stripped):
        return stripped
    return my_task.workflow.script_engine.evaluate(my_task, stripped)


def _now(my_task: Any) -> datetime:
    return my_task.workflow.script_engine.now()


def parse_when(value: Any) -> datetime:
    """Turn an ISO date/date-time text, a date or a datetime into an aware UTC datetime."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime.combine(value, time(0, 0))
    else:
        text = str(value).strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


def to_duration(value: Any, start: datetime) -> timedelta:
    """Turn an ISO duration text (months and years counted from ``start``) or timedelta into a timedelta."""
    if isinstance(value, timedelta):
        return value
    parsed = TimerEventDefinition.parse_iso_duration(str(value).strip())
    return TimerEventDefinition.get_timedelta_from_start(parsed, start)


def due_of(value: Any, now: datetime) -> datetime:
    """Interpret a due-date value: ISO duration (relative to ``now``), date-time, or date."""
    if isinstance(value, timedelta):
        return now + value
    if isinstance(value, str) and value.strip().upper().startswith("P"):
        return now + to_duration(value, now)
    return parse_when(value)


class ClockTimeDate(TimeDateEventDefinition):
    """A timer at a fixed date-time."""

    def has_fired(self, my_task):
        event_value = my_task.internal_data.get("event_value")
        if event_value is None:
            event_value = parse_when(_resolve(my_task, self.expression)).isoformat()
            my_task.internal_data["event_value"] = event_value
        if parse_when(event_value) <= _now(my_task):
            my_task.internal_data["event_fired"] = True
        return my_task.internal_data.get("event_fired", False)


class ClockDuration(DurationTimerEventDefinition):
    """A timer that fires a duration after it starts waiting."""

    def has_fired(self, my_task):
        event_value = my_task.internal_data.get("event_value")
        now = _now(my_task)
        if event_value is None:
            value = _resolve(my_task, self.expression)
            event_value = (now + to_duration(value, now)).isoformat()
            my_task.internal_data["event_value"] = event_value
        if parse_when(event_value) <= now:
            my_task.internal_data["event_fired"] = True
        return my_task.internal_data.get("event_fired", False)


class ClockCycle(CycleTimerEventDefinition):
    """A repeating timer (``R3/PT1H``, ``R/PT1H`` forever, ``R2/2024-05-01T09:00:00Z/PT1H``).

    Each call fires at most one cycle; ``Instance.fire_due_timers`` loops so that a clock moved
    far ahead fires every cycle that fell due, in order. When the instance says its operation
    has used enough of its budget (``script_engine.may_fire_timers``), the cycles still due
    wait for the next operation instead.
    """

    def cycle_complete(self, my_task):
        if not my_task.workflow.script_engine.may_fire_timers():
            return False
        event_value = my_task.internal_data.get("event_value")
        now = _now(my_task)
        if event_value is None:
            cycles, start, duration = self._parse_cycle(_resolve(my_task, self.expression), now)
            event_value = {"cycles": cycles, "next": start.isoformat(),
                           "duration": duration.total_seconds()}

        ready = False
        if event_value["cycles"] != 0:
            next_event = datetime.fromisoformat(event_value["next"])
            if next_event <= now:
                event_value["next"] = (next_event + timedelta(seconds=event_value["duration"])).isoformat()
                event_value["cycles"] -= 1
                ready = True
        else:
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
            return False

        my_task.internal_data["event_value"] = event_value
        return ready

    @staticmethod
    def _parse_cycle(value: Any, now: datetime) -> tuple[int, datetime, timedelta]:
        components = str(value).strip().upper().replace("--", "/").lstrip("R").split("/")
        if len(components) < 2:
            raise ValueError(f"invalid repeating interval {value!r}")
        cycles = int(components[0]) if components[0] else -1
        first = components[1]
        if first.startswith("P"):
            duration = to_duration(first, now)
            if len(components) == 3:  # duration/end
                end = parse_when(components[2])
                return cycles, end - duration, duration
            return cycles, now + duration, duration
        start = parse_when(first)
        if len(components) != 3:
            raise ValueError(f"invalid repeating interval {value!r}: a start needs a duration")
        return cycles, start, to_duration(components[2], start)
