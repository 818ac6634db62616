"""What-if replay of a decision: past decision records against a candidate DMN, changing nothing.

The candidate is parsed exactly as a deployment would parse it (``deployment.validate_files``),
compiled once, and every selected record's recorded inputs are evaluated in a tight loop
(``DecisionModel.evaluator``), streamed from the database in keyset chunks. Each outcome is
compared with the recorded one (outputs and matched rules, both stored on the record), so the
deployed version need not be evaluated again. Nothing is written: no record, no audit event.
"""
from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable

from ..decisions import DecisionModel, DmnError, NameNotProvided
from ..decisions.feel import NUMBER_CONTEXT
from ..errors import NotFound, ValidationFailed
from ..sandbox import BudgetExceeded
from ..store import Case, DecisionRecord, Definition, paging
from ..store.fields import json_default
from . import definitions
from .deployment import validate_files

CHUNK = 2000
DEFAULT_LIMIT = 100_000
MAX_LIMIT = 1_000_000
EXAMPLES = 10           # changed decisions listed in full
CASES_PER_ROW = 5       # case ids per transition and per rule
MAX_WARNINGS = 20       # distinct warning texts kept; the rest are counted together
MEMO = 50_000           # parsed recorded outcomes and converted numbers kept during a replay
_UNSEEN = object()


@dataclass(frozen=True)
class Filters:
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    case_type: str | None = None
    limit: int = DEFAULT_LIMIT


def apply_filters(query, filters: Filters):
    """``query`` of decision records narrowed to ``filters``' time window and case type: one
    selection for a decision's what-if and a model's (``model_replay``), so the two agree."""
    R = DecisionRecord
    if filters.since is not None:
        query = query.where(R.created_at >= filters.since)
    if filters.until is not None:
        query = query.where(R.created_at < filters.until)
    if filters.case_type:
        query = query.where(R.case.in_(Case.select(Case.id).where(Case.type == filters.case_type)))
    return query


@dataclass(frozen=True)
class Target:
    """What a what-if replays: the deployed DMN definition and one of its decisions."""
    row: Definition
    decision: str

    @property
    def decisions(self) -> list[str]:
        return [d["id"] for d in (self.row.meta or {}).get("decisions", [])]


def target(key: str, decision: str | None = None) -> Target:
    """``key`` is a DMN definition key (the workbench's) or a decision id; 404 when neither is
    deployed."""
    row = definitions.latest("dmn", key)
    if row is None:
        row = definitions.decision_definition(key)
        decision = decision or key
    ids = [d["id"] for d in (row.meta or {}).get("decisions", [])]
    decision = decision or (ids[0] if ids else key)
    if decision not in ids:
        raise NotFound(f"{row.key} v{row.version} has no decision {decision!r}",
                       decision=decision, element=decision)
    return Target(row, decision)


def candidate_model(goal: Target, files: dict[str, bytes], *, max_bytes: int) -> tuple:
    """Parse the candidate files as a deployment would; 422 naming the file and element when
    they do not parse, do not define ``goal``'s key, or lack its decision."""
    parsed = validate_files(files, max_bytes=max_bytes)
    for p in parsed:
        if p.kind != "dmn":
            raise ValidationFailed(f"{p.file}: a what-if takes DMN files only", field="files",
                                   file=p.file, element=p.key)
    key = goal.row.key
    mine = next((p for p in parsed if p.key == key), None)
    if mine is None:
        named = ", ".join(sorted(p.key for p in parsed))
        raise ValidationFailed(f"the candidate defines {named}, not {key} (the file name "
                               f"gives the key: {key}.dmn)", field="files", element=key,
                               file=parsed[0].file if parsed else None)
    if goal.decision not in [d["id"] for d in mine.meta.get("decisions", [])]:
        raise ValidationFailed(f"{mine.file}: the candidate has no decision {goal.decision!r}",
                               field="files", file=mine.file, element=goal.decision)
    by_namespace = {row.meta["namespace"]: row.source for row in definitions.latest_all("dmn")
                    if (row.meta or {}).get("namespace")}
    by_namespace.update({p.meta.get("namespace"): p.source for p in parsed if p is not mine})
    imported = [by_namespace[ns] for ns in mine.meta.get("imports", []) if ns in by_namespace]
    try:
        model = DecisionModel.parse(mine.source.encode("utf-8"), imports=imported,
                                    strict_names=True, max_bytes=max_bytes)
    except DmnError as exc:        # validate_files parsed it already; kept for the import set
        raise ValidationFailed(f"{mine.file}: {exc}", field="files", file=mine.file,
                               element=exc.element_id) from exc
    return mine, model


def records(goal: Target, filters: Filters):
    """The selected decision records of ``goal``, newest first (a query of tuples)."""
    R = DecisionRecord
    q = R.select(R.id, R.case, R.definition_version, R.inputs, R.outputs, R.matched_rules) \
        .where((R.kind == "decision") & (R.definition_key == goal.row.key))
    # Engine records before the decision id was stored have no element id: they belong to
    # the definition's only decision (a file of several decisions cannot tell them apart).
    if len(goal.decisions) == 1:
        q = q.where((R.element_id == goal.decision) | R.element_id.is_null())
    else:
        q = q.where(R.element_id == goal.decision)
    return apply_filters(q, filters).tuples()


_numbers: dict = {}       # Decimal -> its JSON number: outputs repeat a few constants


def _number(value: Decimal):
    found = _numbers.get(value, _UNSEEN)
    if found is _UNSEEN:
        found = json_default(value)
        if len(_numbers) < MEMO:
            _numbers[value] = found
    return found


def plain(value):
    """An outcome as the record stores it (JSON types), without a JSON round trip."""
    kind = type(value)
    if kind is str or kind is bool or kind is int or value is None:
        return value
    if kind is Decimal:
        return _number(value) if value.is_finite() else None
    if kind is dict:
        out = {}
        for k, v in value.items():
            kind = type(v)
            out[k] = v if kind is str or v is None or kind is bool else \
                _number(v) if kind is Decimal and v.is_finite() else plain(v)
        return out
    if kind is list:
        return [plain(v) for v in value]
    if kind is float:
        return value
    return json.loads(json.dumps(value, default=json_default))


# Recorded inputs straight to FEEL values: numbers become Decimal as the JSON is read (a float
# is written as its repr, which is what FEEL's conversion reads too), no second pass.
_feel_decoder = json.JSONDecoder(parse_float=NUMBER_CONTEXT.create_decimal, parse_int=Decimal)


def _feel_json(text):
    if text is None or not isinstance(text, str):
        return text
    try:
        return _feel_decoder.decode(text)
    except ValueError:
        return None


def _json(text):
    if text is None or not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return None


def rule_ids(matched) -> dict:
    if not isinstance(matched, dict):
        return {}
    return {r.get("rule_id"): r.get("row") for rules in matched.values()
            if isinstance(rules, list) for r in rules if isinstance(r, dict)}


def _hashable(value):
    return value if value is None or type(value) in (str, int, float, bool) \
        else json.dumps(value, sort_keys=True)


class Tally:
    """The counts a replay answers with; ``add`` takes one record's old and new outcome."""

    def __init__(self, output_name: str):
        self.output_name = output_name
        self.replayed = self.changed = self.failed = 0
        self.transitions: dict = {}      # (output, from, to) -> [count, case ids, from, to]
        self.by_output: dict[str, int] = {}
        self.started: dict = {}          # rule id -> [count, case ids, row]
        self.stopped: dict = {}
        self.examples: list = []
        self.warnings: dict[str, int] = {}
        self.versions: dict[int, int] = {}

    def warn(self, message: str) -> None:
        if message in self.warnings or len(self.warnings) < MAX_WARNINGS:
            self.warnings[message] = self.warnings.get(message, 0) + 1
        else:
            self.warnings["other warnings"] = self.warnings.get("other warnings", 0) + 1

    def add(self, record_id, case_id, old, new, old_rules: dict, new_rules: dict) -> None:
        self.replayed += 1
        if old != new:
            self.changed += 1
            if type(old) is dict and type(new) is dict:
                diffs = [(name, old.get(name), new.get(name)) for name in
                         dict.fromkeys([*old, *new]) if old.get(name) != new.get(name)]
            else:
                diffs = [(self.output_name, old, new)]
            for name, before, after in diffs:
                self.by_output[name] = self.by_output.get(name, 0) + 1
                key = (name, _hashable(before), _hashable(after))
                entry = self.transitions.get(key)
                if entry is None:
                    entry = self.transitions[key] = [0, [], before, after]
                entry[0] += 1
                if case_id is not None and len(entry[1]) < CASES_PER_ROW:
                    entry[1].append(case_id)
            if len(self.examples) < EXAMPLES:
                self.examples.append({"record_id": record_id, "case_id": case_id,
                                      "changes": [{"output": n, "from": b, "to": a}
                                                  for n, b, a in diffs]})
        if old_rules != new_rules:
            for rule, row in new_rules.items():
                if rule not in old_rules:
                    self._rule(self.started, rule, row, case_id)
            for rule, row in old_rules.items():
                if rule not in new_rules:
                    self._rule(self.stopped, rule, row, case_id)

    @staticmethod
    def _rule(into: dict, rule, row, case_id) -> None:
        entry = into.get(rule)
        if entry is None:
            entry = into[rule] = [0, [], row]
        entry[0] += 1
        if case_id is not None and len(entry[1]) < CASES_PER_ROW:
            entry[1].append(case_id)

    def to_json(self) -> dict:
        def rules(found: dict) -> list:
            return [{"rule_id": rule, "row": row, "count": count, "case_ids": cases}
                    for rule, (count, cases, row) in
                    sorted(found.items(), key=lambda kv: (-kv[1][0], str(kv[0])))]
        transitions = sorted(self.transitions.items(),
                             key=lambda kv: (-kv[1][0], kv[0][0], str(kv[0][1]), str(kv[0][2])))
        return {
            "replayed": self.replayed, "failed": self.failed, "changed": self.changed,
            "changed_share": round(self.changed / self.replayed, 6) if self.replayed else 0.0,
            "by_output": dict(sorted(self.by_output.items(), key=lambda kv: -kv[1])),
            "transitions": [{"output": name, "from": before, "to": after, "count": count,
                             "case_ids": cases}
                            for (name, _, _), (count, cases, before, after) in transitions],
            "rules": {"started_matching": rules(self.started),
                      "stopped_matching": rules(self.stopped)},
            "examples": self.examples,
            "example_case_ids": list(dict.fromkeys(
                e["case_id"] for e in self.examples if e["case_id"] is not None)),
            "warnings": [{"message": m, "count": c} for m, c in
                         sorted(self.warnings.items(), key=lambda kv: -kv[1])]}


def replay(goal: Target, candidate, model, filters: Filters, *,
           progress: Callable[[int], None] | None = None) -> dict:
    """Replay the selected records against ``model`` (the parsed candidate); see the module.

    ``progress(n)`` is called after each chunk with the records done in it.
    """
    if not 1 <= filters.limit <= MAX_LIMIT:
        raise ValidationFailed(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    query = records(goal, filters)
    available = query.count()
    selected = min(available, filters.limit)
    evaluate = model.evaluator(goal.decision, typed_text=True)
    tally = Tally(goal.decision)
    add, warn = tally.add, tally.warn
    versions = tally.versions
    started = time.perf_counter()
    outcomes: dict = {}         # recorded JSON text -> parsed: outcomes repeat, inputs do not
    rule_sets: dict = {}
    for chunk in paging.chunks(query, DecisionRecord.id, size=CHUNK, limit=filters.limit,
                               raw=True):
        if len(outcomes) > MEMO or len(rule_sets) > MEMO:
            outcomes.clear()
            rule_sets.clear()
        for record_id, case_id, version, inputs, outputs, matched in chunk:
            versions[version] = versions.get(version, 0) + 1
            inputs = _feel_json(inputs)
            old = outcomes.get(outputs, _UNSEEN)
            if old is _UNSEEN:
                old = outcomes[outputs] = _json(outputs)
            old_rules = rule_sets.get(matched)
            if old_rules is None:
                old_rules = rule_sets[matched] = rule_ids(_json(matched))
            if not isinstance(inputs, dict):
                tally.failed += 1
                warn("a record without recorded inputs")
                continue
            try:
                value, rules, warnings = evaluate(inputs)
            except NameNotProvided as exc:
                tally.failed += 1
                warn(f"decision {exc.decision!r} reads {exc.name!r}, which the recorded "
                     "inputs do not provide")
                continue
            except (DmnError, BudgetExceeded) as exc:
                tally.failed += 1
                warn(f"evaluation failed: {str(exc)[:200]}")
                continue
            for w in warnings:
                warn(str(w)[:300])
            add(record_id, case_id, old, plain(value), old_rules, rule_ids(rules))
        if progress is not None:
            progress(len(chunk))
    elapsed = time.perf_counter() - started
    answer = {"key": goal.row.key, "decision": goal.decision,
              "candidate": {"file": candidate.file,
                            "same_as_deployed": candidate.source == goal.row.source},
              "deployed": {"key": goal.row.key, "version": goal.row.version},
              "history": {"selected": selected, "truncated": available > selected,
                          "available": available,
                          "since": filters.since.isoformat() if filters.since else None,
                          "until": filters.until.isoformat() if filters.until else None,
                          "case_type": filters.case_type,
                          "versions": {str(v): n for v, n in sorted(
                              versions.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))}}}
    answer.update(tally.to_json())
    answer["seconds"] = round(elapsed, 3)
    answer["per_second"] = round(tally.replayed / elapsed) if elapsed > 0 else None
    return answer


__all__ = ["DEFAULT_LIMIT", "Filters", "MAX_LIMIT", "Tally", "Target", "apply_filters",
           "candidate_model", "plain", "rule_ids", "records", "replay", "target"]
