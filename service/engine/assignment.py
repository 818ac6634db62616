"""Resolve who may work on a human task and when it is due, once, when the task becomes ready.

The modelled :class:`~service.engine.tasks.Assignment` holds text: literal group and user names,
ISO dates and durations, or expressions (EL ``${...}`` in Camunda 7 files, FEEL ``=...`` in
Camunda 8 files). Camunda evaluates them when the task is created, and so do we: the result is
kept in the task's ``internal_data`` so that the inbox projection, a reload and the audit event
all see the same values, and a later change of the variables does not move a due date.

Candidate lists follow Camunda: the attribute is split on commas outside ``${...}``; each part is
a name or an expression giving a name, a comma-separated text or a list of names. A Camunda 8
``candidateGroups="=[...]"`` is one FEEL expression giving a list.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from .expressions import is_expression
from .timers import due_of, parse_when

__all__ = ["ASSIGNMENT_KEY", "KEPT_DUE_KEY", "resolve", "resolved", "split_names"]

ASSIGNMENT_KEY = "omniflow_assignment"
KEPT_DUE_KEY = "omniflow_kept_due"      # set by a migration on a task whose element changed


def split_names(text: str | None) -> tuple[str, ...]:
    """Split a modelled candidate list on commas that are not inside an expression."""
    if not text or not text.strip():
        return ()
    if text.strip().startswith("="):
        return (text.strip(),)                # one FEEL expression (it may contain commas)
    parts, depth, current = [], 0, []
    for ch in text:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth = max(0, depth - 1)
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return tuple(p.strip() for p in parts if p.strip())


def _names(value: Any, source: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [p.strip() for p in value.split(",") if p.strip()]
    if isinstance(value, (list, tuple, set)):
        out = []
        for item in value:
            if not isinstance(item, (str, int)) or isinstance(item, bool):
                raise ValueError(f"{source} gave {item!r}; names must be text")
            out.append(str(item))
        return out
    if isinstance(value, int) and not isinstance(value, bool):
        return [str(value)]
    raise ValueError(f"{source} gave a {type(value).__name__}; expected a name or a list of names")


def _candidates(parts: tuple[str, ...], evaluate: Callable[[str], Any]) -> list[str]:
    out: list[str] = []
    for part in parts:
        values = _names(evaluate(part), part) if is_expression(part) else [part]
        out.extend(v for v in values if v not in out)
    return out


def _when(text: str | None, evaluate: Callable[[str], Any], now: datetime) -> datetime | None:
    if not text or not text.strip():
        return None
    value = evaluate(text) if is_expression(text) else text.strip()
    if value is None or value == "":
        return None
    return due_of(value, now)


def resolve(task: Any, evaluate: Callable[[str], Any], now: datetime) -> dict:
    """Evaluate the task's assignment, store it on the task and return it (datetimes aware).

    ``evaluate(text)`` evaluates one expression against the task's data and raises
    ``EngineFailure`` naming the element when it fails.
    """
    assignment = task.task_spec.assignment
    assignee = None
    if assignment.assignee:
        value = evaluate(assignment.assignee) if is_expression(assignment.assignee) else assignment.assignee
        assignee = None if value in (None, "") else str(value)
    resolved_values = {
        "candidate_groups": _candidates(assignment.candidate_groups, evaluate),
        "candidate_users": _candidates(assignment.candidate_users, evaluate),
        "assignee": assignee,
        "due_at": _when(assignment.due_date, evaluate, now),
        "follow_up_at": _when(assignment.follow_up_date, evaluate, now),
    }
    kept = task.internal_data.pop(KEPT_DUE_KEY, None)
    if kept:        # a task moved by a migration keeps its due and follow-up times
        for key in ("due_at", "follow_up_at"):
            if kept.get(key):
                resolved_values[key] = parse_when(kept[key])
    task.internal_data[ASSIGNMENT_KEY] = {
        k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in resolved_values.items()}
    return resolved_values


def resolved(task: Any) -> dict | None:
    """The assignment stored by :func:`resolve` (datetimes parsed back), or ``None``."""
    stored = task.internal_data.get(ASSIGNMENT_KEY)
    if stored is None:
        return None
    out = dict(stored)
    for key in ("due_at", "follow_up_at"):
        out[key] = parse_when(out[key]) if out.get(key) else None
    return out
