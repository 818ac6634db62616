"""Inventory reconciliation: auto-correct, the cycle count (escalated after 4 hours), the
adjustment through the authority matrix, and the postings to ERP and ecommerce."""
import datetime as dt

import pytest

from service.store import Task

from .conftest import (about, case, complete, connectors, decision, open_tasks, params_of,
                       submit, the_task, work)

TYPE = "inventory_reconciliation"
# What the channel-mismatch rule sends (rules/channel_mismatch.json), plus the unit cost.
SMALL_GAP = {"sku": "SKU-1", "location": "S-01", "region": "north", "reason": "channel_mismatch",
             "erp_on_hand": 12, "ecommerce_atp": 10, "unit_cost": 5}
BIG_GAP = {**SMALL_GAP, "erp_on_hand": 60, "ecommerce_atp": 20, "unit_cost": 30}


@pytest.fixture
def people(users, deployed):
    return {
        "signals": users.make("signals", ["erp"], client=True),
        "associate": users.make("associate", ["store_associate"]),
        "manager": users.make("manager", ["store_manager"], {"adjustment": 500}),
        "weak_manager": users.make("weak", ["store_manager"], {"adjustment": 100}),
        "fin1": users.make("fin1", ["finance"], {"adjustment": 1_000_000}),
        "fin2": users.make("fin2", ["finance"], {"adjustment": 1_000_000}),
    }


def count(people, case_id, units):
    return work(people["associate"], case_id, "cycle_count", {"counted_units": units})


def test_small_low_risk_gap_is_corrected_automatically(people):
    opened = submit(people["signals"], TYPE, SMALL_GAP)
    assert opened["score"] < 0.3 and opened["status"] == "completed" and opened["tasks"] == []
    assert connectors(opened["id"]) == ["ecommerce.update_atp"]
    assert params_of(opened["id"], "ecommerce.update_atp")["available_to_promise"] == 12
    routing = decision(opened["id"], "reconciliation_routing")
    assert routing.outputs["action"] == "auto_correct"
    assert routing.matched_rules["reconciliation_routing_table"][0]["rule_id"] == \
        "Rule_reconciliation_routing_03"


def test_count_that_matches_erp_publishes_it_without_adjustment(people):
    opened = submit(people["signals"], TYPE, BIG_GAP)
    task = the_task(people["associate"], opened["id"], "cycle_count")
    assert task["candidate_groups"] == ["store_associate"]
    assert about(task["due_at"], dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=4))
    assert count(people, opened["id"], 60)["case_status"] == "completed"
    assert connectors(opened["id"]) == ["ecommerce.update_atp"]
    assert params_of(opened["id"], "ecommerce.update_atp")["available_to_promise"] == 60


def test_adjustment_within_store_manager_authority_is_posted(people):
    opened = submit(people["signals"], TYPE, BIG_GAP)
    count(people, opened["id"], 55)                       # 5 units short x 30 = 150
    task = the_task(people["manager"], opened["id"], "approve_adjustment")
    assert task["candidate_groups"] == ["store_manager"]
    assert task["properties"]["action"] == "adjustment" and task["properties"]["amount"] == 150
    denied = complete(people["weak_manager"], task["id"], {"adjustment_approved": True},
                      status=403)
    assert denied["rule"] == "authority"
    done = complete(people["manager"], task["id"], {"adjustment_approved": True})
    assert done["case_status"] == "completed"
    assert connectors(opened["id"]) == ["erp.post_adjustment", "ecommerce.update_atp"]
    posted = params_of(opened["id"], "erp.post_adjustment")
    assert posted["units"] == -5 and posted["value"] == 150 and posted["sku"] == "SKU-1"
    assert params_of(opened["id"], "ecommerce.update_atp")["available_to_promise"] == 55


def test_overdue_count_escalates_to_the_store_manager(people, worker, clock):
    opened = submit(people["signals"], TYPE, BIG_GAP)
    clock.advance(hours=3, minutes=58)
    assert worker.run_once().timers == 0
    assert [t["element_id"] for t in open_tasks(people["associate"], opened["id"])] == \
        ["cycle_count"]
    clock.advance(minutes=3)
    assert worker.run_once().timers == 1
    assert open_tasks(people["associate"], opened["id"]) == []
    assert Task.get(Task.case == opened["id"], Task.element_id == "cycle_count").status == \
        "cancelled"
    work(people["manager"], opened["id"], "escalated_count", {"counted_units": 60})
    assert case(people["signals"], opened["id"])["status"] == "completed"


def test_large_adjustment_needs_two_different_finance_approvers(people):
    opened = submit(people["signals"], TYPE, {**BIG_GAP, "erp_on_hand": 500})
    count(people, opened["id"], 100)                      # 400 x 30 = 12,000
    first = the_task(people["fin1"], opened["id"], "approve_adjustment")
    assert first["candidate_groups"] == ["finance"] and first["properties"]["amount"] == 12000
    complete(people["fin1"], first["id"], {"adjustment_approved": True})
    second = the_task(people["fin1"], opened["id"], "second_adjustment_approval")
    assert complete(people["fin1"], second["id"], {"second_adjustment_approved": True},
                    status=403)["rule"] == "four-eyes"
    complete(people["fin2"], second["id"], {"second_adjustment_approved": True})
    assert connectors(opened["id"]) == ["erp.post_adjustment", "ecommerce.update_atp"]


def test_rejected_adjustment_alerts_loss_prevention_and_posts_nothing(people):
    opened = submit(people["signals"], TYPE, BIG_GAP)
    count(people, opened["id"], 50)
    work(people["manager"], opened["id"], "approve_adjustment", {"adjustment_approved": False,
                                                                 "adjustment_comment": "recount"})
    assert case(people["signals"], opened["id"])["status"] == "completed"
    assert connectors(opened["id"]) == ["notify.team"]
    assert params_of(opened["id"], "notify.team")["team"] == "loss_prevention"


def test_an_unvalued_gap_is_valued_by_finance_before_anyone_approves_it(people):
    # What the no-stock rule sends: the snapshot's on-hand, no ecommerce figure, no cost.
    data = {"sku": "SKU-2", "location": "S-02", "region": "south",
            "reason": "no_stock_cancellations", "on_hand": 5, "snapshot_source": "erp",
            "cancelled_orders": 2, "first_order_id": "O-1", "last_order_id": "O-2"}
    opened = submit(people["signals"], TYPE, data)
    assert decision(opened["id"], "reconciliation_routing").outputs["action"] == "cycle_count"
    count(people, opened["id"], 0)
    # An approval of an unknown amount would have no limit: finance states the cost first.
    valuing = the_task(people["fin1"], opened["id"], "value_adjustment")
    assert valuing["candidate_groups"] == ["finance"]
    complete(people["fin1"], valuing["id"], {"unit_cost": 1500})
    task = the_task(people["fin2"], opened["id"], "approve_adjustment")
    assert task["candidate_groups"] == ["finance"] and task["properties"]["amount"] == 7500
    # Whoever valued the gap stands behind the adjustment: four-eyes keeps them off it.
    refused = complete(people["fin1"], task["id"], {"adjustment_approved": True}, status=403)
    assert refused["rule"] == "four-eyes"
    complete(people["fin2"], task["id"], {"adjustment_approved": True})
    assert params_of(opened["id"], "erp.post_adjustment")["units"] == -5
    assert params_of(opened["id"], "erp.post_adjustment")["value"] == 7500
    assert params_of(opened["id"], "ecommerce.update_atp")["available_to_promise"] == 0
