"""Notifications: who is told what, and the queue of messages to send.

Three kinds, each to the people concerned, by each channel they have:

* ``task_assigned``: a task became workable by me (assignee or candidate user) or by my group;
* ``escalated``: the same for a task the process marks as an escalation
  (``camunda:property name="escalation" value="true"``), so it reads as one;
* ``sla_breached``: a task's due time passed while it was open (to its assignee, else to its
  groups), found by the worker (:func:`queue_breaches`), once per task.

Channels: ``email`` when an SMTP server is configured and the user gave an address;
``webhook`` when an analyst deployed a connector file named :data:`WEBHOOK_CONNECTOR` (it is
sent like any HTTP connector, with the notification as its variables). A user opts out of a
kind (every channel) in their preferences.

Each message is a ``job`` of kind ``notify`` written in the transaction that caused it, keyed
``notify:<kind>:<task>:<user>:<channel>`` so a kind is sent once per task and person; the
worker delivers them (``usecases.notifications``). Machine clients and inactive users are never
notified.
"""
from __future__ import annotations

import datetime as dt

from ..config import Config
from ..store import Job, NotificationPreference, Task, TaskNotice, User, rows
from . import deployed_connectors

KIND = "notify"
KINDS = ("task_assigned", "escalated", "sla_breached")
WEBHOOK_CONNECTOR = "omniflow.notifications"
OPEN = ("open", "claimed")
BREACH_BATCH = 200


def _people(groups, users) -> dict[str, User]:
    """Active human users named in ``users`` or belonging to one of ``groups``."""
    groups, users = set(groups or ()), set(users or ())
    out = {}
    for user in User.select().where(User.active == True, User.is_client == False):  # noqa: E712
        if user.name in users or groups & set(user.groups or ()):
            out[user.name] = user
    return out


def _channels(user: User, prefs: dict, config: Config | None, kind: str) -> list[tuple[str, str | None]]:
    pref = prefs.get(user.id)
    if pref is not None and kind in (pref.muted or []):
        return []
    out = []
    if config is not None and config.smtp_host and pref is not None and pref.email:
        out.append(("email", pref.email))
    if deployed_connectors.spec(WEBHOOK_CONNECTOR) is not None:
        out.append(("webhook", None))
    return out


def _subject(kind: str, task: Task) -> str:
    what = {"task_assigned": "New task", "escalated": "Escalated to you",
            "sla_breached": "SLA breached"}[kind]
    return f"{what}: {task.name or task.element_id} (case {task.case_id})"


def _text(kind: str, task: Task) -> str:
    due = f"due {task.due_at.isoformat()}" if task.due_at else "no due time"
    lines = {"task_assigned": "A task is waiting for you or your group.",
             "escalated": "A task was escalated to you or your group.",
             "sla_breached": "A task passed its due time while still open."}
    return (f"{lines[kind]}\n\nTask: {task.name or task.element_id} ({task.id}, {due})\n"
            f"Case: {task.case_id} ({task.case_type})\nOpen it in the inbox: /inbox\n")


def _queue(task: Task, kind: str, people: dict[str, User], *, now: dt.datetime,
           config: Config | None) -> int:
    prefs = {p.user_id: p for p in NotificationPreference.select().where(
        NotificationPreference.user.in_([u.id for u in people.values()]))} if people else {}
    jobs = []
    for name, user in sorted(people.items()):
        for channel, address in _channels(user, prefs, config, kind):
            jobs.append({"kind": KIND, "case": task.case_id, "instance": task.instance_id,
                         "due_at": now, "max_attempts": 5,
                         "idempotency_key": f"notify:{kind}:{task.id}:{name}:{channel}",
                         "payload": {"kind": kind, "channel": channel, "user": name,
                                     "to": address, "task": task.id, "case": task.case_id,
                                     "case_type": task.case_type, "element_id": task.element_id,
                                     "task_name": task.name, "subject": _subject(kind, task),
                                     "text": _text(kind, task),
                                     "due_at": task.due_at.isoformat() if task.due_at else None}})
    if jobs:
        Job.insert_many(jobs).on_conflict_ignore().execute()
    return len(jobs)


def enabled(config: Config | None) -> bool:
    """Whether any channel exists (else nothing is looked up: intake stays as fast as before).
    Asked on every intake, so the webhook file is looked up in the definition snapshot: one
    deployed by another process counts within ``definitions.REFRESH_SECONDS``."""
    return bool(config is not None and config.smtp_host) \
        or deployed_connectors.known_spec(WEBHOOK_CONNECTOR) is not None


def tasks_created(created: list[Task], *, now: dt.datetime, config: Config | None) -> int:
    """Queue ``task_assigned`` / ``escalated`` for new inbox rows (the save's transaction)."""
    if not created or not enabled(config):
        return 0
    count = 0
    for task in created:
        props = task.properties or {}
        kind = "escalated" if str(props.get("escalation", "")).lower() == "true" else "task_assigned"
        users = list(task.candidate_users or []) + ([task.assignee] if task.assignee else [])
        count += _queue(task, kind, _people(task.candidate_groups, users), now=now, config=config)
    return count


def task_delegated(task: Task, to: str, *, now: dt.datetime, config: Config | None) -> int:
    """Queue ``task_assigned`` for whoever a task was delegated to."""
    if not enabled(config):
        return 0
    return _queue(task, "task_assigned", _people((), [to]), now=now, config=config)


def queue_breaches(now: dt.datetime, *, config: Config | None, limit: int = BREACH_BATCH) -> int:
    """Queue ``sla_breached`` for open tasks past their due time, once per task (caller's
    transaction). A range read of the ``(status, due_at)`` index, minus tasks already told."""
    if not enabled(config):
        return 0
    told = TaskNotice.select(TaskNotice.task).where(TaskNotice.kind == "sla_breached")
    breached = list(Task.select().where(Task.status.in_(OPEN), Task.due_at <= now,
                                        Task.id.not_in(told))
                    .order_by(Task.due_at).limit(limit))
    count = 0
    for task in breached:
        rows.insert(TaskNotice, task=task.id, kind="sla_breached", created_at=now)
        users = [task.assignee] if task.assignee else list(task.candidate_users or [])
        groups = () if task.assignee else task.candidate_groups
        count += _queue(task, "sla_breached", _people(groups, users), now=now, config=config)
    return len(breached)


def preferences(user: User) -> dict:
    pref = NotificationPreference.get_or_none(NotificationPreference.user == user.id)
    return {"email": pref.email if pref else None, "muted": list(pref.muted or []) if pref else [],
            "kinds": list(KINDS)}


def set_preferences(user: User, *, email: str | None, muted: list[str], now: dt.datetime) -> dict:
    (NotificationPreference.insert(user=user.id, email=email, muted=sorted(set(muted)),
                                   updated_at=now)
     .on_conflict(conflict_target=[NotificationPreference.user],
                  update={NotificationPreference.email: email,
                          NotificationPreference.muted: sorted(set(muted)),
                          NotificationPreference.updated_at: now})
     .execute())
    return preferences(user)


__all__ = ["KIND", "KINDS", "WEBHOOK_CONNECTOR", "enabled", "preferences", "queue_breaches",
           "set_preferences", "task_delegated", "tasks_created"]
