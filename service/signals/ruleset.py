"""Rulesets: analysts' detection rules (``rules/*.json``), checked against our own schema.

A ruleset is durable-rules' JSON form (each rule's ``all`` list of aliased conditions) plus what
our actions need. durable-rules itself accepts most malformed conditions silently (an unknown
operator simply never matches) or fails with a bare "error code 202", so every file is checked
here first and an error names the rule and the field::

    {"name": "return_surge",
     "description": "3 or more returns of one sku in one region within an hour",
     "key": ["sku", "region"],          # facts are correlated per key (sku x region)
     "window_seconds": 3600,            # default time a fact is kept, by its key's own clock
     "max_lateness_seconds": 21600,     # how far a key may lag its partition (default 6 hours)
     "clock": false,                    # true: keep a {"type": "clock", "at": ...} fact per key
     "inputs": {"return.received": {"keep_seconds": 3600, "max_per_key": 16},
                "promotion.scheduled": {"each": "skus", "as": "sku", "latest_by": ["promo_id"]}},
     "rules": {"surge": {"all": [{"a": {"type": "return.received"}}, {"b": {...}}],
                         "then": {"open": "return_surge_review", "data": {"sku": "a.sku"},
                                  "dedup": ["sku", "region"], "reset": true}}}}

Facts: every signal becomes one fact per ruleset that lists its type (``each`` makes one per list
item), ``{"id", "type", "seq", "at", <declared data fields>}``, with every timestamp as seconds
since the epoch. Time is the signals' own, and each key has its own clock: the newest signal
time of that key. A fact is retracted when its ``keep_seconds`` have passed on its key's clock
or, with ``latest_by``, when a fact of the same type, key and fields that is as new or newer
replaces it (snapshots: the latest per source; an older one arriving after it is late). So a
store whose batch arrives hours after another store's is judged by its own signals. Memory is
bounded all the same: a fact also leaves once ``max_lateness_seconds`` more have passed on the
partition's clock (the newest signal time of any key), so an idle key holds nothing for ever.
A signal whose fact is outside its window on arrival, by either clock, is *late*: it is still
matched against the live facts (as if it had arrived in order and left since), then leaves,
and its outcome says so. Rules see the facts of one key only: the host adds the key join to
every alias after the first.

Actions (``then``, one or a list): ``open`` a case of a type with ``data`` mapped from the matched
facts, de-duplicated by the ``dedup`` fields while a case is open (``reset`` retracts the matched
facts); ``assert`` a derived fact (it gets the key and the signal's time); ``retract`` an alias.
Values in ``data``/``assert``: ``"alias.field"``, ``{"value": literal}``, ``{"max"|"min": [..]}``,
``{"time": "alias.field"}`` (epoch seconds as an ISO timestamp).

Engine limits we steer around: ``$or`` may only hold plain comparisons (the engine mis-evaluates
``$or``/``$and`` nested inside one when they join other aliases); a condition cannot compare two
fields of its own fact.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from ..errors import DefinitionInvalid
from .envelope import DATA_SCHEMAS, DECLARED_FIELDS
from .matcher import compile_check

RESERVED = ("id", "sid", "k", "type", "seq", "at")
#: Live facts of one input type per key, unless the input says otherwise (``max_per_key``).
MAX_PER_KEY = 16
#: How far (signal time) a key may lag the newest signal of its partition and still be judged
#: by its own clock, unless the ruleset says otherwise: a store's batch delayed for hours.
MAX_LATENESS = 6 * 3600.0
COMPARISONS = ("$lt", "$lte", "$gt", "$gte", "$neq", "$eq")
ARITHMETIC = ("$add", "$sub", "$mul", "$div")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_CASE_TYPE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,199}$")


@dataclass(frozen=True)
class Input:
    type: str
    keep_seconds: float
    each: str | None = None
    as_field: str | None = None
    latest_by: tuple[str, ...] = ()
    max_per_key: int = 16


@dataclass(frozen=True)
class Action:
    kind: str                      # open | assert | retract
    case_type: str | None = None
    data: dict = field(default_factory=dict)
    dedup: tuple[str, ...] = ()
    reset: bool = False
    alias: str | None = None


@dataclass(frozen=True)
class Rule:
    name: str
    conditions: tuple            # durable-rules ``all`` list, key joins added
    actions: tuple[Action, ...]
    aliases: tuple[str, ...]     # positive aliases, in order
    pri: int | None = None


@dataclass(frozen=True)
class RulesetSpec:
    name: str
    key: tuple[str, ...]
    window_seconds: float
    clock: bool
    inputs: dict
    rules: tuple[Rule, ...]
    version: int = 0
    max_lateness_seconds: float = MAX_LATENESS

    def definition(self, only: "Rule | None" = None) -> dict:
        """The durable-rules definition of every rule (or of ``only`` one), without actions:
        the engine reports matches and :mod:`.partition` acts on them."""
        out = {}
        for rule in (only,) if only is not None else self.rules:
            body = {"all": json.loads(json.dumps(list(rule.conditions)))}
            if rule.pri is not None:
                body["pri"] = rule.pri
            out[rule.name] = body
        return out


class _Checker:
    def __init__(self, filename: str):
        self.filename = filename

    def fail(self, message: str, *, rule: str | None = None, path: str | None = None):
        where = f"rule {rule!r}: " if rule else ""
        at = f"{path}: " if path else ""
        raise DefinitionInvalid(f"{self.filename}: {where}{at}{message}", file=self.filename,
                                element=rule, field=path)


def parse(filename: str, doc, *, version: int = 0) -> RulesetSpec:
    """Check a ruleset document and return its spec; raise ``DefinitionInvalid`` naming the fault."""
    ck = _Checker(filename)
    if not isinstance(doc, dict):
        ck.fail("a ruleset must be a JSON object")
    unknown = set(doc) - {"name", "description", "key", "window_seconds", "clock", "inputs",
                          "rules", "max_lateness_seconds"}
    if unknown:
        ck.fail(f"unknown property {sorted(unknown)[0]!r}", path=sorted(unknown)[0])
    name = doc.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        ck.fail("'name' must be an identifier (letters, digits, _)", path="name")
    key = doc.get("key")
    if (not isinstance(key, list) or not key
            or not all(isinstance(k, str) and k and k not in RESERVED for k in key)):
        ck.fail("'key' must be a non-empty list of data field names", path="key")
    window = doc.get("window_seconds", 3600)
    if not _number(window) or window <= 0:
        ck.fail("'window_seconds' must be a positive number", path="window_seconds")
    lateness = doc.get("max_lateness_seconds", MAX_LATENESS)
    if not _number(lateness) or not 0 <= lateness <= 30 * 86400:
        ck.fail("'max_lateness_seconds' must be a number of seconds from 0 to 30 days",
                path="max_lateness_seconds")
    clock = doc.get("clock", False)
    if not isinstance(clock, bool):
        ck.fail("'clock' must be true or false", path="clock")
    inputs = _inputs(ck, doc.get("inputs"), tuple(key), window)
    rules = doc.get("rules")
    if not isinstance(rules, dict) or not rules:
        ck.fail("'rules' must be a non-empty object of named rules", path="rules")
    parsed = tuple(_rule(ck, rule_name, body) for rule_name, body in rules.items())
    spec = RulesetSpec(name, tuple(key), float(window), clock, inputs, parsed, version,
                       float(lateness))
    _compile_each(ck, spec)
    return spec


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _inputs(ck: _Checker, inputs, key, window) -> dict:
    if not isinstance(inputs, dict) or not inputs:
        ck.fail("'inputs' must map signal types to options", path="inputs")
    out = {}
    for type_, opts in inputs.items():
        path = f"inputs.{type_}"
        if type_ not in DATA_SCHEMAS:
            ck.fail(f"unknown signal type (known: {', '.join(sorted(DATA_SCHEMAS))})", path=path)
        if not isinstance(opts, dict):
            ck.fail("options must be an object", path=path)
        bad = set(opts) - {"keep_seconds", "each", "as", "latest_by", "max_per_key"}
        if bad:
            ck.fail(f"unknown option {sorted(bad)[0]!r}", path=path)
        keep = opts.get("keep_seconds", window)
        if not _number(keep) or keep <= 0:
            ck.fail("'keep_seconds' must be a positive number", path=f"{path}.keep_seconds")
        declared = set(DECLARED_FIELDS[type_])
        each, as_field = opts.get("each"), opts.get("as")
        if each is not None:
            if each not in declared or not isinstance(as_field, str) or not as_field:
                ck.fail("'each' must name a list field of the signal and 'as' the name of one "
                        "item", path=f"{path}.each")
            declared = (declared - {each}) | {as_field}
        latest_by = opts.get("latest_by", [])
        if not isinstance(latest_by, list) or not all(f in declared for f in latest_by):
            ck.fail(f"'latest_by' must list fields of {type_}", path=f"{path}.latest_by")
        for k in key:
            if k not in declared:
                ck.fail(f"key field {k!r} is not a field of {type_}", path=f"{path}")
        cap = opts.get("max_per_key", MAX_PER_KEY)
        if not isinstance(cap, int) or isinstance(cap, bool) or not 1 <= cap <= 100_000:
            ck.fail("'max_per_key' must be an integer from 1 to 100000",
                    path=f"{path}.max_per_key")
        out[type_] = Input(type_, float(keep), each, as_field, tuple(latest_by), cap)
    return out


def _rule(ck: _Checker, name, body) -> Rule:
    if not isinstance(name, str) or not _NAME.match(name):
        ck.fail("rule names must be identifiers", rule=str(name), path="rules")
    if not isinstance(body, dict):
        ck.fail("a rule must be an object", rule=name)
    bad = set(body) - {"all", "then", "pri", "description"}
    if bad:
        what = sorted(bad)[0]
        hint = " (only 'all' rules are supported)" if what == "any" else ""
        ck.fail(f"unknown property {what!r}{hint}", rule=name, path=what)
    conditions = body.get("all")
    if not isinstance(conditions, list) or not conditions:
        ck.fail("'all' must be a non-empty list of aliased conditions", rule=name, path="all")
    aliases, positive, joined = [], [], []
    for i, item in enumerate(conditions):
        path = f"all[{i}]"
        if not isinstance(item, dict) or len(item) != 1:
            ck.fail("each condition is an object with one alias", rule=name, path=path)
        alias, cond = next(iter(item.items()))
        negated = alias.endswith("$not")
        plain = alias[:-4] if negated else alias
        if not _NAME.match(plain) or plain in aliases:
            ck.fail(f"alias {alias!r} must be a new identifier (optionally ending in $not)",
                    rule=name, path=path)
        if i == 0 and negated:
            ck.fail("the first condition cannot be negated", rule=name, path=path)
        _condition(ck, name, f"{path}.{alias}", cond, known=set(positive), top=True)
        aliases.append(plain)
        if not negated:
            positive.append(plain)
        if i > 0:   # the facts of one key only
            extra = {"k": {aliases[0]: "k"}}
            cond = {"$and": list(cond["$and"]) + [extra]} if "$and" in cond else {"$and": [cond, extra]}
        joined.append({alias: cond})
    pri = body.get("pri")
    if pri is not None and (not isinstance(pri, int) or isinstance(pri, bool)):
        ck.fail("'pri' must be an integer", rule=name, path="pri")
    then = body.get("then")
    if isinstance(then, dict):
        then = [then]
    if not isinstance(then, list) or not then:
        ck.fail("'then' must be an action or a list of actions", rule=name, path="then")
    actions = tuple(_action(ck, name, f"then[{i}]", a, positive) for i, a in enumerate(then))
    return Rule(name, tuple(joined), actions, tuple(positive), pri)


def _condition(ck, rule, path, cond, *, known: set, top=False, in_or=False):
    if not isinstance(cond, dict) or not cond:
        ck.fail("a condition must be a non-empty object", rule=rule, path=path)
    if len(cond) != 1:
        ck.fail("a condition has one operator or field; combine with $and", rule=rule, path=path)
    op, arg = next(iter(cond.items()))
    if op in ("$and", "$or"):
        if in_or or (op == "$and" and not top) or (op == "$or" and not top):
            ck.fail(f"{op} may not be nested here (only plain comparisons inside $or, and "
                    "$and only at the top of an alias)", rule=rule, path=path)
        if not isinstance(arg, list) or not arg:
            ck.fail(f"{op} needs a non-empty list", rule=rule, path=f"{path}.{op}")
        for i, sub in enumerate(arg):
            _condition(ck, rule, f"{path}.{op}[{i}]", sub, known=known,
                       top=(op == "$and"), in_or=(op == "$or"))
        return
    if op in ("$ex", "$nex"):
        if not isinstance(arg, dict) or len(arg) != 1:
            ck.fail(f"{op} takes {{field: 1}}", rule=rule, path=f"{path}.{op}")
        return
    if op in ("$mt", "$imt"):
        if not isinstance(arg, dict) or len(arg) != 1 or not isinstance(next(iter(arg.values())), str):
            ck.fail(f"{op} takes {{field: \"regex\"}}", rule=rule, path=f"{path}.{op}")
        return
    if op in COMPARISONS:
        if not isinstance(arg, dict) or len(arg) != 1:
            ck.fail(f"{op} takes {{field: value}}", rule=rule, path=f"{path}.{op}")
        fname, operand = next(iter(arg.items()))
        _field_name(ck, rule, f"{path}.{op}", fname)
        _operand(ck, rule, f"{path}.{op}.{fname}", operand, known)
        return
    if op.startswith("$"):
        ck.fail(f"unknown operator {op!r}", rule=rule, path=path)
    _field_name(ck, rule, path, op)
    _operand(ck, rule, f"{path}.{op}", arg, known)


def _field_name(ck, rule, path, name):
    if not isinstance(name, str) or not name or name.startswith("$"):
        ck.fail(f"{name!r} is not a field name", rule=rule, path=path)


def _operand(ck, rule, path, operand, known):
    if operand is None or isinstance(operand, (str, bool)) or _number(operand):
        return
    if isinstance(operand, dict) and len(operand) == 1:
        op, arg = next(iter(operand.items()))
        if op in ARITHMETIC:
            if not isinstance(arg, dict) or set(arg) != {"$l", "$r"}:
                ck.fail(f"{op} takes {{\"$l\": ..., \"$r\": ...}}", rule=rule, path=f"{path}.{op}")
            _operand(ck, rule, f"{path}.{op}.$l", arg["$l"], known)
            _operand(ck, rule, f"{path}.{op}.$r", arg["$r"], known)
            return
        if op.startswith("$"):
            ck.fail(f"unknown operator {op!r}", rule=rule, path=path)
        if op not in known:
            ck.fail(f"{op!r} is not an earlier (non-negated) alias of this rule; a condition "
                    "can only refer to facts matched before it", rule=rule, path=path)
        if not isinstance(arg, str) or not arg:
            ck.fail("a reference is {alias: \"field\"}", rule=rule, path=path)
        return
    ck.fail("a value must be a literal, {alias: field} or arithmetic ($add/$sub/$mul/$div)",
            rule=rule, path=path)


def _action(ck, rule, path, action, aliases) -> Action:
    if not isinstance(action, dict):
        ck.fail("an action must be an object", rule=rule, path=path)
    kinds = [k for k in ("open", "assert", "retract") if k in action]
    if len(kinds) != 1:
        ck.fail("an action has exactly one of 'open', 'assert', 'retract'", rule=rule, path=path)
    kind = kinds[0]
    if kind == "open":
        bad = set(action) - {"open", "data", "dedup", "reset"}
        if bad:
            ck.fail(f"unknown property {sorted(bad)[0]!r}", rule=rule, path=path)
        case_type = action["open"]
        if not isinstance(case_type, str) or not _CASE_TYPE.match(case_type):
            ck.fail("'open' must name a case type (a process id)", rule=rule, path=f"{path}.open")
        data = action.get("data", {})
        if not isinstance(data, dict):
            ck.fail("'data' must map case fields to values", rule=rule, path=f"{path}.data")
        for fname, expr in data.items():
            _value(ck, rule, f"{path}.data.{fname}", expr, aliases)
        dedup = action.get("dedup", [])
        if not isinstance(dedup, list) or not all(isinstance(d, str) and d in data for d in dedup):
            ck.fail("'dedup' must list fields of 'data'", rule=rule, path=f"{path}.dedup")
        reset = action.get("reset", False)
        if not isinstance(reset, bool):
            ck.fail("'reset' must be true or false", rule=rule, path=f"{path}.reset")
        return Action("open", case_type=case_type, data=data, dedup=tuple(dedup), reset=reset)
    if kind == "assert":
        fact = action["assert"]
        if not isinstance(fact, dict) or not isinstance(fact.get("type"), str) or len(action) != 1:
            ck.fail("'assert' takes a fact with a string 'type'", rule=rule, path=f"{path}.assert")
        if fact["type"] in DATA_SCHEMAS:
            ck.fail("a derived fact cannot take a signal's type", rule=rule, path=f"{path}.assert.type")
        for fname, expr in fact.items():
            if fname in RESERVED and fname != "type":
                ck.fail(f"{fname!r} is set by the host", rule=rule, path=f"{path}.assert.{fname}")
            if fname != "type":
                _value(ck, rule, f"{path}.assert.{fname}", expr, aliases)
        return Action("assert", data=fact)
    alias = action["retract"]
    if alias not in aliases or len(action) != 1:
        ck.fail("'retract' names a matched alias of this rule", rule=rule, path=f"{path}.retract")
    return Action("retract", alias=alias)


def _value(ck, rule, path, expr, aliases):
    if isinstance(expr, str):
        alias, _, fname = expr.partition(".")
        if alias not in aliases or not fname:
            ck.fail(f"{expr!r} must be 'alias.field' with an alias matched by this rule",
                    rule=rule, path=path)
        return
    if isinstance(expr, dict) and len(expr) == 1:
        op, arg = next(iter(expr.items()))
        if op == "value":
            return
        if op in ("max", "min") and isinstance(arg, list) and arg:
            for i, item in enumerate(arg):
                _value(ck, rule, f"{path}.{op}[{i}]", item, aliases)
            return
        if op == "time":
            _value(ck, rule, f"{path}.time", arg, aliases)
            return
    ck.fail("a value is 'alias.field', {\"value\": ...}, {\"max\"|\"min\": [...]} or "
            "{\"time\": 'alias.field'}", rule=rule, path=path)


def _compile_each(ck: _Checker, spec: RulesetSpec) -> None:
    """Let durable-rules compile each rule alone, so its bare error code names a rule."""
    for rule in spec.rules:
        try:
            compile_check(spec, rule)
        except Exception as exc:  # noqa: BLE001 - the engine raises its own untyped errors
            raise DefinitionInvalid(
                f"{ck.filename}: rule {rule.name!r}: the rules engine rejected it: {exc}",
                file=ck.filename, element=rule.name, field="all") from exc
