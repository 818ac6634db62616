"""The four shipped detection rules on the real durable-rules engine (no database).

Each rule opens its case for the stream that should open it, and nothing for its near misses:
outside the window, below the tolerance, another sku. ``feed`` returns the cases asked for
before de-duplication (the consumer de-duplicates against open cases).
"""
from __future__ import annotations

from .streams import apply_all, cancelled, feed, po, promotion, returned, shipped_specs, snapshot


# Return surge --------------------------------------------------------------------------------

def test_three_returns_within_an_hour_ask_for_one_review():
    asked = feed([returned(0), returned(20), returned(59)], "return_surge")
    assert asked == [("return_surge_review", "rules:return_surge_review:SKU1|west")]


def test_returns_spread_over_more_than_an_hour_are_no_surge():
    assert feed([returned(0), returned(40), returned(61)], "return_surge") == []


def test_returns_of_different_skus_or_regions_are_no_surge():
    stream = [returned(0), returned(5, sku="SKU2"), returned(10, region="east"), returned(15)]
    assert feed(stream, "return_surge") == []


def test_a_surge_resets_so_the_fourth_return_does_not_ask_again():
    asked = feed([returned(m) for m in (0, 1, 2, 3, 4)], "return_surge")
    assert len(asked) == 1
    assert len(feed([returned(m) for m in range(6)], "return_surge")) == 2


def test_a_late_return_still_counts_by_its_own_time():
    # arrival order differs from time order: all three are within an hour of each other
    assert len(feed([returned(30), returned(0), returned(50)], "return_surge")) == 1


# Channel mismatch ----------------------------------------------------------------------------

def test_mismatch_lasting_past_the_grace_period_asks_for_reconciliation():
    stream = [snapshot("erp", 0, on_hand=100), snapshot("ecommerce", 1, available_to_promise=80),
              snapshot("ecommerce", 20, available_to_promise=80),
              snapshot("erp", 35, on_hand=100)]
    assert feed(stream, "channel_mismatch") == [
        ("inventory_reconciliation", "rules:inventory_reconciliation:SKU1|S1")]


def test_mismatch_shorter_than_the_grace_period_asks_nothing():
    stream = [snapshot("erp", 0, on_hand=100), snapshot("ecommerce", 1, available_to_promise=80),
              snapshot("ecommerce", 20, available_to_promise=99),      # agrees again
              snapshot("erp", 40, on_hand=100)]
    assert feed(stream, "channel_mismatch") == []


def test_a_mismatch_that_clears_restarts_the_grace_period():
    stream = [snapshot("erp", 0, on_hand=100), snapshot("ecommerce", 1, available_to_promise=50),
              snapshot("ecommerce", 10, available_to_promise=100),
              snapshot("ecommerce", 25, available_to_promise=50),
              snapshot("erp", 40, on_hand=100)]                         # 15 min since 25
    assert feed(stream, "channel_mismatch") == []
    assert len(feed(stream + [snapshot("erp", 56, on_hand=100)], "channel_mismatch")) == 1


def test_difference_within_tolerance_is_no_mismatch():
    # 100 vs 92: 8 units but only 8 %; 10 vs 12: 20 % but only 2 units
    stream = [snapshot("erp", 0, on_hand=100), snapshot("ecommerce", 1, available_to_promise=92),
              snapshot("erp", 1, on_hand=10, sku="SKU2"),
              snapshot("ecommerce", 1, available_to_promise=12, sku="SKU2"),
              snapshot("erp", 90, on_hand=100), snapshot("erp", 90, on_hand=10, sku="SKU2")]
    assert feed(stream, "channel_mismatch") == []


def test_ecommerce_above_erp_counts_too_but_not_across_skus():
    stream = [snapshot("erp", 0, on_hand=10), snapshot("ecommerce", 0, available_to_promise=30),
              snapshot("ecommerce", 0, available_to_promise=30, sku="SKU9"),
              snapshot("erp", 45, on_hand=10)]
    assert feed(stream, "channel_mismatch") == [
        ("inventory_reconciliation", "rules:inventory_reconciliation:SKU1|S1")]


def test_two_no_stock_cancellations_where_stock_is_shown():
    stream = [snapshot("erp", 0, on_hand=12), cancelled(10), cancelled(50)]
    assert feed(stream, "channel_mismatch") == [
        ("inventory_reconciliation", "rules:inventory_reconciliation:SKU1|S1")]


def test_cancellations_near_misses():
    far_apart = [snapshot("erp", 0, on_hand=12), cancelled(10), cancelled(75)]
    no_stock_shown = [snapshot("erp", 0, on_hand=0), cancelled(10), cancelled(20)]
    other_cause = [snapshot("erp", 0, on_hand=12), cancelled(10), cancelled(20, cause="customer")]
    other_sku = [snapshot("erp", 0, on_hand=12), cancelled(10), cancelled(20, sku="SKU2")]
    for stream in (far_apart, no_stock_shown, other_cause, other_sku):
        assert feed(stream, "channel_mismatch") == []


# Promotion at risk ---------------------------------------------------------------------------

def test_lead_time_longer_than_days_to_launch():
    stream = [promotion(0, starts_in_days=5), po(10, eta_in_days=9, lead_time_days=8)]
    assert ("promotion_readiness", "rules:promotion_readiness:P1|SKU1") in feed(
        stream, "promotion_at_risk")
    # the other arrival order asks too
    stream = [po(0, eta_in_days=9, lead_time_days=8), promotion(10, starts_in_days=5)]
    assert feed(stream, "promotion_at_risk")


def test_lead_time_within_days_to_launch_is_fine():
    stream = [promotion(0, starts_in_days=20), po(10, eta_in_days=9, lead_time_days=8),
              po(10, eta_in_days=9, lead_time_days=8, sku="SKU2", po_id="PO2")]
    assert feed(stream, "promotion_at_risk") == []


def test_uplift_above_on_hand_plus_inbound():
    stream = [snapshot("erp", 0, on_hand=100), po(1, eta_in_days=2, qty=50, lead_time_days=1),
              promotion(2, starts_in_days=30, uplift=400)]
    assert feed(stream, "promotion_at_risk") == [
        ("promotion_readiness", "rules:promotion_readiness:P1|SKU1")]


def test_uplift_covered_by_stock_and_inbound_is_fine():
    stream = [snapshot("erp", 0, on_hand=100), po(1, eta_in_days=2, qty=500, lead_time_days=1),
              promotion(2, starts_in_days=30, uplift=400)]
    assert feed(stream, "promotion_at_risk") == []


def test_uplift_with_nothing_inbound():
    stream = [snapshot("erp", 0, on_hand=100), promotion(2, starts_in_days=30, uplift=400)]
    assert len(feed(stream, "promotion_at_risk")) == 1
    stream = [snapshot("erp", 0, on_hand=100, sku="SKU2"),
              promotion(2, starts_in_days=30, uplift=400)]
    assert feed(stream, "promotion_at_risk") == []


# Late supplier -------------------------------------------------------------------------------

def test_eta_slipping_past_the_promotion_start():
    stream = [promotion(0, starts_in_days=10), po(5, eta_in_days=5), po(60, eta_in_days=12)]
    assert feed(stream, "late_supplier") == [
        ("supplier_escalation", "rules:supplier_escalation:PO1")]


def test_eta_before_the_promotion_or_for_another_sku_is_fine():
    stream = [promotion(0, starts_in_days=10), po(5, eta_in_days=9),
              po(6, eta_in_days=15, sku="SKU2", po_id="PO2")]
    assert feed(stream, "late_supplier") == []


def test_eta_past_the_reorder_point():
    assert feed([po(0, eta_in_days=6, needed_in_days=4)], "late_supplier") == [
        ("supplier_escalation", "rules:supplier_escalation:PO1")]
    assert feed([po(0, eta_in_days=3, needed_in_days=4)], "late_supplier") == []


# Late signals: each key by its own clock ---------------------------------------------------

def _late_batch():
    """Another location's signals from 3 hours later, then S1's ERP snapshot and two no-stock
    cancellations: one POST, in that order (a late POS/ERP batch behind a current one)."""
    current = [snapshot("erp", 180 + m, sku="SKU9", location="S2", on_hand=5) for m in range(3)]
    return current, [snapshot("erp", 0, on_hand=12), cancelled(10), cancelled(50)]


def test_a_store_hours_behind_another_still_opens_its_case():
    current, late = _late_batch()
    alone = feed(late, "channel_mismatch")
    assert alone == [("inventory_reconciliation", "rules:inventory_reconciliation:SKU1|S1")]
    assert feed(current + late, "channel_mismatch") == alone


def test_a_signal_outside_its_window_on_its_keys_clock_is_late_not_dropped_unseen():
    stream = [snapshot("erp", 0, on_hand=12), cancelled(120), cancelled(125),
              cancelled(50)]                       # an hour older than S1's newest: late
    applied = apply_all(stream, "channel_mismatch")
    assert [a.late for a in applied] == [[], [], [], ["channel_mismatch"]]
    assert [bool(a.opens) for a in applied] == [False, False, True, False]


def test_a_late_signal_still_meets_the_facts_that_are_live():
    # the cancellation of minute 55 comes when S1's clock is at 120: its hour has passed, but
    # the one of minute 100 is live and within the hour of it, as in arrival by time
    stream = [cancelled(100), snapshot("erp", 120, on_hand=12), cancelled(55)]
    applied = apply_all(stream, "channel_mismatch")
    assert applied[2].late == ["channel_mismatch"]
    assert [r.ref for r in applied[2].opens] == ["rules:inventory_reconciliation:SKU1|S1"]
    in_order = sorted(stream, key=lambda s: s["at"])
    assert feed(in_order, "channel_mismatch") == [(r.case_type, r.ref) for r in applied[2].opens]


def test_an_older_snapshot_arriving_after_a_newer_one_does_not_replace_it():
    agree = [snapshot("erp", 0, on_hand=100), snapshot("ecommerce", 1, available_to_promise=80),
             snapshot("erp", 20, on_hand=80)]                       # channels agree again
    late = [snapshot("erp", 5, on_hand=100)]                        # the stale ERP figure
    later = [snapshot("ecommerce", 50, available_to_promise=80),
             snapshot("ecommerce", 70, available_to_promise=80)]
    applied = apply_all(agree + late + later, "channel_mismatch")
    assert applied[3].late == ["channel_mismatch"]
    assert not any(a.opens for a in applied)


def test_a_key_further_behind_its_partition_than_the_lateness_allowance_is_late():
    (spec,) = shipped_specs("return_surge")
    allowance_minutes = spec.max_lateness_seconds / 60
    ahead = returned(allowance_minutes + 120, sku="OTHER")
    applied = apply_all([ahead, returned(0), returned(1), returned(2)], "return_surge")
    assert [a.late for a in applied[1:]] == [["return_surge"]] * 3
    assert not any(a.opens for a in applied)      # each left before the next came
    inside = returned(allowance_minutes - 120, sku="OTHER")
    applied = apply_all([inside, returned(0), returned(1), returned(2)], "return_surge")
    assert [a.late for a in applied[1:]] == [[]] * 3
    assert [len(a.opens) for a in applied] == [0, 0, 0, 1]
