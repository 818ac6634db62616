"""Returns coordination: instant refund, inspect-then-refund, loss prevention review, finance
approval; refunds approved with four eyes; then refund posting, customer notice and the restock
decision in parallel (a write-off needs its own approval)."""
import pytest

from .conftest import (case, complete, connectors, decision, open_tasks, params_of, submit,
                       the_task, work)

TYPE = "returns_coordination"
LOW_RISK = {"return_id": "R-1", "order_id": "O-1", "sku": "SKU-5", "receiving_location": "S-01",
            "region": "north", "value": 40, "channel": "store", "reason": "wrong_size",
            "condition": "new", "days_since_purchase": 5, "customer_return_rate": 0.05}
HIGH_RISK = {**LOW_RISK, "value": 300, "reason": "not_as_described", "condition": "used",
             "days_since_purchase": 29, "customer_return_rate": 0.6, "returns_last_90d": 8,
             "receipt_present": False}
MEDIUM_RISK = {**LOW_RISK, "value": 60, "reason": "changed_mind", "condition": "opened",
               "days_since_purchase": 27, "customer_return_rate": 0.3, "returns_last_90d": 3,
               "receipt_present": False}


@pytest.fixture
def people(users, deployed):
    return {
        "pos": users.make("pos", ["pos"], client=True),
        "associate": users.make("associate", ["store_associate"]),
        "sup": users.make("sup", ["cs_supervisor"], {"refund": 500}),
        "lp": users.make("lp", ["loss_prevention"]),
        "manager": users.make("manager", ["store_manager"], {"write_off": 500}),
        "fin1": users.make("fin1", ["finance"], {"refund": 1_000_000}),
        "fin2": users.make("fin2", ["finance"], {"refund": 1_000_000}),
    }


def path(case_id):
    return decision(case_id, "returns_routing").outputs["path"]


def restock(people, case_id, disposition):
    return work(people["associate"], case_id, "decide_restock", {"disposition": disposition})


def test_low_risk_low_value_return_is_refunded_at_once(people):
    opened = submit(people["pos"], TYPE, LOW_RISK)
    assert opened["score"] < 0.3 and path(opened["id"]) == "instant_refund"
    # refund and notice went out in parallel; the restock decision waits for the store
    assert sorted(connectors(opened["id"])) == ["erp.post_refund", "notify.customer"]
    assert params_of(opened["id"], "erp.post_refund")["amount"] == 40
    assert [t["element_id"] for t in open_tasks(people["associate"], opened["id"])] == \
        ["decide_restock"]
    assert restock(people, opened["id"], "resell")["case_status"] == "completed"
    assert params_of(opened["id"], "wms.restock")["disposition"] == "resell"


def test_inspected_return_refund_needs_four_eyes(people, users):
    counter = users.make("counter", ["store_associate", "cs_supervisor"], {"refund": 500})
    opened = submit(counter, TYPE, {**LOW_RISK, "value": 500})
    assert path(opened["id"]) == "inspect"
    work(people["associate"], opened["id"], "inspect_return",
         {"refund_decision": "refund", "refund_amount": 450, "condition_found": "opened"})
    approval = the_task(people["sup"], opened["id"], "approve_refund")
    assert approval["candidate_groups"] == ["cs_supervisor"]
    assert approval["properties"]["amount"] == 450
    # the clerk who took the return in cannot approve its refund
    assert complete(counter, approval["id"], {"refund_approved": True},
                    status=403)["rule"] == "four-eyes"
    assert connectors(opened["id"]) == []
    complete(people["sup"], approval["id"], {"refund_approved": True})
    assert params_of(opened["id"], "erp.post_refund")["amount"] == 450
    assert restock(people, opened["id"], "refurbish")["case_status"] == "completed"
    assert params_of(opened["id"], "wms.restock")["disposition"] == "refurbish"


def test_rejected_inspection_declines_the_refund(people):
    opened = submit(people["pos"], TYPE, {**LOW_RISK, "value": 500})
    done = work(people["associate"], opened["id"], "inspect_return",
                {"refund_decision": "reject", "refund_amount": 0, "condition_found": "damaged",
                 "inspection_note": "water damage"})
    assert done["case_status"] == "completed"
    assert connectors(opened["id"]) == ["notify.customer"]
    assert params_of(opened["id"], "notify.customer")["message"] == "return refund declined"


def test_likely_abuse_goes_to_loss_prevention(people):
    opened = submit(people["pos"], TYPE, HIGH_RISK)
    assert opened["score"] >= 0.7 and path(opened["id"]) == "loss_prevention"
    assert open_tasks(people["associate"], opened["id"]) == []
    done = work(people["lp"], opened["id"], "review_return",
                {"refund_decision": "reject", "refund_amount": 0,
                 "review_note": "serial returner, worn item"})
    assert done["case_status"] == "completed"
    assert connectors(opened["id"]) == ["notify.customer"]


def test_loss_prevention_may_clear_a_refund_which_is_then_approved(people):
    opened = submit(people["pos"], TYPE, HIGH_RISK)
    work(people["lp"], opened["id"], "review_return",
         {"refund_decision": "refund", "refund_amount": 150, "review_note": "partial"})
    work(people["sup"], opened["id"], "approve_refund", {"refund_approved": True})
    assert params_of(opened["id"], "erp.post_refund")["amount"] == 150
    restock(people, opened["id"], "resell")
    assert case(people["pos"], opened["id"])["status"] == "completed"


def test_return_surge_lowers_the_bar_for_loss_prevention(people):
    plain = submit(people["pos"], TYPE, MEDIUM_RISK)
    assert 0.3 <= plain["score"] < 0.7 and path(plain["id"]) == "inspect"
    surge = submit(people["pos"], TYPE, {**MEDIUM_RISK, "return_id": "R-2", "surge_review": True})
    assert path(surge["id"]) == "loss_prevention"


def test_high_value_return_needs_finance_approval(people):
    opened = submit(people["pos"], TYPE, {**LOW_RISK, "value": 8000})
    assert path(opened["id"]) == "finance_approval"
    approval = the_task(people["fin1"], opened["id"], "approve_refund")
    assert approval["candidate_groups"] == ["finance"]
    assert approval["properties"]["amount"] == 8000
    complete(people["fin1"], approval["id"], {"refund_approved": True})
    assert params_of(opened["id"], "erp.post_refund")["amount"] == 8000


def test_very_high_value_refund_needs_two_different_approvers(people):
    opened = submit(people["pos"], TYPE, {**LOW_RISK, "value": 20000})
    work(people["fin1"], opened["id"], "approve_refund", {"refund_approved": True})
    second = the_task(people["fin1"], opened["id"], "second_refund_approval")
    assert complete(people["fin1"], second["id"], {"second_refund_approved": True},
                    status=403)["rule"] == "four-eyes"
    complete(people["fin2"], second["id"], {"second_refund_approved": True})
    assert params_of(opened["id"], "erp.post_refund")["amount"] == 20000


def test_refund_rejected_by_the_approver_is_declined(people):
    opened = submit(people["pos"], TYPE, {**LOW_RISK, "value": 500})
    work(people["associate"], opened["id"], "inspect_return",
         {"refund_decision": "refund", "refund_amount": 500, "condition_found": "used"})
    done = work(people["sup"], opened["id"], "approve_refund", {"refund_approved": False})
    assert done["case_status"] == "completed"
    assert connectors(opened["id"]) == ["notify.customer"]


def test_approved_write_off_is_posted_to_erp(people):
    opened = submit(people["pos"], TYPE, LOW_RISK)
    restock(people, opened["id"], "write_off")
    approval = the_task(people["manager"], opened["id"], "approve_write_off")
    assert approval["properties"] == {"approval": "true", "action": "write_off", "amount": 40}
    done = complete(people["manager"], approval["id"], {"write_off_approved": True})
    assert done["case_status"] == "completed"
    assert params_of(opened["id"], "erp.post_write_off")["amount"] == 40
    assert "wms.restock" not in connectors(opened["id"])


def test_rejected_write_off_sends_the_item_to_refurbishment(people):
    opened = submit(people["pos"], TYPE, LOW_RISK)
    restock(people, opened["id"], "write_off")
    work(people["manager"], opened["id"], "approve_write_off", {"write_off_approved": False})
    assert case(people["pos"], opened["id"])["status"] == "completed"
    assert params_of(opened["id"], "wms.restock")["disposition"] == "refurbish"
    assert "erp.post_write_off" not in connectors(opened["id"])
