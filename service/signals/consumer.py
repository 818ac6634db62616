"""The rules consumer: one owner per partition, signals in arrival order, an outcome on each.

The worker loop (``service/worker.py``) calls :func:`run_pending` on every tick; where the
embedded default runs one process the worker runs inside it, and with PostgreSQL every worker
process calls it and the leases share the partitions out. Tests call it directly after POSTing
signals to see the cases open synchronously.

Ownership: a partition's ``lease`` row names its owner until ``expires_at``; taking or renewing
it is one conditional ``UPDATE`` (owner is me, or the lease has expired), and every batch renews
it in the same transaction that writes the batch's outcomes, so a consumer that lost its lease
cannot commit a batch. ``lease.position`` is the seq of the last signal whose outcome committed.

One batch = one transaction: the outcomes of up to ``BATCH`` signals, the cases they opened and
the new position commit together, so after a crash a signal is either done with its case or
still pending, never half done. Detection over the batch runs before that transaction (it only
reads committed signals; on SQLite the transaction holds the one write lock intake needs), and
the transaction commits only if the lease is still ours at the position detection started from.
The in-memory rules state runs ahead of the transaction; when a batch fails, or the lease
position is not where this process left it, the state is discarded and rebuilt from the log
(:mod:`.detection`, shared with the JetStream consumer). With ``OMNIFLOW_SIGNALS_URL`` set,
:func:`run_pending` runs :mod:`.streamed` instead: the broker delivers, this table only records.

Costs (bench/README.md, "Signals"): reading a batch and writing its outcomes are one statement
each, without ORM objects; the cases a batch asks for are looked up in one query. What is left
per signal is detection, mostly durable-rules itself (:mod:`.matcher`).
"""
from __future__ import annotations

import datetime as dt
import json
import weakref

import peewee

from ..store import Lease, Signal, atomic, database, utcnow
from . import streamed
from .detection import OpenCase, active_rulesets, forget, lock, rebuild, record, registry
from .partition import SignalRecord

__all__ = ["run_pending", "forget", "rebuild", "active_rulesets", "registry"]

LEASE_SECONDS = 30.0
BATCH = 1000
_last_served: dict = {}       # owner -> the partition its last batch was for


def run_pending(open_case: OpenCase, *, owner: str, now: dt.datetime | None = None,
                limit: int = 20_000, config=None) -> int:
    """Take or renew leases, process pending signals in order; returns how many were processed.

    ``open_case(case_type, data, ref) -> case id`` opens the case a rule asks for, inside the
    batch's transaction (the service's one way to open a case); it raises ``OmniflowError``
    when the case cannot be opened. With ``config.signals_url`` set, the JetStream consumer
    (:mod:`.streamed`) runs instead.

    Partitions take turns, one batch each, starting after the one served last (the previous
    call may have stopped at ``limit``), so a backlog in one partition holds none of the others
    back, nor lets their rules state lag the stream while it is worked off.
    """
    if config is not None and config.signals_url:
        return streamed.run_pending(config, open_case, owner=owner, limit=limit)
    specs = active_rulesets()
    total = 0
    with lock:
        moment = now or utcnow()
        free = [p for (p,) in (Lease.select(Lease.partition)
                               .where((Lease.owner == owner) | (Lease.expires_at < moment))
                               .order_by(Lease.partition).tuples())]
        last = _last_served.get(owner, "")
        free = [p for p in free if p > last] + [p for p in free if p <= last]
        while free and total < limit:
            busy = []
            for partition in free:
                if total >= limit:
                    break
                done = _batch(open_case, partition, owner, now, specs, min(BATCH, limit - total))
                if done:
                    total += done
                    busy.append(partition)
                    _last_served[owner] = partition
            free = busy
    return total


def _take(partition: str, owner: str, now: dt.datetime) -> int | None:
    """Take or renew the lease; returns its position, or None when another owner holds it."""
    taken = (Lease.update(owner=owner, expires_at=now + dt.timedelta(seconds=LEASE_SECONDS))
             .where(Lease.partition == partition,
                    (Lease.owner == owner) | (Lease.expires_at < now)).execute())
    if not taken:
        return None
    return Lease.select(Lease.position).where(Lease.partition == partition).scalar()


def _batch(open_case, partition, owner, now, specs, size) -> int:
    """Detect over the next signals, then commit their outcomes, cases and position at once.

    Detection runs before the write transaction: it only reads committed signals, and on SQLite
    a write transaction holds the database's one write lock, which intake needs to acknowledge
    signals. The transaction then moves the position only if it is still the one detection
    started from and the lease is still ours (one conditional UPDATE); otherwise the state,
    which ran ahead, is dropped and nothing is written.
    """
    reg = registry()
    moment = now or utcnow()
    try:
        lease = (Lease.select(Lease.owner, Lease.expires_at, Lease.position)
                 .where(Lease.partition == partition).tuples().first())
        if lease is None:
            return 0
        holder, expires, position = lease
        if holder != owner and expires >= moment:
            forget(partition)
            return 0
        state = reg.get(partition)
        signature = tuple((s.name, s.version) for s in specs)
        if state is None or state.position != position or state.signature != signature:
            forget(partition)
            state = reg[partition] = rebuild(partition, specs, position)
        rows = _pending(partition, position, size)
        if not rows:
            with atomic():          # keep (or take) the lease while there is nothing to do
                if _take(partition, owner, moment) is None:
                    forget(partition)
            return 0
        applied = [(rec, state.apply(rec)) for rec in rows]
        with atomic():
            taken = (Lease.update(owner=owner, position=state.position,
                                  expires_at=moment + dt.timedelta(seconds=LEASE_SECONDS))
                     .where(Lease.partition == partition, Lease.position == position,
                            (Lease.owner == owner) | (Lease.expires_at < moment)).execute())
            if not taken:
                forget(partition)
                return 0
            record(open_case, applied)
        return len(rows)
    except BaseException:
        forget(partition)     # the state ran ahead of a transaction that did not commit
        raise


_UTC = dt.timezone.utc
_composite: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _has_partition_seq_index() -> bool:
    """Whether ``signal`` has an index led by (partition, seq) (asked once per database)."""
    db = database.obj
    known = _composite.get(db)
    if known is None:
        known = _composite[db] = any(
            list(ix.columns[:2]) == ["partition", "seq"] for ix in database.get_indexes("signal"))
    return known


def _pending(partition: str, position: int, size: int) -> list[SignalRecord]:
    """The partition's next signals after ``position``, in seq order, read without the ORM.

    With an index on (partition, seq) that is one range read. Without it, walking the seq
    index from the position and skipping other partitions is still bounded by the batch; the
    partition index alone would make the database read and sort every signal of the partition
    ever stored, per batch.
    """
    if _has_partition_seq_index():
        where = (Signal.partition == partition) & (Signal.seq > position)
    else:
        where = (Signal.seq > position) & (peewee.fn.COALESCE(Signal.partition, "") == partition)
    query = (Signal.select(Signal.id, Signal.type, Signal.at, Signal.data, Signal.seq)
             .where(where).order_by(Signal.seq).limit(size))
    at_value, loads = Signal.at.python_value, json.loads
    out = []
    for sid, type_, at, data, seq in database.execute(query):
        if type(at) is str:     # SQLite: naive UTC text
            at = dt.datetime.fromisoformat(at).replace(tzinfo=_UTC)
        else:
            at = at_value(at)
        out.append(SignalRecord(sid, type_, at.timestamp(), loads(data) if data else {}, seq))
    return out


