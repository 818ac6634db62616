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
still pending, never half done. The in-memory rules state runs ahead of the transaction; when a
batch fails, or the lease position is not where this process left it, the state is discarded
and rebuilt by replaying the partition's processed signals within the rulesets' windows
(without opening cases: those outcomes are already recorded).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import weakref
from functools import lru_cache

import peewee

from .. import audit, cases
from ..errors import OmniflowError
from ..policy import Identity
from ..store import Case, Definition, Lease, Signal, atomic, database, dumps, utcnow
from . import ruleset as rulesets
from .partition import Applied, PartitionState, SignalRecord

log = logging.getLogger(__name__)

LEASE_SECONDS = 30.0
BATCH = 1000
REPLAY_CHUNK = 5000
ACTOR = "rules"
IDENTITY = Identity(ACTOR, frozenset(), {}, True)
OPEN_STATUSES = ("open", "incident")

# Rules state per database (tests bind a new one per test) and partition.
_states: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_lock = threading.RLock()


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


def run_pending(config, *, owner: str, now: dt.datetime | None = None, limit: int = 20_000) -> int:
    """Take or renew leases, process pending signals in order; returns how many were processed."""
    specs = active_rulesets()
    total = 0
    with _lock:
        moment = now or utcnow()
        free = (Lease.select(Lease.partition)
                .where((Lease.owner == owner) | (Lease.expires_at < moment))
                .order_by(Lease.partition).tuples())
        for (partition,) in list(free):
            while total < limit:
                done = _batch(config, partition, owner, now, specs, min(BATCH, limit - total))
                if not done:
                    break
                total += done
    return total


def _take(partition: str, owner: str, now: dt.datetime) -> int | None:
    """Take or renew the lease; returns its position, or None when another owner holds it."""
    taken = (Lease.update(owner=owner, expires_at=now + dt.timedelta(seconds=LEASE_SECONDS))
             .where(Lease.partition == partition,
                    (Lease.owner == owner) | (Lease.expires_at < now)).execute())
    if not taken:
        return None
    return Lease.select(Lease.position).where(Lease.partition == partition).scalar()


def _batch(config, partition, owner, now, specs, size) -> int:
    reg = _registry()
    try:
        with atomic():
            position = _take(partition, owner, now or utcnow())
            if position is None:
                forget(partition)
                return 0
            state = reg.get(partition)
            signature = tuple((s.name, s.version) for s in specs)
            if state is None or state.position != position or state.signature != signature:
                forget(partition)
                state = reg[partition] = rebuild(partition, specs, position)
            # Walk the seq index from the position: with the partition index the database
            # would read every signal of the partition ever stored, per batch. (A composite
            # (partition, seq) index would serve both; the table belongs to store/.)
            rows = list(Signal.select(Signal.id, Signal.type, Signal.at, Signal.data, Signal.seq)
                        .where(Signal.seq > position,
                               peewee.fn.COALESCE(Signal.partition, "") == partition)
                        .order_by(Signal.seq).limit(size).tuples())
            if not rows:
                return 0
            results = []
            for sid, type_, at, data, seq in rows:
                rec = SignalRecord(sid, type_, at.timestamp(), data or {}, seq)
                results.append((sid,) + _settle(config, rec, state.apply(rec)))
            _write(results)
            Lease.update(position=state.position).where(Lease.partition == partition).execute()
        return len(rows)
    except BaseException:
        forget(partition)     # the state ran ahead of a transaction that did not commit
        raise


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


def _settle(config, rec: SignalRecord, applied: Applied) -> tuple[str, dict, int | None]:
    """Open the cases a signal's matches ask for; returns (status, outcome, case id)."""
    outcome: dict = {"rules": applied.matched}
    errors = list(applied.errors)
    opened, duplicates = [], []
    for req in applied.opens:
        existing = (Case.select(Case.id).where(Case.external_ref == req.ref,
                                               Case.status.in_(OPEN_STATUSES))
                    .order_by(Case.id).first())
        if existing is not None:
            duplicates.append(existing.id)
            continue
        try:
            _, response = cases.submit(IDENTITY, {"type": req.case_type, "data": req.data,
                                                  "external_ref": req.ref}, config=config)
        except (peewee.OperationalError, peewee.InterfaceError):
            raise                      # the database is gone: stop, retry the batch later
        except OmniflowError as exc:
            errors.append(f"{req.ruleset}.{req.rule}: {req.case_type}: {exc.detail}")
            continue
        except Exception as exc:  # noqa: BLE001 - one bad process must not stall the stream
            log.exception("opening a case from a rule failed")
            errors.append(f"{req.ruleset}.{req.rule}: {req.case_type}: {exc}")
            continue
        opened.append(response["id"])
        audit.record("rules.matched", actor=ACTOR, case_id=response["id"], signal=rec.id,
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
    else:
        status = "no_match"
    case_id = (opened or duplicates or [None])[0]
    return status, outcome, case_id


def _write(results) -> None:
    """Record outcomes with one UPDATE per distinct outcome (most signals share 'no match')."""
    groups: dict = {}
    for sid, status, outcome, case_id in results:
        groups.setdefault((status, dumps(outcome), case_id), []).append(sid)
    for (status, outcome, case_id), ids in groups.items():
        for start in range(0, len(ids), 500):
            (Signal.update(status=status, outcome=json.loads(outcome), case=case_id)
             .where(Signal.id.in_(ids[start:start + 500])).execute())
