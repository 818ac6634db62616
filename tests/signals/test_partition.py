"""The partition's rules state over long streams: live facts stay bounded, and the shortcuts
around the engine (skipped facts, clocks held back) change no match."""
from __future__ import annotations

import random

from service.signals.envelope import parse_one
from service.signals.partition import PartitionState, SignalRecord
from service.signals.prefilter import ClockNeed, Relevance
from service.signals.ruleset import MAX_PER_KEY

from .streams import cancelled, po, promotion, returned, shipped_specs, snapshot


def _run(state, signals, seq0=0):
    out = []
    for seq, item in enumerate(signals, seq0 + 1):
        env = parse_one(item)
        applied = state.apply(SignalRecord(env.id, env.type, env.at.timestamp(), env.data, seq))
        assert not applied.errors, applied.errors
        out.append((applied.matched, [r.ref for r in applied.opens]))
    return out


def test_returns_leave_the_engine_as_their_window_closes():
    state = PartitionState("west", shipped_specs("return_surge"))
    sizes = []
    for hour in range(24):           # a return every 3 minutes, skus spread out: no surge
        stream = [returned(hour * 60 + m, sku=f"S{(hour * 20 + m // 3) % 7}")
                  for m in range(0, 60, 3)]
        _run(state, stream, seq0=hour * 20)
        sizes.append(state.live_facts)
    assert max(sizes[2:]) <= 21          # one hour of returns, never the whole day
    assert max(len(r.expiry) for r in state._rulesets) <= 2 * 21 + 1024
    state.close()


def test_po_updates_of_one_key_are_capped_and_the_newest_kept():
    state = PartitionState("west", shipped_specs("late_supplier"))
    stream = [po(m, eta_in_days=3, po_id=f"PO{m}") for m in range(MAX_PER_KEY * 3)]
    _run(state, stream)
    (ruleset,) = state._rulesets
    live = [f["po_id"] for f in ruleset.facts.values() if f["type"] == "po.updated"]
    assert len(live) == MAX_PER_KEY
    assert live == [f"PO{m}" for m in range(MAX_PER_KEY * 2, MAX_PER_KEY * 3)]
    # a promotion now meets only the live POs: the newest one that arrives late asks
    late = [promotion(200, starts_in_days=1), po(201, eta_in_days=5, po_id="PO47")]
    assert [refs for _, refs in _run(state, late, seq0=100)][1] == [
        "rules:supplier_escalation:PO47"]
    state.close()


def test_the_heap_of_expiries_does_not_grow_with_replaced_snapshots():
    state = PartitionState("west", shipped_specs("channel_mismatch"))
    stream = [snapshot("erp" if i % 2 else "ecommerce", i / 10, sku=f"K{i % 5}",
                       **({"on_hand": 10} if i % 2 else {"available_to_promise": 10}))
              for i in range(6000)]
    _run(state, stream)
    (ruleset,) = state._rulesets
    assert state.live_facts == 10                          # latest per sku and source
    assert len(ruleset.expiry) <= 2 * len(ruleset.expires) + 1024
    state.close()


def test_facts_no_rule_can_use_are_not_sent_to_the_engine():
    (channel,) = shipped_specs("channel_mismatch")
    (promo,) = shipped_specs("promotion_at_risk")
    fact = {"type": "inventory.snapshot", "source": "ecommerce", "available_to_promise": 3.0}
    assert Relevance(channel).could_use(fact)
    assert not Relevance(promo).could_use(fact)            # promotions only read ERP stock
    assert Relevance(promo).could_use({**fact, "source": "erp", "on_hand": 3.0})
    customer = {"type": "order.cancelled", "cause": "customer"}
    assert not Relevance(channel).could_use(customer)
    assert Relevance(channel).could_use({**customer, "cause": "no_stock"})
    # only literal tests decide; a field of another type is unknown, so the fact goes in
    assert Relevance(channel).could_use({"type": "order.cancelled", "cause": 7})


def test_the_clock_rules_need_a_mismatch_and_both_channels():
    (channel,) = shipped_specs("channel_mismatch")
    need = ClockNeed(channel)
    assert need.usable and len(need.rules) == 2
    erp = need.marks({"type": "inventory.snapshot", "source": "erp", "on_hand": 1.0})
    ecom = need.marks({"type": "inventory.snapshot", "source": "ecommerce",
                       "available_to_promise": 9.0})
    since = need.marks({"type": "mismatch_since", "since": 1.0})
    counts = {i: 1 for i in erp + ecom}
    assert not need.needed(counts)
    assert need.needed(counts, since)


def _channel_stream(seed: int, n: int):
    """Snapshots that drift apart and back, cancellations, out-of-order times."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        minute = i * 0.7 + rnd.choice((0, 0, 0, -20))
        sku, location = f"K{rnd.randrange(4)}", f"L{rnd.randrange(2)}"
        roll = rnd.random()
        if roll < 0.4:
            out.append(snapshot("erp", minute, sku=sku, location=location,
                                on_hand=rnd.choice((10, 10, 50, 0))))
        elif roll < 0.85:
            out.append(snapshot("ecommerce", minute, sku=sku, location=location,
                                available_to_promise=rnd.choice((10, 11, 30, 3))))
        else:
            out.append(cancelled(minute, sku=sku, location=location,
                                 cause=rnd.choice(("no_stock", "customer"))))
    return out


def test_holding_clocks_back_and_skipping_facts_change_no_match():
    for seed in range(3):
        stream = _channel_stream(seed, 700)
        lazy = PartitionState("west", shipped_specs("channel_mismatch"))
        eager = PartitionState("west", shipped_specs("channel_mismatch"))
        for ruleset in eager._rulesets:
            ruleset.need = None                  # every clock tick goes to the engine
            ruleset.relevance.could_use = lambda fact: True
        got, want = _run(lazy, stream), _run(eager, stream)
        assert got == want
        assert sum(len(m) for m, _ in got) > 20          # the stream does match
        assert lazy.live_facts < eager.live_facts
        lazy.close()
        eager.close()



def test_keys_that_fall_idle_leave_nothing_behind():
    """Every key is new (one order-cancellation key per sku): once the partition's clock has
    moved past a key's window and the lateness allowance, its facts, heap and clock are gone."""
    (spec,) = shipped_specs("channel_mismatch")
    state = PartitionState("west", [spec])
    (ruleset,) = state._rulesets
    per_hour = 30
    hours = int(ruleset.horizon / 3600) * 3
    sizes = []
    for hour in range(hours):
        stream = [cancelled(hour * 60 + m * 2, sku=f"K{hour}-{m}") for m in range(per_hour)]
        _run(state, stream, seq0=hour * per_hour)
        sizes.append((state.live_facts, len(ruleset.key_clock), len(ruleset.key_expiry),
                      len(ruleset.expires)))
    window_keys = per_hour * (ruleset.horizon / 3600 + 2)
    for live, clocks, heaps, expires in sizes[hours // 2:]:
        assert live <= window_keys and expires <= 2 * window_keys
        assert clocks <= 2 * window_keys + 1024 and heaps <= clocks     # swept as they grow
    assert len(ruleset.expiry) <= 2 * len(ruleset.expires) + 1024
    state.close()
