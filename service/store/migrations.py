"""Forward-only schema migrations, so an upgrade never needs a fresh database.

Each migration is ``(version, name, function)``; the function receives the database and runs its
DDL inside the migration transaction. ``schema_version`` records what has been applied. Add a new
migration at the end; never edit one that has shipped.
"""
from __future__ import annotations

import logging

from playhouse.migrate import SchemaMigrator
from playhouse.migrate import migrate as run

from .db import database, is_postgres
from .tables import (ALL_TABLES, ApiToken, AuditEvent, AuditHead, Definition, ExternalTask,
                     Incident, Instance,
                     MessageSubscription, NotificationPreference, SchemaVersion, Signal, Task,
                     TaskNotice, TimerStart, User, WebSession, WorkerHeartbeat)

log = logging.getLogger(__name__)


def _initial(db):
    """Version 1: the tables of DESIGN.md and the audit head row."""
    db.create_tables(ALL_TABLES, safe=True)
    AuditHead.insert(id=1, seq=0, hash="0" * 64).on_conflict_ignore().execute()


def _messages_and_incident_jobs(db):
    """Version 2: ``message_subscription`` (the index of waiting message catches); on
    ``incident``, ``kind`` and ``job_id`` so an incident knows what to re-run on retry; the
    ``instance (status, next_due_at)`` index the worker finds due timers with.

    ``_initial`` builds tables from the current models, so on a new database the columns and
    indexes exist already; each step checks (or uses IF NOT EXISTS) before it alters.
    """
    db.create_tables([MessageSubscription], safe=True)
    Instance.create_table(safe=True)      # adds the missing (status, next_due_at) index only
    have = {c.name for c in db.get_columns("incident")}
    migrator = SchemaMigrator.from_database(getattr(db, "obj", db))
    steps = []
    if "kind" not in have:
        steps.append(migrator.add_column("incident", "kind", Incident.kind))
    if "job_id" not in have:
        steps.append(migrator.add_column("incident", "job_id", Incident.job))
    if steps:
        run(*steps)


def _signal_partition_index(db):
    """Version 3: the ``signal (partition, seq)`` index, so the rules consumer reads one
    partition in arrival order from its position with a range read."""
    Signal.create_table(safe=True)        # creates the missing index only (IF NOT EXISTS)


APPEND_ONLY_SQLITE = [
    "CREATE TRIGGER IF NOT EXISTS audit_event_no_update BEFORE UPDATE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_event_no_delete BEFORE DELETE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
]
APPEND_ONLY_POSTGRES = [
    "CREATE OR REPLACE FUNCTION omniflow_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'audit_event is append-only'; END $$",
    "DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event",
    "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
    "FOR EACH ROW EXECUTE FUNCTION omniflow_append_only()",
    "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event",
    "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
    "FOR EACH STATEMENT EXECUTE FUNCTION omniflow_append_only()",
    # The role that migrates is, in the embedded setup, the one the service runs as: it
    # keeps INSERT and SELECT. (Run the service as a role that does not own the tables, and
    # these privileges cannot be granted back by it either; see README, PostgreSQL.)
    "REVOKE UPDATE, DELETE, TRUNCATE ON audit_event FROM PUBLIC",
    "REVOKE UPDATE, DELETE, TRUNCATE ON audit_event FROM CURRENT_USER",
]


def _audit_anchored(db):
    """Version 4: the audit trail anchored outside the database and append-only inside it:
    ``mac`` on ``audit_event`` and ``audit_head`` (HMAC with the audit key), ``mac_from`` on
    the head; triggers refusing UPDATE and DELETE (and TRUNCATE on PostgreSQL) of
    ``audit_event``, and on PostgreSQL those privileges revoked."""
    have = {c.name for c in db.get_columns("audit_event")}
    head = {c.name for c in db.get_columns("audit_head")}
    migrator = SchemaMigrator.from_database(getattr(db, "obj", db))
    steps = []
    if "mac" not in have:
        steps.append(migrator.add_column("audit_event", "mac", AuditEvent.mac))
    if "mac" not in head:
        steps.append(migrator.add_column("audit_head", "mac", AuditHead.mac))
    if "mac_from" not in head:
        steps.append(migrator.add_column("audit_head", "mac_from", AuditHead.mac_from))
    if steps:
        run(*steps)
    for statement in APPEND_ONLY_POSTGRES if is_postgres() else APPEND_ONLY_SQLITE:
        db.execute_sql(statement)


def _external_tasks_and_notifications(db):
    """Version 5: ``external_task`` (the external tasks waiting for workers, with their locks),
    ``notification_preference`` (email address and opt-outs per user) and ``task_notice``
    (which notifications were queued for a task, so each is sent once)."""
    db.create_tables([ExternalTask, NotificationPreference, TaskNotice], safe=True)


def _passwords_and_sessions(db):
    """Version 6: ``user.password_hash`` (people sign in to the pages with a password) and
    ``web_session`` (browser sign-ins: the hashed cookie value, its CSRF token, its expiry)."""
    db.create_tables([WebSession], safe=True)
    if "password_hash" not in {c.name for c in db.get_columns("user")}:
        migrator = SchemaMigrator.from_database(getattr(db, "obj", db))
        run(migrator.add_column("user", "password_hash", User.password_hash))


def _keyless_message_catches(db):
    """Version 7: ``message_subscription.variables``, the scalar variables of an instance
    waiting at a catch without correlation keys, matched against a message's correlation
    values as Camunda 7 does."""
    if "variables" not in {c.name for c in db.get_columns("message_subscription")}:
        migrator = SchemaMigrator.from_database(getattr(db, "obj", db))
        run(migrator.add_column("message_subscription", "variables",
                                MessageSubscription.variables))


def _definition_bindings(db):
    """Version 8: ``definition.bindings``, the connector bindings file deployed beside a BPMN
    file (``X.bindings.json``), kept with the version it was deployed with."""
    if "bindings" not in {c.name for c in db.get_columns("definition")}:
        migrator = SchemaMigrator.from_database(getattr(db, "obj", db))
        run(migrator.add_column("definition", "bindings", Definition.bindings))


def _worker_heartbeats(db):
    """Version 9: ``worker_heartbeat``, one row per background worker process with the time
    it last ran a pass, so readiness can tell that timers and deliveries are being served."""
    db.create_tables([WorkerHeartbeat], safe=True)


def _token_expiry(db):
    """Version 10: ``api_token.expires_at``, an optional end of a bearer token's validity."""
    if "expires_at" not in {c.name for c in db.get_columns("api_token")}:
        migrator = SchemaMigrator.from_database(getattr(db, "obj", db))
        run(migrator.add_column("api_token", "expires_at", ApiToken.expires_at))


def _timer_starts(db):
    """Version 11: ``timer_start``, the schedule of deployed timer start events (one row per
    process key, its next due time), from which the worker starts one case per due time."""
    db.create_tables([TimerStart], safe=True)


def _task_person_indexes(db):
    """Version 12: ``task (claimed_by)`` and ``task (completed_by)``: the inbox of a small group
    reads the caller's candidate and own tasks by index instead of walking every open task in
    due order (seconds at a million open tasks)."""
    Task.create_table(safe=True)          # creates the missing indexes only (IF NOT EXISTS)


def _task_person_status_indexes(db):
    """Version 13: ``task (assignee|claimed_by|completed_by, status)`` in place of the
    single-column indexes: a person's open inbox no longer reads every task they ever completed
    (280 ms for 100,000 of them at a million open tasks)."""
    Task.create_table(safe=True)          # creates the missing indexes only (IF NOT EXISTS)
    for superseded in ("task_assignee", "task_claimed_by", "task_completed_by"):
        db.execute_sql(f'DROP INDEX IF EXISTS "{superseded}"')


MIGRATIONS = [
    (1, "initial schema", _initial),
    (2, "message subscriptions, incident kind and job", _messages_and_incident_jobs),
    (3, "signal partition and arrival order index", _signal_partition_index),
    (4, "audit trail anchored by the audit key, append-only in the database", _audit_anchored),
    (5, "external tasks with locks, notification preferences and notices",
     _external_tasks_and_notifications),
    (6, "passwords and browser sessions", _passwords_and_sessions),
    (7, "variables of instances waiting at message catches without correlation keys",
     _keyless_message_catches),
    (8, "connector bindings deployed beside BPMN files", _definition_bindings),
    (9, "worker heartbeats", _worker_heartbeats),
    (10, "bearer token expiry", _token_expiry),
    (11, "timer start event schedules", _timer_starts),
    (12, "indexes of the people on a task", _task_person_indexes),
    (13, "indexes of the people on a task, with its status", _task_person_status_indexes),
]


def current_version() -> int:
    if not database.table_exists("schema_version"):
        return 0
    row = SchemaVersion.select().order_by(SchemaVersion.version.desc()).first()
    return row.version if row else 0


def migrate() -> list[int]:
    """Apply pending migrations in one transaction; returns the versions applied."""
    applied = []
    with database.atomic():
        if is_postgres():
            # Several processes may start at once; one migrates, the others wait and see it done.
            database.execute_sql("SELECT pg_advisory_xact_lock(7314001)")
        have = current_version()
        for version, name, step in MIGRATIONS:
            if version <= have:
                continue
            log.info("applying migration", extra={"version": version, "migration": name})
            step(database)
            SchemaVersion.create(version=version, name=name)
            applied.append(version)
    return applied
