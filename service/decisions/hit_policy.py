"""Combine the matching rules of a decision table into its result, per hit policy.

DMN defines single-hit policies (UNIQUE, ANY, PRIORITY, FIRST), which return one rule's output,
and multiple-hit policies (OUTPUT ORDER, RULE ORDER, COLLECT with an optional aggregator), which
return a list or an aggregate. A violation of the policy (two rules for UNIQUE, disagreeing
rules for ANY, a non-numeric sum) is not an exception: the table's value is null and a warning
says why, as FEEL treats runtime faults.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Sequence

from .feel import NUMBER_CONTEXT, equals

Warn = Callable[[str], None]

SINGLE_HIT = frozenset({"UNIQUE", "ANY", "PRIORITY", "FIRST"})
MULTIPLE_HIT = frozenset({"OUTPUT ORDER", "RULE ORDER", "COLLECT"})
AGGREGATORS = frozenset({"SUM", "COUNT", "MIN", "MAX"})
_SHORT = {"U": "UNIQUE", "A": "ANY", "P": "PRIORITY", "F": "FIRST", "O": "OUTPUT ORDER",
          "R": "RULE ORDER", "C": "COLLECT"}


@dataclass(frozen=True)
class HitPolicy:
    """A table's hit policy and, for COLLECT, its aggregator (SUM, COUNT, MIN, MAX or None)."""

    name: str = "UNIQUE"
    aggregation: str | None = None

    @classmethod
    def parse(cls, hit_policy: str | None, aggregation: str | None) -> HitPolicy:
        """Read the XML attributes (also the C+, C<, C>, C# shorthands); raise ValueError."""
        name = (hit_policy or "UNIQUE").strip().upper().replace("_", " ")
        agg = aggregation.strip().upper() if aggregation else None
        if len(name) == 2 and name[0] == "C" and name[1] in "+<>#":
            agg = {"+": "SUM", "<": "MIN", ">": "MAX", "#": "COUNT"}[name[1]]
            name = "COLLECT"
        name = _SHORT.get(name, name)
        if name not in SINGLE_HIT and name not in MULTIPLE_HIT:
            raise ValueError(f"unknown hit policy {hit_policy!r}")
        if agg is not None:
            if agg not in AGGREGATORS:
                raise ValueError(f"unknown aggregation {aggregation!r}")
            if name != "COLLECT":
                raise ValueError(f"aggregation {agg} is only allowed with COLLECT")
        return cls(name, agg)

    @property
    def needs_priorities(self) -> bool:
        return self.name in ("PRIORITY", "OUTPUT ORDER")

    @property
    def stops_at_first(self) -> bool:
        return self.name == "FIRST"

    def combine(self, results: Sequence[Any], priorities: Sequence[tuple] | None,
                warn: Warn, table: str) -> Any:
        """Return the table value from the rule results of the matched rules (in rule order).

        ``priorities`` (PRIORITY and OUTPUT ORDER only) gives, per matched rule, a tuple of
        output-value indexes: lower sorts first, i.e. higher priority.
        """
        name = self.name
        if name == "FIRST":
            return results[0]
        if name == "UNIQUE":
            if len(results) > 1:
                warn(f"decision table {table}: {len(results)} rules matched under hit policy "
                     "UNIQUE; null used")
                return None
            return results[0]
        if name == "ANY":
            first = results[0]
            for other in results[1:]:
                if not _same(first, other):
                    warn(f"decision table {table}: matched rules disagree under hit policy ANY; "
                         "null used")
                    return None
            return first
        if name == "PRIORITY":
            best = min(range(len(results)), key=lambda i: priorities[i])
            return results[best]
        if name == "OUTPUT ORDER":
            order = sorted(range(len(results)), key=lambda i: priorities[i])
            return [results[i] for i in order]
        if name == "RULE ORDER":
            return list(results)
        # COLLECT
        if self.aggregation is None:
            return list(results)
        return self._aggregate(results, warn, table)

    def empty(self) -> Any:
        """Return the value of a table with no matching rule and no default output.

        Single-hit policies give null; the list policies an empty list; C# gives 0 (nothing
        was counted) and the other aggregations null (there is no sum, min or max of nothing).
        """
        if self.name in MULTIPLE_HIT:
            if self.aggregation == "COUNT":
                return Decimal(0)
            if self.aggregation is not None:
                return None
            return []
        return None

    def _aggregate(self, results: Sequence[Any], warn: Warn, table: str) -> Any:
        agg = self.aggregation
        values = [v for v in results if v is not None]
        if agg == "COUNT":
            # C# counts the distinct output values (DMN's "number of distinct outputs"), so
            # two rules giving the same value count once; nulls are not outputs.
            distinct: list[Any] = []
            for v in values:
                if not any(_same(v, d) for d in distinct):
                    distinct.append(v)
            return Decimal(len(distinct))
        if not values:
            return None
        if any(isinstance(v, dict) for v in values):
            warn(f"decision table {table}: cannot aggregate {agg} over multiple outputs")
            return None
        try:
            if agg == "SUM":
                total = Decimal(0)
                for v in values:
                    if not isinstance(v, Decimal):
                        raise TypeError(v)
                    total = NUMBER_CONTEXT.add(total, v)
                return total
            kinds = {type(v) for v in values}
            if len(kinds) > 1:
                raise TypeError(values)
            return min(values) if agg == "MIN" else max(values)
        except (TypeError, ArithmeticError):
            warn(f"decision table {table}: cannot aggregate {agg} over {values!r}; null used")
            return None


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if a is None or b is None:
        return a is b
    return equals(a, b) is True
