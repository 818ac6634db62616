"""One partition's rules state: the live facts of every ruleset, fed one signal at a time.

Nothing here touches the database: given the same signals in the same order, a partition ends
in the same state and asks for the same cases, which is what makes a replay from the signal log
rebuild it exactly (restart safety). Time is the signals' own: the partition's clock (its
*watermark*) is the newest signal time seen, and a fact is retracted once its ``keep_seconds``
have passed on that clock. No engine timers are used, and memory stays bounded by the windows.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import heapq
from dataclasses import dataclass, field

from .envelope import DECLARED_FIELDS, DERIVED, TIME_FIELDS
from .matcher import Match, Matcher, RulesEngineError, bucket
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
    def __init__(self, spec: RulesetSpec, partition: str):
        self.spec = spec
        self.partition = partition
        self.matcher = Matcher(spec, partition)
        self.facts: dict[str, dict] = {}          # id -> fact as asserted
        self.expiry: list = []                     # heap of (expires_at, id)
        self.latest: dict[tuple, str] = {}         # (type, key, latest_by values) -> id
        self.clocks: dict[str, str] = {}           # key -> id of its clock fact
        self.slot_of: dict[str, tuple] = {}        # id -> its latest_by slot
        self.pending: list[Match] = []

    def _assert(self, fact: dict, keep: float) -> None:
        stored, matches = self.matcher.assert_fact(fact)
        self.pending.extend(matches)
        if stored:
            self.facts[fact["id"]] = fact
            heapq.heappush(self.expiry, (fact["at"] + keep, fact["id"]))

    def _retract(self, fact_id: str) -> None:
        fact = self.facts.pop(fact_id, None)
        if fact is None:
            return
        slot = self.slot_of.pop(fact_id, None)
        if slot is not None and self.latest.get(slot) == fact_id:
            del self.latest[slot]
        if self.clocks.get(fact["k"]) == fact_id:
            del self.clocks[fact["k"]]
        self.pending.extend(self.matcher.retract_fact(fact))

    def feed(self, rec: SignalRecord, out: Applied, replaying: bool) -> None:
        spec = self.spec
        inp = spec.inputs.get(rec.type)
        if inp is None:
            return
        base = {}
        times = TIME_FIELDS[rec.type]
        derived = DERIVED.get(rec.type, {})
        for name in DECLARED_FIELDS[rec.type]:
            if name in derived:
                continue
            value = rec.data.get(name)
            if name in times and value is not None:
                value = epoch(value)
            if name == "region" and value is None:
                value = self.partition        # a signal without region is in "default"
            if value is None or isinstance(value, (dict, list)) and name != inp.each:
                continue
            base[name] = value
        for name, compute in derived.items():
            value = compute(base)
            if value is not None:
                base[name] = value
        items = [(None, base)]
        if inp.each:
            values = base.pop(inp.each, None) or []
            items = [(i, {**base, inp.as_field: v}) for i, v in enumerate(values)]
        for index, fields in items:
            if any(fields.get(k) is None for k in spec.key):
                continue
            key = "|".join(str(fields[k]) for k in spec.key)
            fact = {**fields, "id": rec.id if index is None else f"{rec.id}#{index}",
                    "sid": bucket(key), "k": key, "type": rec.type, "seq": rec.seq, "at": rec.at}
            if inp.latest_by:
                slot = (rec.type, key) + tuple(fields.get(f) for f in inp.latest_by)
                previous = self.latest.get(slot)
                if previous is not None:
                    self._retract(previous)
            self._assert(fact, inp.keep_seconds)
            if inp.latest_by and fact["id"] in self.facts:
                self.latest[slot] = fact["id"]
                self.slot_of[fact["id"]] = slot
            if spec.clock:
                self._tick(key, rec)
        self._drain(rec, out)

    def _tick(self, key: str, rec: SignalRecord) -> None:
        previous = self.clocks.get(key)
        at = rec.at
        if previous is not None and previous in self.facts:
            at = max(at, self.facts[previous]["at"])
            self._retract(previous)
        fact = {"id": f"clock:{rec.seq}:{key}", "sid": bucket(key), "k": key, "type": "clock",
                "seq": rec.seq, "at": at}
        self.clocks[key] = fact["id"]
        self._assert(fact, self.spec.window_seconds)

    def _drain(self, rec: SignalRecord, out: Applied) -> None:
        steps = 0
        while self.pending:
            match = self.pending.pop(0)
            steps += 1
            if steps > MAX_CHAIN:
                self.pending.clear()
                raise RulesEngineError(f"ruleset {self.spec.name!r}: more than {MAX_CHAIN} "
                                       "actions for one signal (an assert/retract loop?)")
            rule = next(r for r in self.spec.rules if r.name == match.rule)
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
        while self.expiry and self.expiry[0][0] < watermark:
            _, fact_id = heapq.heappop(self.expiry)
            self._retract(fact_id)      # a no-op when it was replaced or reset earlier
        self._drain(rec, out)

    def close(self) -> None:
        self.matcher.close()


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
        """How far back (seconds of signal time) a replay must start to rebuild this state."""
        keeps = [i.keep_seconds for r in self._rulesets for i in r.spec.inputs.values()]
        keeps += [r.spec.window_seconds for r in self._rulesets]
        return max(keeps, default=0.0)

    @property
    def live_facts(self) -> int:
        return sum(len(r.facts) for r in self._rulesets)

    def apply(self, rec: SignalRecord, *, replaying: bool = False) -> Applied:
        out = Applied()
        if rec.at > self.watermark:
            self.watermark = rec.at
        for state in self._rulesets:
            try:
                state.feed(rec, out, replaying)
                state.evict(self.watermark, rec, out)
            except RulesEngineError as exc:
                state.pending.clear()
                out.errors.append(exc.detail)
        self.position = rec.seq
        return out

    def close(self) -> None:
        for state in self._rulesets:
            state.close()
