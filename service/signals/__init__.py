"""Signals and detection rules: intake, analysts' rulesets on durable-rules, the consumer.

    envelope   validate POSTed signals (marshmallow), naming index and field
    checks     the compiled fast path of that validation, equal to marshmallow where it answers
    intake     store a batch in one transaction, idempotent by signal id, in arrival order
    ruleset    our schema for ``rules/*.json`` (durable-rules JSON plus case actions)
    matcher    the durable-rules adapter and the engine traps it handles
    durable_compat  every use of durable-rules' internals, checked against the pinned version
    prefilter  literal tests of rule conditions: facts no rule can use, clocks no rule needs
    partition  one partition's facts, windows and caps, deterministic from the signal log
    consumer   leases, batches, outcomes, case opening; ``run_pending`` for the worker loop

This package never imports Flask (``service/api/signals.py`` is its HTTP edge) nor the layers
above it: the consumer opens the cases rules ask for through a function its caller passes in
(``service.usecases.signals.run_rules``: the service's one way to open a case).
"""
from __future__ import annotations

from .consumer import run_pending
from .envelope import MAX_BATCH, Envelope, parse
from .intake import Receipt, store
from .ruleset import parse as parse_ruleset

__all__ = ["MAX_BATCH", "Envelope", "Receipt", "parse", "receive", "run_pending", "store",
           "validate_ruleset"]


def receive(payload) -> Receipt:
    """Validate one signal or an array and store the new ones (see :mod:`.intake`)."""
    return store(parse(payload))


def validate_ruleset(filename: str, doc) -> dict:
    """Check a rules file at deploy time; returns the definition's meta (raises DefinitionInvalid)."""
    spec = parse_ruleset(filename, doc)
    return {"rules": [r.name for r in spec.rules], "inputs": sorted(spec.inputs),
            "key": list(spec.key),
            "opens": sorted({a.case_type for r in spec.rules for a in r.actions
                             if a.kind == "open"})}
