"""Use cases: one function per operation a user, a client system or the worker can do.

The HTTP API (``service/api``), the pages (``service/web``), the command line
(``service/cli``) and the worker (``service/worker.py``) call these and nothing below them.
Each operation that changes something opens one :class:`~.unit_of_work.UnitOfWork`, which
owns the transaction, idempotency, the instance save, decision records and audit appends.

    accounts      who is calling; users and tokens; demo users
    audit_trail   read and verify the hash-chained trail
    camunda       the Camunda 7 REST calls (/engine-rest) mapped onto these use cases
    cases         open a case (the one way), read, list, timeline, cancel
    decisions     evaluate a deployed decision
    deployments   deploy analysts' files; read deployed definitions
    due_timers    fire due timers (worker)
    incidents     list, read, retry; rerun failed steps (worker)
    messages      deliver a message to the instance waiting for it, or start a case
    models        risk models: versions, scoring, drift, activation, training
    notifications my notification preferences; sending queued notifications (worker)
    outbox        deliver connector calls to other systems (worker)
    signals       signal intake and detection rules (worker)
    system        open the database, migrate, per-request connections, health
    tasks         the inbox: list, claim, unclaim, delegate, complete
"""
from . import (accounts, audit_trail, camunda, cases, decisions, deployments, due_timers,
               incidents, messages, models, notifications, outbox, signals, system, tasks)
from .unit_of_work import IdempotentRequest, UnitOfWork

__all__ = ["IdempotentRequest", "UnitOfWork", "accounts", "audit_trail", "camunda", "cases",
           "decisions", "notifications",
           "deployments", "due_timers", "incidents", "messages", "models", "outbox", "signals",
           "system", "tasks"]
