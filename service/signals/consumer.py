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
position is not where this process left it, the state is discarded and rebuilt by replaying the
partition's processed signals within the rulesets' windows (without opening cases: those
outcomes are already recorded).

Costs (bench/README.md, "Signals"): reading a batch and writing its outcomes are one statement
each, without ORM objects; the cases a batch asks for are looked up in one query. What is left
per signal is detection, mostly durable-rules itself (:mod:`.matcher`).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import weakref
from functools import lru_cache
from typing import Callable

import peewee

from .. import audit
from ..errors import OmniflowError, ValidationFailed
from ..store import (Case, Definition, Lease, Signal, atomic, database, dumps,
                     is_postgres, utcnow)
from . import ruleset as rulesets
from .counters import COUNTERS
from .partition import Applied, PartitionState, SignalRecord

log = logging.getLogger(__name__)

OpenCase = Callable[[str, dict, str], int]

LEASE_SECONDS = 30.0
BATCH = 1000
REPLAY_CHUNK = 5000
ACTOR = "rules"
OPEN_STATUSES = ("open", "incident")

# Rules state per database (tests bind a new one per test) and partition.
_states: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_lock = threading.RLock()
_last_served: dict = {}       # owner -> the partition its last batch was for


@lru_cache(maxsize=256)
def _parsed(row_id: int, file: str, source: str, version: int):
    return rulesets.parse(file, json.loads(source), version=version)


def active_rulesets() -> list:
    """The newest deployed version of every ruleset (parsed once per definition row)."""
    newest = {}
    for row in (Definition.select(Definition.id, Definition.key, Definition.version,
                                  Definition.file, Definition.source)
                .where(Definition.kind == "rules").order_by(Definition.key, Definition.version)):
        newest[row.key] = row
    return [_parsed(r.id, r.file, r.source, r.version) for r in newest.values()]


def _registry() -> dict:
    db = database.obj
    with _lock:
        reg = _states.get(db)
        if reg is None:
            reg = _states[db] = {}
        return reg


def forget(partition: str | None = None) -> None:
    """Drop in-memory state (all partitions, or one); it is rebuilt from the log when needed."""
    if database.obj is None:
        return
    reg = _registry()
    for name in [partition] if partition else list(reg):
        state = reg.pop(name, None)
        if state is not None:
            state.close()


def run_pending(open_case: OpenCase, *, owner: str, now: dt.datetime | None = None,
                limit: int = 20_000) -> int:
    """Take or renew leases, process pending signals in order; returns how many were processed.

    ``open_case(case_type, data, ref) -> case id`` opens the case a rule asks for, inside the
    batch's transaction (the service's one way to open a case); it raises ``OmniflowError``
    when the case cannot be opened.

    Partitions take turns, one batch each, starting after the one served last (the previous
    call may have stopped at ``limit``), so a backlog in one partition holds none of the others
    back, nor lets their rules state lag the stream while it is worked off.
    """
    specs = active_rulesets()
    total = 0
    with _lock:
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
                done = _batch(open_case, partition, owner, now, specs,
                              min(BATCH, limit - total))
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
    reg = _registry()
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
            # Every case the batch asks for is looked up in one query before any is opened.
            refs = {req.ref for _, a in applied for req in a.opens}
            open_cases = _open_cases(refs) if refs else {}
            missing: dict = {}
            _write([(rec.id,) + _settle(open_case, rec, a, open_cases, missing)
                    for rec, a in applied])
        COUNTERS.add(processed=len(rows), late=sum(1 for _, a in applied if a.late))
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


def _open_cases(refs) -> dict:
    """external_ref -> id of the oldest open case, for the refs a batch asks to open."""
    found: dict = {}
    refs = sorted(refs)
    for start in range(0, len(refs), 500):
        for case_id, ref in (Case.select(Case.id, Case.external_ref)
                             .where(Case.external_ref.in_(refs[start:start + 500]),
                                    Case.status.in_(OPEN_STATUSES))
                             .order_by(Case.id).tuples()):
            found.setdefault(ref, case_id)
    return found


def rebuild(partition: str, specs, position: int) -> PartitionState:
    """Replay the processed signals that are still inside a window, opening nothing."""
    state = PartitionState(partition, specs)
    if position:
        newest = (Signal.select(peewee.fn.MAX(Signal.at))
                  .where(Signal.partition == partition, Signal.seq <= position).scalar())
        if newest is not None:
            since = newest - dt.timedelta(seconds=state.horizon)
            last = 0
            while True:
                rows = list(Signal.select(Signal.id, Signal.type, Signal.at, Signal.data, Signal.seq)
                            .where(Signal.partition == partition, Signal.seq > last,
                                   Signal.seq <= position, Signal.at >= since)
                            .order_by(Signal.seq).limit(REPLAY_CHUNK).tuples())
                if not rows:
                    break
                for sid, type_, at, data, seq in rows:
                    state.apply(SignalRecord(sid, type_, at.timestamp(), data or {}, seq),
                                replaying=True)
                last = rows[-1][-1]
        log.info("rebuilt rules state", extra={"partition": partition, "position": position,
                                               "facts": state.live_facts})
    state.position = position
    return state


def _settle(open_case, rec: SignalRecord, applied: Applied, open_cases: dict,
            missing: dict) -> tuple[str, dict, int | None]:
    """Open the cases a signal's matches ask for; returns (status, outcome, case id).

    ``open_cases`` (external_ref -> open case id) was read at the start of the batch; every
    case opened here is added to it, so a later signal of the batch sees it as the database
    would (the batch is one transaction, and only this consumer opens rule cases of its
    partition's refs). ``missing`` remembers, for the batch, the case types that have no
    process: a condition that keeps matching would otherwise pay a failed submit per signal.
    """
    if not applied.opens and not applied.errors and not applied.late:
        return ("matched" if applied.matched else "no_match"), {"rules": applied.matched}, None
    outcome: dict = {"rules": applied.matched}
    if applied.late:
        outcome["late"] = applied.late       # too late for these rulesets' windows
    errors = list(applied.errors)
    opened, duplicates = [], []
    for req in applied.opens:
        existing = open_cases.get(req.ref)
        if existing is not None:
            duplicates.append(existing)
            continue
        if req.case_type in missing:
            errors.append(f"{req.ruleset}.{req.rule}: {req.case_type}: {missing[req.case_type]}")
            continue
        try:
            case_id = open_case(req.case_type, req.data, req.ref)
        except (peewee.OperationalError, peewee.InterfaceError):
            raise                      # the database is gone: stop, retry the batch later
        except OmniflowError as exc:
            if isinstance(exc, ValidationFailed) and exc.extra.get("field") == "type":
                missing[req.case_type] = exc.detail        # no process for the case type
            errors.append(f"{req.ruleset}.{req.rule}: {req.case_type}: {exc.detail}")
            continue
        except Exception as exc:  # noqa: BLE001 - one bad process must not stall the stream
            log.exception("opening a case from a rule failed")
            errors.append(f"{req.ruleset}.{req.rule}: {req.case_type}: {exc}")
            continue
        opened.append(case_id)
        open_cases[req.ref] = case_id
        audit.record("rules.matched", actor=ACTOR, case_id=case_id, signal=rec.id,
                     ruleset=req.ruleset, rule=req.rule, ref=req.ref)
    if opened:
        outcome["cases"] = opened
    if duplicates:
        outcome["duplicate_of"] = duplicates
    if errors:
        outcome["error"] = "; ".join(errors)[:2000]
        status = "error"
    elif opened:
        status = "case_opened"
    elif duplicates:
        status = "duplicate"
    elif applied.matched:
        status = "matched"
    elif applied.late:
        status = "late"
    else:
        status = "no_match"
    case_id = (opened or duplicates or [None])[0]
    return status, outcome, case_id


def _write(results) -> None:
    """Record every outcome in one statement per batch (bound rows, no ORM objects).

    Outcomes repeat (most signals share 'no match'), so each distinct outcome is encoded once.
    """
    encoded: dict = {}
    rows = []
    for sid, status, outcome, case_id in results:
        key = repr(outcome) if len(outcome) == 1 else None
        text = encoded.get(key) if key is not None else None
        if text is None:
            text = dumps(outcome)
            if key is not None:
                encoded[key] = text
        rows.append((status, text, case_id, sid))
    table = Signal._meta.table_name
    cursor = database.cursor()
    if is_postgres():
        from psycopg2.extras import execute_values
        execute_values(cursor, f'UPDATE "{table}" AS s SET status = v.status, outcome = v.outcome, '
                       f'case_id = v.case_id FROM (VALUES %s) AS v(status, outcome, case_id, id) '
                       f'WHERE s.id = v.id', rows, template="(%s, %s, %s::integer, %s)",
                       page_size=1000)
    else:
        cursor.executemany(f'UPDATE "{table}" SET status = ?, outcome = ?, case_id = ? '
                           f'WHERE id = ?', rows)
