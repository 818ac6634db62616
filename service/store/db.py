"""The database: one peewee proxy, opened from the config, and the one unit-of-work helper.

SQLite (the embedded default) runs in WAL mode with a busy timeout and foreign keys on, and every
write transaction starts with ``BEGIN IMMEDIATE``: the write lock is taken up front, so two
writers cannot deadlock when both try to upgrade a read lock ("database is locked"); our own
writers queue before that on a lock file (see ``_transaction``). PostgreSQL is selected with
``DATABASE_URL=postgresql://...``.
"""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from urllib.parse import unquote, urlparse

import peewee
from playhouse.pool import PooledPostgresqlDatabase

try:
    import fcntl
except ImportError:           # not POSIX: writers meet at SQLite's busy timeout only
    fcntl = None

database = peewee.DatabaseProxy()
_lock = threading.Lock()

SQLITE_PRAGMAS = (
    ("journal_mode", "wal"),
    ("busy_timeout", 30000),
    ("foreign_keys", 1),
    ("synchronous", "normal"),
    ("cache_size", -16000),
)


def open_database(url: str) -> peewee.Database:
    """Build the peewee database for a URL (``sqlite:///path`` or ``postgresql://...``)."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = unquote(url[len("sqlite:///"):]) if url.startswith("sqlite:///") else ":memory:"
        return peewee.SqliteDatabase(path or ":memory:", pragmas=SQLITE_PRAGMAS,
                                     lock_type="IMMEDIATE", check_same_thread=False)
    if parsed.scheme in ("postgres", "postgresql"):
        # Pooled: a request returns its connection at teardown instead of closing it, so no
        # request pays for a new PostgreSQL connection (a fork and authentication).
        return PooledPostgresqlDatabase(
            unquote(parsed.path.lstrip("/")), max_connections=32, stale_timeout=300, timeout=30,
            user=unquote(parsed.username or "") or None,
            password=unquote(parsed.password or "") or None, host=parsed.hostname,
            port=parsed.port)
    raise ValueError(f"unsupported DATABASE_URL scheme {parsed.scheme!r}")


def bind(url: str) -> peewee.Database:
    """Point the shared proxy at the database for ``url`` (closing any previous one)."""
    with _lock:
        previous = database.obj
        if previous is not None:
            if not previous.is_closed():
                previous.close()
            if hasattr(previous, "close_all"):
                previous.close_all()          # a pool keeps idle connections open otherwise
        db = open_database(url)
        database.initialize(db)
        return db


def is_postgres() -> bool:
    return isinstance(database.obj, peewee.PostgresqlDatabase)


# SQLite has one writer at a time. Writers queue for it on these locks rather than in SQLite's
# busy handler, which sleeps in steps of up to 100 ms and retries: with several writers that
# sleeping, not the work, bounded throughput, and a process could starve for seconds while
# another took the write lock again between two of its retries (p99 of 1.5 to 6 s with two
# HTTP processes under load). Threads of one process queue on a thread lock; processes (the
# HTTP processes, the worker, a CLI command) on an exclusive ``flock`` of a file beside the
# database, which the kernel grants as soon as the holder lets go and releases if the holder
# dies. A program that does not take it (the sqlite3 shell) still meets us at BEGIN IMMEDIATE.
_sqlite_writer = threading.Lock()


class _WriterFileLock:
    """The per-process handle on ``<database>.writer-lock``, opened after any fork (a lock
    inherited across ``fork`` would be held by both processes at once)."""

    def __init__(self):
        self._pid, self._path, self._fd = None, None, None

    def _handle(self, path: str) -> int:
        if self._fd is None or self._pid != os.getpid() or self._path != path:
            if self._fd is not None:
                # Never held here (only inside ``held``); a forked child's copy closing leaves
                # the parent's handle as it was.
                os.close(self._fd)
            self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid, self._path = os.getpid(), path
        return self._fd

    @contextmanager
    def held(self, db: peewee.SqliteDatabase):
        path = db.database
        if fcntl is None or not path or path == ":memory:" or path.startswith("file:"):
            yield
            return
        fd = self._handle(f"{path}.writer-lock")
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)


_writer_file = _WriterFileLock()


@contextmanager
def _transaction():
    db = database.obj
    if isinstance(db, peewee.SqliteDatabase):
        with _sqlite_writer, _writer_file.held(db):
            with database.atomic():
                yield
    else:
        with database.atomic():
            yield


@contextmanager
def atomic():
    """One unit of work: BEGIN ... COMMIT, or ROLLBACK on any exception.

    Nested calls become savepoints, so a function that needs a transaction can always use this
    whether or not its caller already opened one. Nothing else in the code base commits.
    """
    if database.in_transaction():
        with database.atomic():        # a savepoint
            yield
    else:
        with _transaction():
            yield


@contextmanager
def joined():
    """Join the caller's transaction, or start one if there is none.

    For helpers that must write inside their caller's unit of work (the audit chain, the
    instance save): unlike :func:`atomic` they open no savepoint, which saves two statements
    per call on the hot path. Use :func:`atomic` where a failure must roll back only the
    inner part.
    """
    if database.in_transaction():
        yield
    else:
        with _transaction():
            yield


def for_update(query):
    """Lock the selected rows until commit on PostgreSQL; SQLite's IMMEDIATE lock covers it."""
    return query.for_update() if is_postgres() else query


def for_update_skip_locked(query):
    return query.for_update("FOR UPDATE SKIP LOCKED") if is_postgres() else query
