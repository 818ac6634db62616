"""The inbox projection: ``task`` rows that mirror an instance's ready user tasks.

Written in the same transaction as the engine state (``usecases.unit_of_work``), so the inbox
never shows a task the engine does not have, and queries never deserialize a workflow.
``task_candidate`` holds one row per candidate group or user of an open task (the inbox's
index); rows go away when the task closes.
"""
from __future__ import annotations

import datetime as dt

from ..audit import Event
from ..store import Case, Instance, Task, TaskCandidate, iso, rows, to_jsonable

ENGINE_ACTOR = "engine"
OPEN = ("open", "claimed")

_OPEN_TASKS = rows.Prepared(
    lambda instance, *statuses: Task.select().where(Task.instance == instance,
                                                    Task.status.in_(statuses)), -1, *OPEN)


def project(case: Case, row: Instance, inst, now: dt.datetime, events: list, *,
            fresh: bool) -> list[Task]:
    """Make the inbox rows match the engine's ready user tasks; returns the tasks created."""
    ready = {t.id: t for t in inst.user_tasks()}
    open_rows = [] if fresh else _OPEN_TASKS.all(row.id, *OPEN)
    known = {r.engine_task_id for r in open_rows}
    gone = [r for r in open_rows if r.engine_task_id not in ready]
    if gone:
        ids = [r.id for r in gone]
        Task.update(status="cancelled").where(Task.id.in_(ids)).execute()
        TaskCandidate.delete().where(TaskCandidate.task.in_(ids)).execute()
        for r in gone:
            events.append(Event("task.withdrawn", ENGINE_ACTOR, case.id, row.id,
                                {"task": r.id, "element_id": r.element_id}))
    created, candidates = [], []
    for tid, view in ready.items():
        if tid in known:
            continue
        groups = sorted(set(view.candidate_groups or ()))
        users = sorted(set(view.candidate_users or ()))
        values = dict(instance=row.id, case=case.id, engine_task_id=tid,
                      element_id=view.element_id, name=view.name, case_type=case.type,
                      candidate_groups=groups, candidate_users=users, assignee=view.assignee,
                      status="claimed" if view.assignee else "open",
                      claimed_by=view.assignee, claimed_at=now if view.assignee else None,
                      form=to_jsonable(view.form or {}),
                      properties=to_jsonable(view.properties or {}), due_at=view.due_at,
                      created_at=now)
        task = Task(id=rows.insert(Task, **values), **values)
        created.append(task)
        candidates += [{"task": task.id, "kind": "group", "name": g} for g in groups]
        candidates += [{"task": task.id, "kind": "user", "name": u} for u in users]
        if view.assignee and view.assignee not in users:
            candidates.append({"task": task.id, "kind": "user", "name": view.assignee})
        events.append(Event("task.created", ENGINE_ACTOR, case.id, row.id,
                            {"task": task.id, "element_id": view.element_id, "name": view.name,
                             "candidate_groups": groups, "candidate_users": users,
                             "assignee": view.assignee,
                             "due_at": iso(view.due_at)}))
    if candidates:
        rows.insert_many(TaskCandidate, candidates, deferred=True)
    return created


def close_open_tasks(case_id: int, status: str = "cancelled") -> None:
    """Close every open task of a case (cancelling the case), with their candidate rows."""
    ids = [t.id for t in Task.select(Task.id).where(Task.case == case_id, Task.status.in_(OPEN))]
    if ids:
        Task.update(status=status).where(Task.id.in_(ids)).execute()
        TaskCandidate.delete().where(TaskCandidate.task.in_(ids)).execute()


def withdraw_moved(case: Case, row: Instance, inst, events: list) -> None:
    """Before a migrated instance is saved: an open inbox row whose engine task now has
    another element (renamed by the plan) is withdrawn, and the projection creates it anew
    from the target version (its name, form, candidates)."""
    now_at = {t.id: t.element_id for t in inst.user_tasks()}
    moved = [r for r in Task.select().where(Task.instance == row, Task.status.in_(OPEN))
             if r.engine_task_id in now_at and now_at[r.engine_task_id] != r.element_id]
    if not moved:
        return
    ids = [r.id for r in moved]
    Task.update(status="cancelled").where(Task.id.in_(ids)).execute()
    TaskCandidate.delete().where(TaskCandidate.task.in_(ids)).execute()
    for r in moved:
        events.append(Event("task.withdrawn", ENGINE_ACTOR, case.id, row.id,
                            {"task": r.id, "element_id": r.element_id, "migrated_to":
                             now_at[r.engine_task_id]}))


__all__ = ["ENGINE_ACTOR", "OPEN", "close_open_tasks", "project", "withdraw_moved"]
