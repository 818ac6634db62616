"""The service's own lifecycle: open the database, bring its schema up to date, per-request
connections, and health.

Migrating is an explicit step (``server.py migrate``, and ``serve``/``worker`` before they
start serving), never a side effect of building the web application: several HTTP processes
starting at once would otherwise each try to alter the schema.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

from .. import audit, store
from ..config import Config
from ..errors import SchemaOutdated
from ..store import migrations, utcnow
from .models import sync_shipped


def open_store(config: Config, *, migrate: bool = True, audit_key: bool = True) -> Config:
    """Bind the database of ``config``; migrate it (default) or check it is current; load
    (or, on first start, create) the audit key unless ``audit_key`` is False (an auditor's
    independent verification needs only the public key)."""
    if config.is_sqlite and config.database_url.startswith("sqlite:///"):
        # First start: the data directory (and the SQLite file's folder) is created.
        Path(unquote(config.database_url[len("sqlite:///"):])).parent.mkdir(parents=True, exist_ok=True)
    store.bind(config.database_url)
    store.database.connect(reuse_if_open=True)
    if audit_key:
        audit.use_key(audit.AuditKey.load_or_create(config.audit_key_file))
    if migrate:
        store.migrate()
    else:
        have, want = store.current_version(), migrations.MIGRATIONS[-1][0]
        if have != want:
            raise SchemaOutdated(f"the database schema is at version {have}, this code needs "
                                 f"{want}: run 'python server.py migrate'", have=have, want=want)
    return config


def start_serving(config: Config) -> None:
    """What every process that serves requests does once: bind, check, register models."""
    open_store(config, migrate=False)
    sync_shipped(config.models_dir)   # register the shipped model versions (idempotent)


def connect() -> None:
    """Before a request: this thread's connection (SQLite) or one from the pool (PostgreSQL)."""
    store.database.connect(reuse_if_open=True)


def release() -> None:
    """After a request: PostgreSQL connections go back to the pool; SQLite ones are kept (they
    are per thread and cheap)."""
    if store.is_postgres() and not store.database.is_closed():
        store.database.close()


def close() -> None:
    store.database.close()


def audit_key():
    """This process's audit key (after :func:`open_store`)."""
    return audit.current_key()


def health() -> dict:
    return {"status": "ok", "schema_version": store.current_version()}


__all__ = ["audit_key", "close", "connect", "health", "open_store", "release", "start_serving", "utcnow"]
