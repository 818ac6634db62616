"""Signals and detection rules: intake, analysts' rulesets on durable-rules, the consumer.

    envelope   validate POSTed signals (marshmallow), naming index and field
    checks     the compiled fast path of that validation, equal to marshmallow where it answers
    intake     store a batch in one transaction, idempotent by signal id, in arrival order
    ruleset    our schema for ``rules/*.json`` (durable-rules JSON plus case actions)
    matcher    the durable-rules adapter and the engine traps it handles
    durable_compat  every use of durable-rules' internals, checked against the pinned version
    prefilter  literal tests of rule conditions: facts no rule can use, clocks no rule needs
    partition  one partition's facts, windows and caps, deterministic from the signal log
    detection  what a batch does, for both consumers: rules state, replay, cases, outcomes
    consumer   the signal table with leases (embedded default); ``run_pending`` for the worker
    jetstream  the broker's side of signals on NATS JetStream (``OMNIFLOW_SIGNALS_URL``)
    streamed   the rules consumer on JetStream: broker-owned partitions, the table as record
    counters   what detection did in this process (processed, late, redelivered)

This package never imports Flask (``service/api/signals.py`` is its HTTP edge) nor the layers
above it: the consumer opens the cases rules ask for through a function its caller passes in
(``service.usecases.signals.run_rules``: the service's one way to open a case).
"""
from __future__ import annotations

from . import intake, jetstream
from .consumer import run_pending
from .envelope import MAX_BATCH, Envelope, parse
from .intake import Receipt
from .ruleset import parse as parse_ruleset

__all__ = ["MAX_BATCH", "Envelope", "Receipt", "parse", "receive", "run_pending", "store",
           "validate_ruleset"]


def store(envelopes: list[Envelope], config=None) -> Receipt:
    """Store the new signals in the signal table and, with ``config.signals_url``, publish
    every one of the request to JetStream; call it inside the request's transaction.

    Publishing comes before the commit: if the broker does not acknowledge, the transaction
    rolls back and the client gets a 503 (``BrokerUnavailable``) and sends again; if the
    commit fails after publishing, the broker holds signals the table lacks, and the consumer
    writes their rows from the messages. Ids already stored are published again (the broker
    drops a repeat within its duplicate window, the consumer one it has seen) so that a retry
    after a failed publish reaches detection.
    """
    if config is None or not config.signals_url:
        return intake.store(envelopes)
    receipt = intake.store(envelopes, ordered=False)
    jetstream.bus(config.signals_url, jetstream.names_of(config)).publish(envelopes)
    return receipt


def receive(payload, config=None) -> Receipt:
    """Validate one signal or an array and store the new ones (see :func:`store`)."""
    return store(parse(payload), config)


def validate_ruleset(filename: str, doc) -> dict:
    """Check a rules file at deploy time; returns the definition's meta (raises DefinitionInvalid)."""
    spec = parse_ruleset(filename, doc)
    return {"rules": [r.name for r in spec.rules], "inputs": sorted(spec.inputs),
            "key": list(spec.key),
            "opens": sorted({a.case_type for r in spec.rules for a in r.actions
                             if a.kind == "open"})}

