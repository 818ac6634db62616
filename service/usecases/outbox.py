"""Outbox delivery: send the connector calls a process committed, once each, retrying failures.

Every instance save writes each call a process makes to another system (an ERP posting, a refund,
a notification) as a ``job`` row of kind ``outbox`` in the same transaction as the state that
caused it, keyed by an idempotency key (instance + task). This module delivers those rows:

* success -> the job is ``done`` and ``connector.delivered`` (with the system's answer) joins the
  audit chain in the same transaction;
* a retryable failure (``ConnectorError(retryable=True)`` or any foreign exception: a timeout,
  a refused connection) -> the job is due again after an exponential backoff, and
  ``connector.failed`` records the attempt;
* the last attempt, or an error no retry can fix -> the job is ``failed`` and an incident opens
  on the case (see :mod:`service.domain.incidents`); ``POST /incidents/{id}/retry`` re-queues it.

A connector with a deployed connector file (:mod:`service.connectors.http_spec`) is sent over
HTTP with the job's id as ``Idempotency-Key`` and retried by the file's own policy (attempts,
backoff, which statuses); built-in connectors go through the registry's transports.

The process has already moved on when a service task's call is delivered, so a business error
(a BPMN error code) raised here cannot follow an error boundary event: it becomes an incident
like any other final failure. Model the task as an external task (``camunda:type="external"``)
to have the process wait for the answer: its delivery completes the task with the answer's
variables or throws the error to the boundary event.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from ..config import Config
from ..connectors import ConnectorError, registry as default_registry
from ..connectors.http_spec import ConnectorSpec
from ..connectors.http_transport import send as send_http
from ..domain import deployed_connectors
from ..store import jobs
from ..store.jobs import DEFAULT_BACKOFF, DEFAULT_LEASE, Backoff
from .unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

KIND = "outbox"
ACTOR = "worker"


@dataclass(frozen=True)
class Delivery:
    """What one delivery attempt came to: ``delivered``, ``retrying``, ``failed`` or ``lost``."""
    job_id: int
    outcome: str
    error: str | None = None
    next_at: dt.datetime | None = None


def claim(*, owner: str, now: dt.datetime, limit: int, lease: dt.timedelta = DEFAULT_LEASE):
    """Lease up to ``limit`` due deliveries to ``owner`` (see :mod:`service.store.jobs`)."""
    return jobs.claim([KIND], owner=owner, now=now, limit=limit, lease=lease)


def policy_of(spec: ConnectorSpec) -> tuple[int, Backoff]:
    """A connector file's retry policy as (attempts, backoff)."""
    retry = spec.retry
    return retry.max_attempts, Backoff(base=dt.timedelta(seconds=retry.backoff_seconds),
                                       factor=retry.factor,
                                       cap=dt.timedelta(seconds=retry.max_backoff_seconds))


def call(job, name: str, params: dict, key: str, *, spec: ConnectorSpec | None,
         config: Config | None, registry) -> dict:
    """Send one call: over HTTP with ``spec`` (a deployed connector file, the job id as
    Idempotency-Key), else through the registry's transport; raises ``ConnectorError``."""
    if spec is None:
        return registry.deliver(name, params, key)
    config = config or Config()
    outcome = send_http(spec, params, idempotency_key=str(job.id), env=config.connector_env,
                        allowed_hosts=config.connector_hosts)
    return {"status": outcome.status, "variables": dict(outcome)}


def deliver(job, *, now: dt.datetime, registry=None, backoff: Backoff = DEFAULT_BACKOFF,
            config: Config | None = None) -> Delivery:
    """Deliver one claimed outbox job and record the outcome in one unit of work."""
    registry = registry or default_registry
    payload = job.payload or {}
    name = payload.get("connector")
    key = payload.get("idempotency_key") or job.idempotency_key
    spec = deployed_connectors.spec(name)
    max_attempts = job.max_attempts
    if spec is not None:
        max_attempts, backoff = policy_of(spec)
    try:
        result = call(job, name, payload.get("params") or {}, key, spec=spec, config=config,
                      registry=registry)
    except ConnectorError as exc:
        # A business answer (a BPMN error code) will be the same next time: no retry.
        error = f"{exc.bpmn_error_code}: {exc.message}" if exc.bpmn_error_code else exc.message
        return _failed(job, now=now, error=error,
                       retryable=exc.retryable and not exc.bpmn_error_code,
                       code=exc.bpmn_error_code, backoff=backoff, max_attempts=max_attempts)
    except Exception as exc:  # noqa: BLE001 - a transport's own fault: retry it like a timeout
        log.warning("outbox delivery failed", extra={"job": job.id, "connector": name,
                                                     "error": repr(exc)})
        return _failed(job, now=now, error=f"{type(exc).__name__}: {exc}", retryable=True,
                       code=None, backoff=backoff, max_attempts=max_attempts)
    uow = UnitOfWork(ACTOR)
    with uow.writing():
        if not jobs.finish(job, now=now, last_error=None):
            return Delivery(job.id, "lost")
        uow.record("connector.delivered", case_id=job.case_id, instance_id=job.instance_id,
                   job=job.id, connector=name, system=payload.get("system"),
                   idempotency_key=key, attempt=job.attempts, result=result)
    return Delivery(job.id, "delivered")


def _failed(job, *, now, error: str, retryable: bool, code: str | None, backoff,
            max_attempts: int) -> Delivery:
    payload = job.payload or {}
    detail = {"job": job.id, "connector": payload.get("connector"),
              "idempotency_key": payload.get("idempotency_key"), "attempt": job.attempts,
              "max_attempts": max_attempts, "error": error, "bpmn_error_code": code}
    final = not retryable or job.attempts >= max_attempts
    uow = UnitOfWork(ACTOR, clock=lambda: now)
    with uow.writing():
        if final:
            if not jobs.give_up(job, now=now, error=error):
                return Delivery(job.id, "lost")
            uow.record("connector.failed", case_id=job.case_id, instance_id=job.instance_id,
                       final=True, **detail)
            if job.case_id is not None and job.instance_id is not None:
                uow.open_incident(
                    case_id=job.case_id, instance_id=job.instance_id, kind=KIND, job_id=job.id,
                    element_id=payload.get("element_id") or payload.get("connector"),
                    message=f"delivery of {payload.get('connector')} failed after "
                            f"{job.attempts} attempt(s): {error}")
            return Delivery(job.id, "failed", error)
        at = jobs.reschedule(job, now=now, error=error, backoff=backoff)
        if at is None:
            return Delivery(job.id, "lost")
        uow.record("connector.failed", case_id=job.case_id, instance_id=job.instance_id,
                   final=False, next_attempt_at=at, **detail)
    return Delivery(job.id, "retrying", error, at)


__all__ = ["ACTOR", "Backoff", "DEFAULT_BACKOFF", "DEFAULT_LEASE", "Delivery", "KIND", "call",
           "claim", "deliver", "policy_of"]
