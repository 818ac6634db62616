"""The plain-dict shapes use cases answer with, shared by the API, the CLI and the pages."""
from __future__ import annotations

from ..store import Case, DecisionRecord, Incident, Task, iso


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


def decision_view(d: DecisionRecord) -> dict:
    return {"id": d.id, "kind": d.kind, "definition_key": d.definition_key,
            "definition_version": d.definition_version, "inputs": d.inputs,
            "outputs": d.outputs, "matched_rules": d.matched_rules, "model": d.model_name,
            "model_version": d.model_version, "score": d.score,
            "contributions": d.contributions, "created_at": d.created_at.isoformat()}


def incident_summary(row: Incident) -> dict:
    return {"id": row.id, "element_id": row.element_id, "message": row.message,
            "status": row.status}


def incident_view(row: Incident) -> dict:
    case = row.case
    return {"id": row.id, "case_id": row.case_id, "case_type": case.type,
            "case_status": case.status, "instance_id": row.instance_id, "kind": row.kind,
            "element_id": row.element_id, "message": row.message, "status": row.status,
            "job_id": row.job_id, "created_at": iso(row.created_at),
            "resolved_at": iso(row.resolved_at)}


def definition_summary(row) -> dict:
    return {"kind": row.kind, "key": row.key, "version": row.version, "name": row.name,
            "file": row.file, "sha256": row.sha256, "deployed_by": row.deployed_by,
            "deployed_at": iso(row.deployed_at), "meta": row.meta,
            "notes": (row.meta or {}).get("notes", [])}
