"""Use cases: one function per operation a user, a client system or the worker can do.

The HTTP API (``service/api``), the pages (``service/web``), the command line
(``service/cli``) and the worker (``service/worker.py``) call these and nothing below them.
Each operation that changes something opens one :class:`~.unit_of_work.UnitOfWork`, which
owns the transaction, idempotency, the instance save, decision records and audit appends.

    accounts      who is calling; users and tokens; demo users
    audit_trail   read and verify the hash-chained trail
    camunda       the Camunda 7 REST calls (/engine-rest) mapped onto these use cases
    capabilities  what a person may do, asked ahead so pages offer only what will be allowed
    case_diagram  a case's process and where it went (completed, active, incident elements)
    cases         open a case (the one way), read, list, timeline, cancel
    decisions     evaluate a deployed decision
    deployments   deploy analysts' files; read deployed definitions
    due_timers    fire due timers (worker)
    external_tasks  workers' external tasks: fetchAndLock (long polling), complete, failure,
                  bpmnError, extendLock, unlock, queries (/engine-rest/external-task)
    incidents     list, read, retry; rerun failed steps (worker)
    kpis          what operations leads measure: cycle time, SLA, auto-resolution, drift...
    messages      deliver a message to the instance waiting for it, or start a case
    models        risk models: versions, scoring, drift, activation, training
    notifications my notification preferences; sending queued notifications (worker)
    outbox        deliver connector calls to other systems (worker)
    sessions      sign in to the pages with a password; the session cookie; passwords
    signals       signal intake and detection rules (worker)
    system        open the database, migrate, per-request connections, health
    tasks         the inbox: list, claim, unclaim, delegate, complete
"""
from . import (accounts, audit_trail, camunda, capabilities, case_diagram, cases, decisions,
               deployments, due_timers, external_tasks, incidents, kpis, messages, models, notifications, outbox,
               sessions, signals, system, tasks)
from .unit_of_work import IdempotentRequest, UnitOfWork

__all__ = ["IdempotentRequest", "UnitOfWork", "accounts", "audit_trail", "camunda",
           "capabilities", "case_diagram", "cases", "decisions", "deployments", "due_timers",
           "external_tasks", "incidents", "kpis", "messages", "models", "notifications", "outbox", "sessions",
           "signals", "system", "tasks"]
