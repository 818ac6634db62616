"""Plain-dict views of rows, shared by the API and the CLI."""
from __future__ import annotations

from .store import Case, Task


def iso(value):
    return value.isoformat() if value is not None else None


def case_view(case: Case, tasks=None) -> dict:
    out = {"id": case.id, "type": case.type, "status": case.status, "priority": case.priority,
           "score": case.score, "external_ref": case.external_ref,
           "submitted_by": case.submitted_by, "data": case.data,
           "definition_version": getattr(case.definition, "version", None) if case.definition_id else None,
           "cancel_reason": case.cancel_reason, "created_at": iso(case.created_at),
           "updated_at": iso(case.updated_at), "closed_at": iso(case.closed_at)}
    if tasks is not None:
        out["tasks"] = [task_view(t) for t in tasks]
    return out


def task_view(task: Task, *, with_form: bool = False) -> dict:
    out = {"id": task.id, "case_id": task.case_id, "case_type": task.case_type,
           "element_id": task.element_id, "name": task.name, "status": task.status,
           "candidate_groups": task.candidate_groups, "candidate_users": task.candidate_users,
           "assignee": task.assignee, "due_at": iso(task.due_at),
           "properties": task.properties, "created_at": iso(task.created_at),
           "claimed_by": task.claimed_by, "completed_by": task.completed_by,
           "completed_at": iso(task.completed_at)}
    if with_form:
        out["form"] = task.form
    return out
