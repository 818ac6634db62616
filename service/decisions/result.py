"""The outcome of evaluating a decision: its value and the trace an auditor needs."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class Trace(list):
    """Collect one evaluation's warnings (it *is* the list FEEL appends to) and matched rules.

    FEEL shares one warnings list across all scopes of an evaluation, so hanging the matched
    rules on that list lets decision tables deep inside BKMs and contexts record their hits
    without a second object being threaded through every call.
    """

    __slots__ = ("matched", "strict_names")

    def __init__(self, strict_names: bool = False):
        super().__init__()
        self.matched: dict[str, list[dict]] = {}
        # read by FEEL name lookups: an unknown name raises feel.UnknownName instead of null
        self.strict_names = strict_names


@dataclass(frozen=True)
class DecisionResult:
    """What ``DecisionModel.evaluate`` returns.

    ``value`` is the decision's value (Decimal, str, bool, None, date/time, durations, lists,
    dicts); ``decisions`` the values of every decision evaluated on the way, by name (the
    required decisions, and the decision itself); ``matched_rules`` maps each evaluated
    decision table id to the rules that matched ({rule_id, row}); ``inputs`` the input values
    as used (after coercion to the input data types); ``warnings`` the runtime faults that
    turned into null values.
    """

    decision: str
    value: Any
    decisions: dict[str, Any] = field(default_factory=dict)
    matched_rules: dict[str, list[dict]] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @property
    def required(self) -> dict[str, Any]:
        """Return the values of the decisions evaluated besides the one asked for."""
        return {k: v for k, v in self.decisions.items() if k != self.decision}
