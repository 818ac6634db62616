"""Signal intake: store a batch of validated signals in one transaction, each id once.

The transaction that acknowledges a signal is the one that stores it, so nothing acknowledged is
ever lost. Each stored signal gets ``seq``, its arrival order: the consumer of a partition reads
``seq > position`` in order, so sequence numbers must be handed out in commit order. Intake
therefore serializes on one lock (SQLite's ``BEGIN IMMEDIATE`` write lock already does; on
PostgreSQL a transaction-scoped advisory lock does), which costs little because a whole array
is one short transaction of a single ``INSERT``.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from psycopg2.extras import execute_values

from ..store import Lease, Signal, atomic, database, is_postgres, utcnow
from .envelope import Envelope

INTAKE_LOCK = 7314002          # pg_advisory_xact_lock key (7314001 is the migration lock)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_CHUNK = 500                   # ids per IN (...) query


@dataclass(frozen=True)
class Receipt:
    accepted: tuple[str, ...]
    duplicates: tuple[str, ...]

    def as_response(self) -> dict:
        return {"accepted": len(self.accepted), "duplicates": len(self.duplicates),
                "items": [{"id": i, "status": "accepted"} for i in self.accepted]
                + [{"id": i, "status": "duplicate"} for i in self.duplicates]}


def store(envelopes: list[Envelope], *, ordered: bool = True) -> Receipt:
    """Insert the signals not seen before; a repeated id (in the log or the batch) is a duplicate.

    ``ordered=False`` (signals on a broker): the broker's stream gives the arrival order, so
    rows get ``seq`` 0 until the consumer records their stream sequence, and intake takes no
    lock and writes no lease rows.
    """
    with atomic():
        if ordered and is_postgres():
            database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (INTAKE_LOCK,))
        ids = [e.id for e in envelopes]
        seen = set()
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start:start + _CHUNK]
            seen.update(r[0] for r in Signal.select(Signal.id).where(Signal.id.in_(chunk)).tuples())
        last = (Signal.select(Signal.seq).order_by(Signal.seq.desc()).limit(1).scalar() or 0
                if ordered else None)
        now = received_now()
        rows, accepted, duplicates, partitions = [], [], [], set()
        for env in envelopes:
            if env.id in seen:
                duplicates.append(env.id)
                continue
            seen.add(env.id)
            if ordered:
                last += 1
            accepted.append(env.id)
            partitions.add(env.partition)
            rows.append(row_of(env, last or 0, now))
        if rows:
            insert_rows(rows)
        if rows and ordered:
            # A lease row per partition, free to take, tells consumers where work may be.
            Lease.insert_many([{"partition": p, "owner": "", "expires_at": _EPOCH, "position": 0}
                               for p in sorted(partitions)]).on_conflict_ignore().execute()
    return Receipt(tuple(accepted), tuple(duplicates))


_COLUMNS = ("id", "type", "at", "data", "partition", "seq", "received_at", "status")
_at, _data, _received = (Signal._meta.columns[c] for c in ("at", "data", "received_at"))


def received_now():
    """Now, as the ``received_at`` column stores it."""
    return _received.db_value(utcnow())


def row_of(env: Envelope, seq: int, received) -> tuple:
    """A pending signal row for :func:`insert_rows` (``received`` from :func:`received_now`)."""
    return (env.id, env.type, _at.db_value(env.at), _data.db_value(env.data), env.partition, seq,
            received, "pending")


def insert_rows(rows: list[tuple]) -> None:
    """One multi-row INSERT through the driver: peewee's query builder costs more than the write.

    Rows are tuples in :data:`_COLUMNS` order, converted by the table's own fields
    (``db_value``), so the stored form is exactly what ``Signal.insert_many`` would have written.
    """
    table = Signal._meta.table_name
    cols = ", ".join(f'"{c}"' for c in _COLUMNS)
    cursor = database.cursor()
    if is_postgres():
        # Table and column names come from our models; every value is a bound parameter.
        execute_values(cursor, f'INSERT INTO "{table}" ({cols}) VALUES %s', rows,  # nosec B608
                       page_size=1000)
    else:
        marks = ", ".join("?" * len(_COLUMNS))
        # Table and column names come from our models; every value is a bound parameter.
        cursor.executemany(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', rows)  # nosec B608
