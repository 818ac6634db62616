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
        return PostgresDatabase(
            unquote(parsed.path.lstrip("/")), max_connections=32, stale_timeout=300, timeout=30,
            user=unquote(parsed.username or "") or None,
            password=unquote(parsed.password or "") or None, host=parsed.hostname,
            port=parsed.port)
    raise ValueError(f"unsupported DATABASE_URL scheme {parsed.scheme!r}")


class PostgresDatabase(PooledPostgresqlDatabase):
    """PostgreSQL where a transaction's writes that return nothing ride with its next statement.

    A unit of work is a dozen statements, and on PostgreSQL each one is a network round trip
    (and a wake-up of the server process). ``BEGIN``, and the writes the caller hands to
    :meth:`defer` (an insert whose id nobody reads, an update whose row count nobody checks),
    wait in a per-thread list and go to the server in front of the next statement, as one
    query (psycopg2 binds parameters on the client, and PostgreSQL runs the statements of one
    query in order); what is left goes with ``COMMIT``. The server does the same work in the
    same order: what changes is that an error in a deferred write is raised by the statement
    it rode with, inside the same transaction, which then rolls back as before.
    """

    def _deferred(self) -> list:
        state = self._state
        pending = getattr(state, "deferred", None)
        if pending is None:
            pending = state.deferred = []
        return pending

    def defer(self, sql: str, params) -> None:
        """Run ``sql`` with the transaction's next statement (now, outside a transaction)."""
        if not self.in_transaction():
            self.execute_sql(sql, params)
            return
        self._deferred().append((sql, list(params or ())))

    def _with_deferred(self, sql: str, params) -> tuple[str, list]:
        pending = self._deferred()
        texts, values = [], []
        for text, args in [*pending, (sql, list(params or ()))]:
            text = text.rstrip().rstrip(";")
            # Joined, the query is bound as a whole: a literal % of an unbound one is escaped.
            texts.append(text if args else text.replace("%", "%%"))
            values.extend(args)
        pending.clear()
        return "; ".join(texts), values

    def execute_sql(self, sql, params=None):
        if getattr(self._state, "deferred", None):
            sql, params = self._with_deferred(sql, params)
        return super().execute_sql(sql, params)

    def cursor(self, named_cursor=None):
        # A caller with its own cursor (psycopg2's execute_values) runs statements we do not
        # see: what waits is sent first, so they run after it, inside the transaction.
        cursor = super().cursor(named_cursor)
        if getattr(self._state, "deferred", None):
            sql, params = self._with_deferred("SELECT 1", [])
            cursor.execute(sql, params)
        return cursor

    def begin(self, isolation_level=None):
        if isolation_level is None and not self._isolation_level:
            if self.is_closed():
                # Opened now, as the BEGIN it replaces would have: opening a connection later
                # would clear the transaction peewee is about to push.
                self.connect()
            pending = self._deferred()
            pending.clear()                     # nothing of an earlier transaction is kept
            pending.append(("BEGIN", []))
        else:
            super().begin(isolation_level)

    def commit(self):
        pending = self._deferred()
        if pending == [("BEGIN", [])]:          # nothing was written: nothing to send
            pending.clear()
            return
        if pending:
            sql, params = self._with_deferred("COMMIT", [])
            self.execute_sql(sql, params)
            return
        super().commit()

    def rollback(self):
        pending = self._deferred()
        unsent = bool(pending) and pending[0] == ("BEGIN", [])
        pending.clear()
        if not unsent:                          # the server has a transaction to roll back
            super().rollback()


def defer(sql: str, params) -> None:
    """Run a write whose result nobody reads: on PostgreSQL with the transaction's next
    statement (see :class:`PostgresDatabase`), on SQLite now (there is no round trip to save)."""
    db = database.obj
    if isinstance(db, PostgresDatabase):
        db.defer(sql, params)
    else:
        database.execute_sql(sql, params)


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
