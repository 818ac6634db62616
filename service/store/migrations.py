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
from .tables import (ALL_TABLES, AuditHead, Incident, Instance, MessageSubscription, SchemaVersion,
                     Signal)

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


MIGRATIONS = [
    (1, "initial schema", _initial),
    (2, "message subscriptions, incident kind and job", _messages_and_incident_jobs),
    (3, "signal partition and arrival order index", _signal_partition_index),
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
