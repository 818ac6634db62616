"""Promotion readiness: ready, mitigate (planner, then merchandising sign-off) and block (the
category manager decides, escalated to the regional manager 3 days before launch)."""
import datetime as dt

import pytest

from .conftest import (about, case, complete, connectors, decision, open_tasks, params_of,
                       submit, the_task, work)

TYPE = "promotion_readiness"


def promo(days_to_launch=30, **extra):
    starts = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(
        days=days_to_launch)
    return {"promo_id": "PR-1", "sku": "SKU-9", "region": "north",
            "starts_at": starts.isoformat().replace("+00:00", "Z"),
            "days_to_launch": days_to_launch, **extra}


# expected_uplift: the expected promotional demand in units (the signal's and the rule's meaning);
# uplift_multiplier: the planner's multiplier over the baseline (the model's feature).
COVERED = dict(on_hand=5000, inbound=2000, expected_uplift=600, baseline_weekly_units=200,
               uplift_multiplier=1.5, discount_pct=10, lead_time_days=5, supplier_fill_rate=0.98)
SHORT = dict(on_hand=200, inbound=100, expected_uplift=400, baseline_weekly_units=200,
             uplift_multiplier=2, discount_pct=25, lead_time_days=10)
# What the promotion-at-risk rule sends when the lead time is too long (no stock figures).
FROM_RULE = dict(expected_uplift=400, reason="lead_time_exceeds_days_left", po_id="PO-1",
                 supplier="ACME", lead_time_days=40)


@pytest.fixture
def people(users, deployed):
    return {
        "signals": users.make("signals", ["erp"], client=True),
        "planner": users.make("planner", ["replenishment_planner"]),
        "merch": users.make("merch", ["merchandising"]),
        "category": users.make("category", ["category_manager"]),
        "region": users.make("region", ["regional_manager"]),
    }


def test_covered_promotion_is_ready(people):
    opened = submit(people["signals"], TYPE, promo(**COVERED))
    assert opened["status"] == "completed" and opened["tasks"] == []
    assert decision(opened["id"], "promotion_readiness").outputs["readiness"] == "ready"
    assert connectors(opened["id"]) == ["notify.team"]


def test_mitigation_signed_off_by_merchandising(people):
    opened = submit(people["signals"], TYPE, promo(**SHORT))
    assert decision(opened["id"], "promotion_readiness").outputs["readiness"] == "mitigate"
    assert open_tasks(people["merch"], opened["id"]) == []
    work(people["planner"], opened["id"], "plan_mitigation",
         {"expedite_po": True, "added_units": 300, "mitigation_note": "PO-7 expedited"})
    done = work(people["merch"], opened["id"], "merchandising_signoff", {"signed_off": True})
    assert done["case_status"] == "completed"
    assert params_of(opened["id"], "notify.team")["message"] == \
        "promotion mitigated and signed off"


def test_refused_sign_off_goes_to_the_category_manager(people):
    opened = submit(people["signals"], TYPE, promo(**SHORT))
    work(people["planner"], opened["id"], "plan_mitigation",
         {"rebalance_stock": True, "mitigation_note": "moved 100 units from DC"})
    work(people["merch"], opened["id"], "merchandising_signoff",
         {"signed_off": False, "signoff_comment": "still too thin"})
    done = work(people["category"], opened["id"], "decide_launch",
                {"launch_decision": "reduce_scope", "decision_note": "north stores only"})
    assert done["case_status"] == "completed"
    assert params_of(opened["id"], "notify.team")["decision"] == "reduce_scope"


def test_blocked_promotion_is_decided_by_the_category_manager(people):
    data = promo(days_to_launch=20, **FROM_RULE)
    opened = submit(people["signals"], TYPE, data)
    assert opened["score"] >= 0.8
    assert decision(opened["id"], "promotion_readiness").outputs["readiness"] == "block"
    task = the_task(people["category"], opened["id"], "decide_launch")
    starts = dt.datetime.fromisoformat(data["starts_at"].replace("Z", "+00:00"))
    assert about(task["due_at"], starts - dt.timedelta(days=3), seconds=2)
    complete(people["category"], task["id"],
             {"launch_decision": "postpone", "new_starts_at": "2031-01-01",
              "decision_note": "supplier too slow"})
    assert params_of(opened["id"], "notify.team")["decision"] == "postpone"
    assert case(people["signals"], opened["id"])["status"] == "completed"


def test_open_decision_escalates_to_the_regional_manager_3_days_before_launch(people, worker,
                                                                               clock):
    opened = submit(people["signals"], TYPE, promo(days_to_launch=5, **FROM_RULE))
    clock.advance(days=2, hours=-1)
    assert worker.run_once().timers == 0
    clock.advance(hours=1, minutes=1)
    assert worker.run_once().timers == 1
    assert open_tasks(people["category"], opened["id"]) == []
    done = work(people["region"], opened["id"], "escalated_decision",
                {"launch_decision": "launch", "decision_note": "accept the risk"})
    assert done["case_status"] == "completed"
    assert params_of(opened["id"], "notify.team")["decision"] == "launch"
