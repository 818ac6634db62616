"""Detection shared by both consumers: rules state per partition, replay, outcomes, cases.

:mod:`.consumer` (the signal table with leases, the embedded default) and :mod:`.streamed`
(NATS JetStream) differ in where signals come from and who owns a partition; what a batch
does is the same: apply each signal to the partition's state (:mod:`.partition`), then in one
transaction open the cases the matches ask for (through the ``open_case`` function the caller
passes in: ``service.usecases.signals.run_rules`` gives the service's one way to open a case)
and record every signal's outcome.

The in-memory state runs ahead of the transaction; when a batch fails or the committed position
is not where this process left it, the state is discarded and rebuilt by replaying the
partition's processed signals within the rulesets' horizon (without opening cases: those
outcomes are recorded already).
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
from psycopg2.extras import execute_values

from .. import audit
from ..errors import OmniflowError, ValidationFailed
from ..store import Case, Definition, Signal, database, dumps, is_postgres
from . import ruleset as rulesets
from .counters import COUNTERS
from .partition import Applied, PartitionState, SignalRecord

log = logging.getLogger(__name__)

REPLAY_CHUNK = 5000
ACTOR = "rules"
#: ``open_case(case_type, data, ref) -> case id`` opens the case a rule asks for inside the
#: batch's transaction (the service's one way to open a case, passed in by its caller); it
#: raises ``OmniflowError`` when the case cannot be opened.
OpenCase = Callable[[str, dict, str], int]
OPEN_STATUSES = ("open", "incident")

# Rules state per database (tests bind a new one per test) and partition.
_states: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
lock = threading.RLock()


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


def registry() -> dict:
    """partition -> PartitionState, for the database bound now."""
    db = database.obj
    with lock:
        reg = _states.get(db)
        if reg is None:
            reg = _states[db] = {}
        return reg


def forget(partition: str | None = None) -> None:
    """Drop in-memory state (all partitions, or one); it is rebuilt from the log when needed."""
    if database.obj is None:
        return
    reg = registry()
    for name in [partition] if partition else list(reg):
        state = reg.pop(name, None)
        if state is not None:
            state.close()


def open_cases_for(refs) -> dict:
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
                  .where(Signal.partition == partition, Signal.seq > 0,
                         Signal.seq <= position).scalar())
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


def record(open_case: OpenCase, applied: list, *, streamed: bool = False) -> None:
    """Open the cases a batch asks for and write every outcome; inside the batch's transaction.

    ``applied`` is ``[(SignalRecord, Applied)]``. ``streamed``: the records' ``seq`` is their
    stream sequence, written to the row (whose intake left it 0) as its place in the log.
    """
    # Every case the batch asks for is looked up in one query before any is opened.
    refs = {req.ref for _, a in applied for req in a.opens}
    open_cases = open_cases_for(refs) if refs else {}
    missing: dict = {}
    results = [(rec,) + _settle(open_case, rec, a, open_cases, missing) for rec, a in applied]
    _write(results, streamed)
    COUNTERS.add(processed=len(applied), late=sum(1 for _, a in applied if a.late))


def _write(results, streamed: bool) -> None:
    """Record every outcome in one statement per batch (bound rows, no ORM objects).

    Outcomes repeat (most signals share 'no match'), so each distinct outcome is encoded once.
    """
    encoded: dict = {}
    rows = []
    for rec, status, outcome, case_id in results:
        key = repr(outcome) if len(outcome) == 1 else None
        text = encoded.get(key) if key is not None else None
        if text is None:
            text = dumps(outcome)
            if key is not None:
                encoded[key] = text
        rows.append((status, text, case_id, rec.seq, rec.id) if streamed
                    else (status, text, case_id, rec.id))
    table = Signal._meta.table_name
    cursor = database.cursor()
    seq_set = ", seq = v.seq" if streamed else ""
    if is_postgres():
        columns = "status, outcome, case_id" + (", seq" if streamed else "") + ", id"
        template = "(%s, %s, %s::integer" + (", %s::bigint" if streamed else "") + ", %s)"
        # Table and column names come from our models; every value is a bound parameter.
        execute_values(cursor, f'UPDATE "{table}" AS s SET status = v.status, outcome = v.outcome, '  # nosec B608
                       f'case_id = v.case_id{seq_set} FROM (VALUES %s) AS v({columns}) '
                       f'WHERE s.id = v.id', rows, template=template, page_size=1000)
    else:
        seq_set = ", seq = ?" if streamed else ""
        # Table and column names come from our models; every value is a bound parameter.
        cursor.executemany(f'UPDATE "{table}" SET status = ?, outcome = ?, case_id = ?{seq_set} '  # nosec B608
                           f'WHERE id = ?', rows)
