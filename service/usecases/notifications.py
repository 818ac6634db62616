"""Notifications: a user's preferences, and sending the queued messages (worker).

What is queued and for whom is :mod:`service.domain.notifications`; this module sends each
``notify`` job once by its channel (email over SMTP, or the analysts' webhook connector file)
with the job id as idempotency key, retries a failure with backoff, and gives up after the last
attempt with an audit event: a notification that cannot be sent never stops a case.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from ..config import Config
from ..connectors import ConnectorError
from ..connectors.email import send_email
from ..connectors.http_transport import send as send_http
from ..domain import deployed_connectors, notifications
from ..errors import ValidationFailed
from ..policy import Identity
from ..store import User, atomic, jobs, utcnow
from ..store.jobs import DEFAULT_BACKOFF, DEFAULT_LEASE, Backoff
from .unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

ACTOR = "notifier"
MAX_EMAIL = 320


@dataclass(frozen=True)
class Sent:
    job_id: int
    outcome: str            # sent | retrying | failed | lost
    error: str | None = None


def preferences(who: Identity) -> dict:
    return notifications.preferences(User.get(User.name == who.name))


def set_preferences(who: Identity, *, email: str | None, muted: list) -> dict:
    """Set my email address and the kinds I opted out of (audited)."""
    if email is not None and (not isinstance(email, str) or "@" not in email
                              or len(email) > MAX_EMAIL or any(c in email for c in "\r\n ,;<>")):
        raise ValidationFailed("email must be one address like name@example.com", field="email")
    unknown = [k for k in muted if k not in notifications.KINDS]
    if unknown:
        raise ValidationFailed(f"unknown notification kind {unknown[0]!r} (one of "
                               f"{', '.join(notifications.KINDS)})", field="muted")
    uow = UnitOfWork(who.name)
    with uow.writing():
        user = User.get(User.name == who.name)
        before = notifications.preferences(user)
        after = notifications.set_preferences(user, email=email, muted=list(muted),
                                              now=utcnow())
        uow.record("notifications.preferences", before=before, after=after)
    return after


def queue_breaches(now: dt.datetime, *, config: Config) -> int:
    """Queue SLA breach notices for tasks past their due time (worker)."""
    if not notifications.enabled(config):
        return 0
    with atomic():
        return notifications.queue_breaches(now, config=config)


def claim(*, owner: str, now: dt.datetime, limit: int, lease: dt.timedelta = DEFAULT_LEASE):
    return jobs.claim([notifications.KIND], owner=owner, now=now, limit=limit, lease=lease)


def send(job, *, now: dt.datetime, config: Config, backoff: Backoff = DEFAULT_BACKOFF) -> Sent:
    """Send one claimed notification job and record the outcome."""
    payload = job.payload or {}
    try:
        if payload.get("channel") == "email":
            result = send_email(config, to=payload["to"], subject=payload["subject"],
                                text=payload["text"], message_id=f"notify-{job.id}")
        else:
            spec = deployed_connectors.spec(notifications.WEBHOOK_CONNECTOR)
            if spec is None:
                raise ConnectorError("the webhook connector file was removed", retryable=False)
            outcome = send_http(spec, payload, idempotency_key=str(job.id),
                                env=config.connector_env, allowed_hosts=config.connector_hosts)
            result = {"status": outcome.status}
    except ConnectorError as exc:
        return _failed(job, now=now, error=exc.message, retryable=exc.retryable, backoff=backoff)
    uow = UnitOfWork(ACTOR)
    with uow.writing():
        if not jobs.finish(job, now=now, last_error=None):
            return Sent(job.id, "lost")
        uow.record("notification.sent", case_id=job.case_id, instance_id=job.instance_id,
                   job=job.id, notification=payload.get("kind"), user=payload.get("user"),
                   channel=payload.get("channel"), task=payload.get("task"), result=result)
    return Sent(job.id, "sent")


def _failed(job, *, now, error: str, retryable: bool, backoff: Backoff) -> Sent:
    payload = job.payload or {}
    detail = dict(job=job.id, notification=payload.get("kind"), user=payload.get("user"),
                  channel=payload.get("channel"), attempt=job.attempts, error=error)
    uow = UnitOfWork(ACTOR)
    with uow.writing():
        if not retryable or job.attempts >= job.max_attempts:
            if not jobs.give_up(job, now=now, error=error):
                return Sent(job.id, "lost")
            uow.record("notification.failed", case_id=job.case_id, instance_id=job.instance_id,
                       final=True, **detail)
            return Sent(job.id, "failed", error)
        if jobs.reschedule(job, now=now, error=error, backoff=backoff) is None:
            return Sent(job.id, "lost")
        uow.record("notification.failed", case_id=job.case_id, instance_id=job.instance_id,
                   final=False, **detail)
    return Sent(job.id, "retrying", error)


__all__ = ["Sent", "claim", "preferences", "queue_breaches", "send", "set_preferences"]
