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

from .spiff_compat import refresh

__all__ = ["ClockCycle", "ClockDuration", "ClockTimeDate", "check_literal", "due_of", "fire_once",
           "next_start", "parse_when", "to_duration"]

_ISO_LITERAL = re.compile(r"^(R\d*/|P(?=\d|T)|\d{4}-\d{2}-\d{2})", re.I)


def _resolve(my_task: Any, text: str) -> Any:
    """Return the timer's value: an ISO literal as-is, otherwise the evaluated expression."""
    stripped = (text or "").strip()
    if _ISO_LITERAL.match(stripped):
        return stripped
    return my_task.workflow.script_engine.evaluate(my_task, stripped)


def _read(my_task: Any, text: str, read: Any) -> Any:
    """``read(value)`` of the timer's value; a value that is not a date, duration or interval
    fails naming the timer's element (it comes from data, so it is an incident, not a crash)."""
    value = _resolve(my_task, text)
    try:
        return read(value)
    except (ValueError, TypeError, OverflowError) as exc:
        raise TimerValueError(my_task, f"timer {text!r} gave {value!r}, which is not an ISO 8601 "
                                       f"date, duration or repeating interval: {exc}") from exc


class TimerValueError(ValueError):
    """A timer expression gave a value that is no time; ``task`` is the timer's task."""

    def __init__(self, task: Any, message: str):
        super().__init__(message)
        self.task = task


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
            event_value = _read(my_task, self.expression, parse_when).isoformat()
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
            event_value = (now + _read(my_task, self.expression, lambda v: to_duration(v, now))).isoformat()
            my_task.internal_data["event_value"] = event_value
        if parse_when(event_value) <= now:
            my_task.internal_data["event_fired"] = True
        return my_task.internal_data.get("event_fired", False)


class ClockCycle(CycleTimerEventDefinition):
    """A repeating timer (``R3/PT1H``, ``R/PT1H`` forever, ``R2/2024-05-01T09:00:00Z/PT1H``).

    Each call fires at most one cycle; ``Instance.fire_due_timers`` loops so that a clock moved
    far ahead fires every cycle that fell due, in order.
    """

    def cycle_complete(self, my_task):
        event_value = my_task.internal_data.get("event_value")
        now = _now(my_task)
        if event_value is None:
            cycles, start, duration = _read(my_task, self.expression, lambda v: self._parse_cycle(v, now))
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


def check_literal(kind: str, text: str) -> None:
    """Raise ValueError unless a literal timer text (not an expression) can be read: an ISO
    date-time for ``timeDate``, an ISO duration for ``timeDuration``, an ISO repeating interval
    for ``timeCycle`` (cron expressions are not supported)."""
    now = datetime.now(timezone.utc)
    if kind == "timeDate":
        parse_when(text)
    elif kind == "timeDuration":
        to_duration(text, now)
    else:
        ClockCycle._parse_cycle(text, now)


def next_start(text: str, kind: str, after: datetime) -> datetime | None:
    """When a timer start event (``ProcessDefinition.timer_start``) next falls due after
    ``after``, or None when it never will again. The service creates one case per due time.

    A cycle without a start date (``R/PT1H``) counts from ``after``; one with a start date
    (``R3/2024-05-01T09:00:00Z/PT1H``) fires at the start and every period after it, as many
    times as it says.
    """
    if kind == "timeDate":
        when = parse_when(text)
        return when if when > after else None
    if kind == "timeDuration":
        return after + to_duration(text, after)
    cycles, start, period = ClockCycle._parse_cycle(text, after)
    if period <= timedelta(0):
        raise ValueError(f"invalid repeating interval {text!r}: the period must be positive")
    if start > after:
        return start
    passed = int((after - start) / period) + 1          # occurrences at or before ``after``
    if cycles >= 0 and passed >= cycles:
        return None
    return start + passed * period


def fire_once(task: Any, now: datetime) -> None:
    """Make a waiting timer (a timer start event) fire exactly once, now.

    The service starts one case per due time of a timer start event, so the case's own start
    event must not wait for the timer again: a date or duration timer is due now, a cycle is
    reduced to this one occurrence.
    """
    if isinstance(task.task_spec.event_definition, CycleTimerEventDefinition):
        task.internal_data["event_value"] = {"cycles": 1, "next": now.isoformat(), "duration": 1.0}
    else:
        task.internal_data.update(event_value=now.isoformat(), event_fired=True)
    refresh(task)
