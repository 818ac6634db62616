"""The inbox: listing, claiming, delegating and completing human tasks.

Visibility is object-level: a user sees tasks of their groups or assigned to them, anything else
is 404. Completion validates the submitted data against the task's form (only declared fields:
a client can never set amount, score, submitter or approver through a form; a generic form of a
modeler's file accepts variables within bounds, see ``domain.task_forms``), enforces four-eyes
and authority limits, then moves the engine — one unit of work with its audit events.
"""
from __future__ import annotations

import datetime as dt
import re

from ..domain import definitions, notifications, task_forms
from ..domain.inbox import OPEN
from ..errors import Conflict, Forbidden, NotFound, PolicyViolation, ValidationFailed
from ..policy import (Identity, can_work_task, check_completion, find_identity, inbox_tasks,
                      may_see_task)
from ..store import (Case, Definition, Instance, Task, TaskCandidate, paging, rows,
                     utcnow)
from .shapes import task_view
from .unit_of_work import UnitOfWork


# A task with its case, instance and definition (without the definition's large source).
_TASK_WITH_CONTEXT = rows.Prepared(
    lambda task_id: (Task.select(Task, Case, Instance, Definition.id, Definition.key,
                                 Definition.version, Definition.sha256, Definition.file,
                                 Definition.meta)
                     .join(Case).switch(Task).join(Instance).join(Definition)
                     .where(Task.id == task_id)), -1)


# Completing a task: the row closes (if still open) and its inbox index rows go.
_COMPLETE = rows.Prepared(
    lambda assignee, status, by, at, result, task_id, *statuses: (
        Task.update(assignee=assignee, status=status, completed_by=by, completed_at=at,
                    result=result)
        .where(Task.id == task_id, Task.status.in_(statuses))),
    "a", "completed", "b", rows.STAND_IN_TIME, {}, -1, *OPEN,
    fields=(None, None, None, Task.completed_at, Task.result, None, None, None))
_DROP_CANDIDATES = rows.Prepared(
    lambda task_id: TaskCandidate.delete().where(TaskCandidate.task == task_id), -1)


def get(who: Identity, task_id: int) -> Task:
    """The task if ``who`` may see it (404 otherwise), with its case, instance and definition
    loaded in the same query."""
    task = _TASK_WITH_CONTEXT.first(task_id)
    if task is None or not may_see_task(who, task):
        raise NotFound(f"task {task_id} not found", task=task_id)
    return task


def listing(who: Identity, *, case_type=None, group=None, overdue=False, status=None,
            mine=False, cursor=None, limit=None, now=None) -> dict:
    """Open tasks sorted by due time (tasks without one last), keyset-paginated."""
    now = now or utcnow()
    statuses = [status] if status else list(OPEN)
    query, driven = inbox_tasks(who, Task.select(Task, Case.id, Case.priority, Case.score,
                                                 Case.external_ref, Case.data).join(Case),
                                statuses)
    if case_type:
        query = query.where(Task.case_type == case_type)
    if group:
        query = query.where(Task.id.in_(TaskCandidate.select(TaskCandidate.task).where(
            TaskCandidate.kind == "group", TaskCandidate.name == group)))
    if overdue:
        query = query.where(Task.due_at < now)
    if mine:
        query = query.where(Task.assignee == who.name)

    def render(t: Task) -> dict:
        item = task_view(t)
        item["overdue"] = bool(t.due_at and t.due_at < now)
        item["case"] = {"priority": t.case.priority, "score": t.case.score,
                        "external_ref": t.case.external_ref, "value": _value_of(t, t.case)}
        return item

    return paging.by_due(query, status=Task.status, statuses=statuses,
                         due=Task.due_at, id_column=Task.id, cursor=cursor, limit=limit,
                         render=render, driven=driven)


# Where the money at stake is, for triage: the amount an approval is about, else the case's.
_VALUE_KEYS = ("value", "order_value", "amount", "adjustment_value", "requested_price")


def _value_of(task: Task, case: Case):
    amount = (task.properties or {}).get("amount")
    if isinstance(amount, (int, float)) and not isinstance(amount, bool):
        return amount
    data = case.data if isinstance(case.data, dict) else {}
    return next((data[k] for k in _VALUE_KEYS if isinstance(data.get(k), (int, float))
                 and not isinstance(data.get(k), bool)), None)


def detail(who: Identity, task_id: int) -> dict:
    task = get(who, task_id)
    case = task.case
    out = task_view(task, with_form=True)
    out["case"] = {"id": case.id, "type": case.type, "status": case.status,
                   "priority": case.priority, "score": case.score, "data": case.data,
                   "external_ref": case.external_ref, "submitted_by": case.submitted_by}
    out["result"] = task.result
    out["policy"] = _policy_preview(who, task, case)
    return out


def _policy_preview(who: Identity, task: Task, case: Case) -> dict:
    """Whether ``who`` may complete the task, as the completion check would decide now.

    A hint for the inbox, so an approver learns of four-eyes or an authority limit before
    filling in the form; the check at completion is still the one that counts.
    """
    if not can_work_task(who, task.candidate_groups, task.candidate_users, task.assignee):
        return {"allowed": False, "rule": "access", "detail": "you may read but not work this task"}
    try:
        check_completion(who, submitted_by=case.submitted_by, properties=task.properties or {},
                         **_four_eyes(task, case))
    except PolicyViolation as exc:
        return {"allowed": False, "rule": exc.extra.get("rule"), "detail": exc.detail}
    return {"allowed": True}


def _require_work(who: Identity, task: Task) -> None:
    if not can_work_task(who, task.candidate_groups, task.candidate_users, task.assignee):
        raise Forbidden(f"{who.name} may not work task {task.id}")
    if task.status not in OPEN:
        raise Conflict(f"task {task.id} is {task.status}", task=task.id, status=task.status)


def claim(who: Identity, task_id: int) -> dict:
    uow = UnitOfWork(who.name)
    with uow.writing():
        task = get(who, task_id)
        _require_work(who, task)
        if task.status == "claimed" and task.claimed_by != who.name:
            raise Conflict(f"task {task.id} is claimed by {task.claimed_by}", task=task.id)
        _assign(task, who.name, expected_status=task.status,
                conflict=f"task {task.id} was claimed by someone else")
        uow.record("task.claimed", case_id=task.case_id, instance_id=task.instance_id,
                   task=task.id, before={"status": task.status, "assignee": task.assignee},
                   after={"status": "claimed", "assignee": who.name})
    return task_view(Task.get_by_id(task.id))


def _assign(task: Task, name: str, *, expected_status: str, conflict: str, **changes) -> None:
    """Compare-and-set the task's assignee: only from the state the caller read, so of two
    concurrent claims or delegations exactly one wins and the other is a 409."""
    changed = (Task.update(status="claimed", claimed_by=name, assignee=name,
                           claimed_at=utcnow(), **changes)
               .where(Task.id == task.id, Task.status == expected_status,
                      Task.claimed_by.is_null(True) if task.claimed_by is None
                      else (Task.claimed_by == task.claimed_by))
               .execute())
    if changed != 1:
        raise Conflict(conflict, task=task.id)


def unclaim(who: Identity, task_id: int) -> dict:
    uow = UnitOfWork(who.name)
    with uow.writing():
        task = get(who, task_id)
        _require_work(who, task)
        if task.status != "claimed":
            raise Conflict(f"task {task.id} is not claimed", task=task.id)
        if task.claimed_by != who.name and not who.is_admin:
            raise Forbidden(f"task {task.id} is claimed by {task.claimed_by}")
        changed = (Task.update(status="open", claimed_by=None, assignee=None, claimed_at=None)
                   .where(Task.id == task.id, Task.status == "claimed",
                          Task.claimed_by == task.claimed_by).execute())
        if changed != 1:
            raise Conflict(f"task {task.id} changed meanwhile; reload it", task=task.id)
        uow.record("task.unclaimed", case_id=task.case_id, instance_id=task.instance_id,
                   task=task.id, before={"status": "claimed", "assignee": task.assignee},
                   after={"status": "open", "assignee": None})
    return task_view(Task.get_by_id(task.id))


def delegate(who: Identity, task_id: int, to: str, reason: str | None = None, *,
             config=None) -> dict:
    target = find_identity(to) if to else None
    if target is None:
        raise ValidationFailed(f"no user {to!r} to delegate to", field="to")
    uow = UnitOfWork(who.name)
    with uow.writing():
        task = get(who, task_id)
        _require_work(who, task)
        if task.status == "claimed" and task.claimed_by not in (who.name, None) and not who.is_admin:
            raise Forbidden(f"task {task.id} is claimed by {task.claimed_by}")
        _refuse_delegate(target, task)
        _assign(task, target.name, expected_status=task.status,
                conflict=f"task {task.id} was claimed or delegated by someone else",
                candidate_users=sorted(set(task.candidate_users) | {target.name}))
        TaskCandidate.insert(task=task.id, kind="user", name=target.name).execute()
        notifications.task_delegated(task, target.name, now=utcnow(), config=config)
        uow.record("task.delegated", case_id=task.case_id, instance_id=task.instance_id,
                   task=task.id, reason=reason, before={"assignee": task.assignee},
                   after={"assignee": target.name})
    return task_view(Task.get_by_id(task.id))


def _refuse_delegate(target: Identity, task: Task) -> None:
    """Human work goes to people who can do it: not to machine clients, auditors or disabled
    accounts (the task would be stranded or completed by a system)."""
    if not target.active:
        raise ValidationFailed(f"user {target.name!r} is disabled and cannot be given tasks",
                               field="to")
    if target.is_client:
        raise ValidationFailed(f"{target.name!r} is a machine client; human tasks go to people",
                               field="to")
    if target.is_auditor and not target.is_admin:
        raise ValidationFailed("auditors cannot be given tasks", field="to")


def _four_eyes(task: Task, case: Case) -> dict:
    """Who already approved this action on the case, and who stands behind it.

    Approvers are the completers of earlier approval tasks for the same action; requesters are
    the case's named requester and the completers of its earlier work (non-approval) tasks.
    """
    if not (task.properties or {}).get("action") and not (task.properties or {}).get("approval"):
        return {"prior_approvers": [], "requesters": []}
    action = (task.properties or {}).get("action")
    done = Task.select(Task.completed_by, Task.properties).where(
        Task.case == task.case_id, Task.status == "completed", Task.id != task.id)
    approvers, requesters = [], []
    for t in done:
        props = t.properties or {}
        if props.get("action") or props.get("approval"):
            if props.get("action") == action:
                approvers.append(t.completed_by)
        else:
            requesters.append(t.completed_by)
    named = definitions.case_type(case.type).requester_of(case.data)
    if named:
        requesters.append(named)
    return {"prior_approvers": approvers, "requesters": requesters}


def _refuse_data_the_process_cannot_use(inst, task: Task, data: dict) -> None:
    """A script or expression that fails on the step right after a person's input is, almost
    always, that input's fault (a refund without an amount): answer 422 and keep the task open
    rather than park the case in an incident. Connector failures are the other systems'
    fault and still go through retries and incidents.

    The answer is in words for the person at the form: a form field the step needed and the
    person left empty is named as the field at fault ("Refund amount is needed"); the engine's
    own message stays in ``cause`` for whoever maintains the process.
    """
    failure = inst.failure if inst.status == "failed" else None
    if failure is None or failure.extra.get("retryable") or failure.extra.get("connector"):
        return
    if failure.extra.get("limit") in PROCESS_FAULTS:
        return      # the process's own fault: an incident naming the element, not a 422
    element = failure.extra.get("element")
    properties = (task.form or {}).get("properties") or {}
    for name in _UNDEFINED_NAME.findall(failure.detail):
        if name in properties and data.get(name) in (None, ""):
            title = properties[name].get("title") or name
            raise ValidationFailed(f"{title} is needed for this choice", field=name,
                                   element=element, task=task.id, cause=failure.detail)
    raise ValidationFailed("the process cannot continue with these values; check the form and "
                           "try again, or ask the process owner", field="data", element=element,
                           task=task.id, cause=failure.detail)


# Engine limits that a person's input does not cause: a path that stops with nothing to wait
# for (``stall``), no end reached, an endless loop (``steps``, ``events``), a tree too deep.
PROCESS_FAULTS = frozenset({"stall", "no-end", "steps", "events", "depth"})
_UNDEFINED_NAME = re.compile(r"name '([A-Za-z_][A-Za-z0-9_]*)' is not defined")


def complete(who: Identity, task_id: int, data: dict, *, config, clock=utcnow) -> dict:
    task = get(who, task_id)
    _require_work(who, task)
    if task.status == "claimed" and task.claimed_by not in (None, who.name):
        raise Conflict(f"task {task.id} is claimed by {task.claimed_by}", task=task.id)
    task_forms.check(task.form, data)     # declared fields only, or a bounded generic form
    case = task.case
    uow = UnitOfWork(who.name, config=config, clock=clock)
    try:
        check_completion(who, submitted_by=case.submitted_by, properties=task.properties or {},
                         **_four_eyes(task, case))
    except PolicyViolation as exc:
        with uow.writing():
            uow.record("policy.denied", case_id=case.id, instance_id=task.instance_id,
                       task=task.id, rule=exc.extra.get("rule"), reason=exc.detail)
        raise
    row = task.instance
    process = uow.load(row, definition=row.definition)
    inst = process.inst
    current = inst.data                   # merged from the live tasks on each read: read once
    before = {k: current.get(k) for k in data} if isinstance(current, dict) else {}
    inst.complete_task(task.engine_task_id, data, actor=who.name)
    _refuse_data_the_process_cannot_use(inst, task, data)
    now = utcnow()
    with uow.writing():
        changed = _COMPLETE.execute(who.name, "completed", who.name, now, data, task.id, *OPEN)
        if changed != 1:
            raise Conflict(f"task {task.id} was completed by another request", task=task.id)
        _DROP_CANDIDATES.defer(task.id)
        uow.record("task.completed", case_id=case.id, instance_id=row.id, task=task.id,
                   element_id=task.element_id, data=data, before=before, after=data,
                   properties=task.properties)
        uow.save(case, process, row=row)
    task.status, task.completed_by, task.completed_at = "completed", who.name, now
    task.result, task.assignee = data, who.name
    out = task_view(task)
    out["case_status"] = case.status
    return out
