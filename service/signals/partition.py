"""One partition's rules state: the live facts of every ruleset, fed one signal at a time.

Nothing here touches the database: given the same signals in the same order, a partition ends
in the same state and asks for the same cases, which is what makes a replay from the signal log
rebuild it exactly (restart safety). Time is the signals' own, and each correlation key has its
own clock (the newest signal time of that key): a fact is retracted once its ``keep_seconds``
have passed on its key's clock, so a store whose batch arrives hours behind another store's is
judged by its own signals. The partition's clock (its *watermark*, the newest signal time of
any key) only bounds memory: a fact also leaves once the ruleset's ``max_lateness_seconds`` more
have passed on it. A signal outside its window on arrival is *late* (:attr:`Applied.late`):
it is matched against the live facts, then leaves, and the consumer records it as such. No
engine timers are used.

Memory is bounded by the windows, the lateness allowance and ``max_per_key`` (see
:mod:`.ruleset`): the engine holds about 8 KB per live fact, so a 90-day window over a busy
source needs the cap. Three shortcuts keep durable-rules calls (about 20 µs each) to the ones
that can change a match, and the tests in ``tests/signals/test_partition.py`` compare them
with the plain path:

- a fact no alias of the ruleset could use (:class:`~.prefilter.Relevance`) is not sent;
- a key's clock fact stays out of the engine until a rule could use it (see ``_tick``);
- a fact's JSON is kept to retract it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import heapq
from dataclasses import dataclass, field

from .envelope import DECLARED_FIELDS, DERIVED, NESTED_FIELDS, TIME_FIELDS
from .matcher import Match, Matcher, RulesEngineError, bucket, encode
from .prefilter import ClockNeed, Relevance
from .ruleset import RulesetSpec

MAX_CHAIN = 1000          # actions triggered by one signal (an assert/retract loop is a bug)
MAX_REF = 200


@dataclass(frozen=True)
class SignalRecord:
    id: str
    type: str
    at: float             # seconds since the epoch
    data: dict
    seq: int


@dataclass(frozen=True)
class OpenRequest:
    """A match asks for a case; the consumer de-duplicates by ``ref`` and opens it."""
    ruleset: str
    rule: str
    case_type: str
    data: dict
    ref: str


@dataclass
class Applied:
    matched: list = field(default_factory=list)      # "ruleset.rule"
    opens: list = field(default_factory=list)        # OpenRequest
    errors: list = field(default_factory=list)       # messages
    late: list = field(default_factory=list)         # rulesets the signal came too late for


def epoch(value) -> float | None:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.timestamp()
    return None


def iso(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).isoformat()


def dedup_ref(case_type: str, values: list) -> str:
    ref = f"rules:{case_type}:" + "|".join(str(v) for v in values)
    if len(ref) > MAX_REF:
        ref = f"rules:{case_type}:#" + hashlib.sha256(ref.encode()).hexdigest()
    return ref


class _RulesetState:
    """One ruleset's live facts in one partition, and what the engine holds of them.

    Invariants: ``facts`` is exactly what the engine stores; every live fact and every clock
    has one entry in ``expires`` and at least one in the ``expiry`` heap (the partition's
    bound); every live fact also has one in its key's heap in ``key_expiry`` (clocks do not:
    a clock's time is its key's). Heaps are compacted when replaced facts leave too many stale
    entries behind. Per key and input type at most ``max_per_key`` signal facts are live.
    """

    def __init__(self, spec: RulesetSpec, partition: str):
        self.spec = spec
        self.partition = partition
        self.matcher = Matcher(spec, partition)
        self.rules = {r.name: r for r in spec.rules}
        self.relevance = Relevance(spec)
        need = ClockNeed(spec)
        self.need = need if spec.clock and need.usable else None
        self.facts: dict[str, dict] = {}          # id -> fact as asserted (held by the engine)
        self.texts: dict[str, str] = {}           # id -> its JSON, to retract it
        self.expires: dict[str, float] = {}        # id -> its key's time it leaves at
        self.expiry: list = []                     # heap of (expires_at, id), may hold stale ids
        self.lateness = spec.max_lateness_seconds  # expiry + this < watermark: leaves anyway
        self.key_clock: dict[str, float] = {}      # key -> newest signal time of the key
        self.key_expiry: dict[str, list] = {}      # key -> heap of (expires_at, id), stale ok
        self._sweep_at = 1024                      # key_clock size that triggers a sweep
        self.horizon = max([i.keep_seconds for i in spec.inputs.values()]
                           + [spec.window_seconds]) + self.lateness
        self.latest: dict[tuple, str] = {}         # (type, key, latest_by values) -> id
        self.slot_of: dict[str, tuple] = {}        # id -> its latest_by slot
        self.per_key: dict[tuple, dict] = {}       # (type, key) -> ids in arrival order
        self.clock: dict[str, dict] = {}           # key -> its current clock fact
        self.clock_key: dict[str, str] = {}        # clock id -> key
        self.clocks: dict[str, str] = {}           # key -> clock id the engine holds
        self.counts: dict[str, dict] = {}          # key -> {tracked test: live facts}
        self.marks: dict[str, tuple] = {}          # id -> tracked tests it satisfies
        self.pending: list[Match] = []
        self.caps = {t: i.max_per_key for t, i in spec.inputs.items()}
        self.nested = {t: tuple(n for n in NESTED_FIELDS[t] if n != i.each)
                       for t, i in spec.inputs.items()}

    # engine calls -----------------------------------------------------------------------------

    def _assert(self, fact: dict, keep: float) -> None:
        key = fact["k"]
        marks = ()
        if self.need is not None:
            marks = self.need.marks(fact)
            if (marks and key in self.clock and key not in self.clocks
                    and self.need.needed(self.counts.get(key), marks)):
                self._materialize(key)
        text = encode(fact)
        stored, matches = self.matcher.assert_fact(fact, text)
        self.pending.extend(matches)
        if not stored:
            return
        fid = fact["id"]
        self.facts[fid] = fact
        self.texts[fid] = text
        self._expire_at(fid, fact["at"] + keep, key)
        if marks:
            self.marks[fid] = marks
            counts = self.counts.setdefault(key, {})
            for i in marks:
                counts[i] = counts.get(i, 0) + 1
        cap = self.caps.get(fact["type"])
        if cap is not None:
            live = self.per_key.setdefault((fact["type"], key), {})
            live[fid] = None
            if len(live) > cap:
                self._retract(next(iter(live)))      # the oldest of the key goes first

    def _retract(self, fact_id: str) -> None:
        if fact_id in self.clock_key:
            self._drop_clock(fact_id)
            return
        fact = self.facts.pop(fact_id, None)
        if fact is None:
            return
        text = self.texts.pop(fact_id, None)
        self.expires.pop(fact_id, None)
        key = fact["k"]
        slot = self.slot_of.pop(fact_id, None)
        if slot is not None and self.latest.get(slot) == fact_id:
            del self.latest[slot]
        marks = self.marks.pop(fact_id, None)
        if marks:
            counts = self.counts[key]
            for i in marks:
                counts[i] -= 1
                if not counts[i]:
                    del counts[i]
            if not counts:
                del self.counts[key]
        live = self.per_key.get((fact["type"], key))
        if live is not None:
            live.pop(fact_id, None)
            if not live:
                del self.per_key[(fact["type"], key)]
        self.pending.extend(self.matcher.retract_fact(fact, text))

    def _expire_at(self, fact_id: str, when: float, key: str | None = None) -> None:
        """Schedule a fact (``key`` given: on its key's clock too) or a clock to leave."""
        self.expires[fact_id] = when
        entry = (when, fact_id)
        heapq.heappush(self.expiry, entry)
        if len(self.expiry) > 2 * len(self.expires) + 1024:
            # Replaced facts and clocks leave their entries behind; without this the heap
            # would grow with every snapshot for the length of the longest window.
            self.expiry = [(t, i) for i, t in self.expires.items()]
            heapq.heapify(self.expiry)
        if key is None:
            return
        heap = self.key_expiry.get(key)
        if heap is None:
            self.key_expiry[key] = [entry]
            return
        heapq.heappush(heap, entry)
        size = len(heap)
        if size >= 64 and not size & (size - 1):      # at 64, 128, 256...: amortized O(1)
            expires = self.expires
            heap[:] = [e for e in heap if expires.get(e[1]) == e[0]]
            heapq.heapify(heap)

    # clocks -----------------------------------------------------------------------------------

    def _tick(self, key: str, rec: SignalRecord) -> None:
        """Advance the key's clock; the engine holds it only while a rule could use it.

        Most keys never have every other fact a clock rule needs (channel mismatch: a
        ``mismatch_since``), and a clock costs a retract and an assert per signal. Keeping it
        out of the engine until then changes no match: it cannot complete a rule before, and no
        ``$not`` alias can see it (:class:`~.prefilter.ClockNeed` refuses such rulesets).
        """
        previous = self.clock.get(key)
        at = rec.at if previous is None else max(rec.at, previous["at"])
        if previous is not None:
            self._drop_clock(previous["id"])
        fact = {"id": f"clock:{rec.seq}:{key}", "sid": bucket(key), "k": key, "type": "clock",
                "seq": rec.seq, "at": at}
        self.clock[key] = fact
        self.clock_key[fact["id"]] = key
        self._expire_at(fact["id"], at + self.spec.window_seconds)   # partition bound only
        if self.need is None or self.need.needed(self.counts.get(key)):
            self._materialize(key)

    def _materialize(self, key: str) -> None:
        fact = self.clock[key]
        stored, matches = self.matcher.assert_fact(fact)
        self.pending.extend(matches)
        if stored:
            self.facts[fact["id"]] = fact
            self.clocks[key] = fact["id"]

    def _drop_clock(self, fact_id: str) -> None:
        key = self.clock_key.pop(fact_id)
        self.expires.pop(fact_id, None)
        if self.clock.get(key, {}).get("id") == fact_id:
            del self.clock[key]
        if self.clocks.get(key) == fact_id:
            del self.clocks[key]
            fact = self.facts.pop(fact_id)
            self.pending.extend(self.matcher.retract_fact(fact))

    # signals ----------------------------------------------------------------------------------

    def feed(self, rec: SignalRecord, base: dict, watermark: float, out: Applied) -> None:
        """Assert the signal's fact(s) for this ruleset; ``base`` is its declared fields in
        engine form (shared by the rulesets of the partition, so copied before changing)."""
        spec = self.spec
        inp = spec.inputs[rec.type]
        if inp.each:
            base = dict(base)
            values = base.pop(inp.each, None) or []
            items = [(f"{rec.id}#{i}", {**base, inp.as_field: v}) for i, v in enumerate(values)]
        else:
            items = [(rec.id, dict(base))]
        nested = self.nested[rec.type]
        leaves = rec.at + inp.keep_seconds
        late = touched = None
        for fact_id, fact in items:
            for name in nested:
                fact.pop(name, None)          # a rule cannot test a list or an object
            values = [fact.get(k) for k in spec.key]
            if None in values:
                continue
            key = "|".join(map(str, values))
            clock = self.key_clock.get(key)
            if clock is None or rec.at > clock:
                self.key_clock[key] = clock = rec.at
            fact.update(id=fact_id, sid=bucket(key), k=key, type=rec.type, seq=rec.seq,
                        at=rec.at)
            # A fact no alias could use would be "not handled" by the engine: skip the call.
            usable = self.relevance.could_use(fact)
            if usable and (leaves < clock or leaves < watermark - self.lateness):
                late = True       # matched against what is live, then leaves (see evict_key)
            if inp.latest_by:
                slot = (rec.type, key) + tuple(fact.get(f) for f in inp.latest_by)
                previous = self.latest.get(slot)
                if previous is not None:
                    if self.facts[previous]["at"] > rec.at:
                        late = late or usable        # a newer one holds the slot: keep it
                        continue
                    self._retract(previous)
            if usable:
                self._assert(fact, inp.keep_seconds)
                if inp.latest_by and fact_id in self.facts:
                    self.latest[slot] = fact_id
                    self.slot_of[fact_id] = slot
            if spec.clock:
                self._tick(key, rec)
            touched = [key] if touched is None else touched + [key]
        if late:
            out.late.append(spec.name)
        if self.pending:
            self._drain(rec, out)
        if touched:
            for key in touched:
                self.evict_key(key)
            if self.pending:
                self._drain(rec, out)

    def evict_key(self, key: str) -> None:
        """Retract the key's facts whose time has passed on the key's own clock."""
        heap = self.key_expiry.get(key)
        if heap is None:
            return
        clock = self.key_clock[key]
        if heap[0][0] < clock:
            expires = self.expires
            while heap and heap[0][0] < clock:
                when, fact_id = heapq.heappop(heap)
                if expires.get(fact_id) == when:
                    self._retract(fact_id)      # else replaced, reset or capped earlier
            if not heap:
                del self.key_expiry[key]

    def _drain(self, rec: SignalRecord, out: Applied) -> None:
        steps = 0
        while self.pending:
            match = self.pending.pop(0)
            steps += 1
            if steps > MAX_CHAIN:
                self.pending.clear()
                raise RulesEngineError(f"ruleset {self.spec.name!r}: more than {MAX_CHAIN} "
                                       "actions for one signal (an assert/retract loop?)")
            rule = self.rules[match.rule]
            out.matched.append(f"{self.spec.name}.{rule.name}")
            for n, action in enumerate(rule.actions):
                self._act(action, rule, match, rec, n, out)

    def _act(self, action, rule, match: Match, rec: SignalRecord, n: int, out: Applied) -> None:
        first = match.facts[rule.aliases[0]]
        if action.kind == "open":
            data = {name: _value(expr, match.facts) for name, expr in action.data.items()}
            values = [data.get(f) for f in action.dedup] if action.dedup else [rec.id, rule.name]
            out.opens.append(OpenRequest(self.spec.name, rule.name, action.case_type, data,
                                         dedup_ref(action.case_type, values)))
            if action.reset:
                for alias in rule.aliases:
                    self._retract(match.facts[alias]["id"])
        elif action.kind == "assert":
            fact = {name: _value(expr, match.facts) for name, expr in action.data.items()
                    if name != "type"}
            fact.update({"id": f"{rule.name}:{rec.seq}:{n}:{first['k']}", "sid": first["sid"],
                         "k": first["k"], "type": action.data["type"], "seq": rec.seq,
                         "at": rec.at})
            self._assert({k: v for k, v in fact.items() if v is not None},
                         self.spec.window_seconds)
        else:
            self._retract(match.facts[action.alias]["id"])

    def evict(self, watermark: float, rec: SignalRecord, out: Applied) -> None:
        """Retract what has lagged the partition's clock by more than the lateness allowance
        (idle keys), and forget the clocks of keys that can hold nothing any more."""
        expiry = self.expiry
        bound = watermark - self.lateness
        if expiry and expiry[0][0] < bound:
            while expiry and expiry[0][0] < bound:
                when, fact_id = heapq.heappop(expiry)
                if self.expires.get(fact_id) == when:
                    self._retract(fact_id)      # else replaced, reset or capped earlier
            self._drain(rec, out)
        if len(self.key_clock) > self._sweep_at:
            self._sweep(watermark)

    def _sweep(self, watermark: float) -> None:
        """Drop the clocks of keys idle for longer than any fact of theirs can live.

        Dropping one changes nothing: any signal of such a key older than its clock would be
        late by the partition's clock as well (its keep + lateness < the horizon).
        """
        oldest = watermark - self.horizon
        holding, expires = self.key_expiry, self.expires
        for key, heap in list(holding.items()):
            live = [e for e in heap if expires.get(e[1]) == e[0]]
            if not live:
                del holding[key]
            elif len(live) < len(heap):
                heapq.heapify(live)
                holding[key] = live
        self.key_clock = {k: t for k, t in self.key_clock.items()
                          if t >= oldest or k in holding or k in self.clock}
        self._sweep_at = 2 * len(self.key_clock) + 1024

    @property
    def live(self) -> int:
        return len(self.facts)

    def close(self) -> None:
        self.matcher.close()


def _base(rec: SignalRecord, partition: str) -> dict:
    """The signal's declared fields as the engine gets them: times in epoch seconds, derived
    fields computed, nested values left out (a rule cannot test them), region defaulted."""
    derived = DERIVED.get(rec.type, {})
    times = TIME_FIELDS[rec.type]
    data = rec.data
    base = {}
    for name in DECLARED_FIELDS[rec.type]:
        if name in derived:
            continue
        value = data.get(name)
        if value is None:
            if name == "region":
                base[name] = partition        # a signal without region is in "default"
            continue
        if name in times:
            value = epoch(value)
            if value is None:
                continue
        base[name] = value
    for name, compute in derived.items():
        value = compute(base)
        if value is not None:
            base[name] = value
    return base


def _value(expr, facts: dict):
    if isinstance(expr, str):
        alias, _, name = expr.partition(".")
        return facts.get(alias, {}).get(name)
    op, arg = next(iter(expr.items()))
    if op == "value":
        return arg
    if op in ("max", "min"):
        values = [v for v in (_value(a, facts) for a in arg) if v is not None]
        return (max if op == "max" else min)(values) if values else None
    if op == "time":
        seconds = _value(arg, facts)
        return iso(seconds) if isinstance(seconds, (int, float)) else seconds
    return None


class PartitionState:
    """The rules state of one partition, owned by one consumer at a time."""

    def __init__(self, partition: str, specs: list[RulesetSpec]):
        self.partition = partition
        self.signature = tuple((s.name, s.version) for s in specs)
        self.position = 0           # seq of the last signal applied
        self.watermark = float("-inf")
        self._rulesets = [_RulesetState(s, partition) for s in specs]

    @property
    def horizon(self) -> float:
        """How far back (seconds of signal time) a replay must start to rebuild this state:
        the longest time a fact can stay, lateness allowance included."""
        return max((r.horizon for r in self._rulesets), default=0.0)

    @property
    def live_facts(self) -> int:
        return sum(r.live for r in self._rulesets)

    def apply(self, rec: SignalRecord, *, replaying: bool = False) -> Applied:
        out = Applied()
        if rec.at > self.watermark:
            self.watermark = rec.at
        base = None
        for state in self._rulesets:
            try:
                if rec.type in state.spec.inputs:
                    if base is None:
                        base = _base(rec, self.partition)
                    state.feed(rec, base, self.watermark, out)
                state.evict(self.watermark, rec, out)
            except RulesEngineError as exc:
                state.pending.clear()
                out.errors.append(exc.detail)
        self.position = rec.seq
        return out

    def close(self) -> None:
        for state in self._rulesets:
            state.close()
