"""Supplier escalation: the planner's request goes to the supplier, the process waits for the
supplier's confirmation (a message correlated by po_id) and escalates to supply chain after 48
hours; an extra cost is a supplier commitment approved through the authority matrix."""
import pytest

from service.store import Case

from .conftest import case, complete, connectors, open_tasks, params_of, submit, the_task, work

TYPE = "supplier_escalation"
# What the late-supplier rule sends (rules/late_supplier.json).
LATE = {"po_id": "PO-42", "supplier": "ACME", "sku": "SKU-9", "region": "north",
        "eta": "2030-05-20T00:00:00Z", "reason": "eta_after_promotion_start", "promo_id": "PR-1",
        "promotion_starts_at": "2030-05-15T00:00:00Z"}
ASK = {"requested_action": "accept_new_eta", "expedite_cost": 0,
       "supplier_message": "Please confirm the new ETA for PO-42"}


@pytest.fixture
def people(users, deployed):
    return {
        "signals": users.make("signals", ["erp"], client=True),
        "portal": users.make("portal", ["erp"], client=True),
        "planner": users.make("planner", ["replenishment_planner"]),
        "chain": users.make("chain", ["supply_chain"], {"supplier_commitment": 5000}),
        "chain2": users.make("chain2", ["supply_chain"], {"supplier_commitment": 5000}),
    }


def confirm(people, po_id, message_id="m-1", status=202):
    response = people["portal"].post("/api/v1/messages", json={
        "name": "supplier_confirmation", "message_id": message_id,
        "correlation": {"po_id": po_id}, "data": {"confirmed_eta": "2030-05-12", "qty": 500}})
    assert response.status_code == status, response.get_json()
    return response.get_json()


def test_supplier_confirmation_is_correlated_by_po_id(people):
    opened = submit(people["signals"], TYPE, LATE)
    other = submit(people["signals"], TYPE, {**LATE, "po_id": "PO-43"})
    work(people["planner"], opened["id"], "plan_response", ASK)
    work(people["planner"], other["id"], "plan_response", ASK)
    sent = params_of(opened["id"], "supplier.send_message")
    assert sent["po_id"] == "PO-42" and sent["message"] == ASK["supplier_message"]
    confirm(people, "PO-99", status=404)                    # nobody waits for that PO
    confirm(people, "PO-42")
    assert case(people["signals"], opened["id"])["status"] == "completed"
    assert Case.get_by_id(other["id"]).status == "open"     # the other PO still waits
    notice = params_of(opened["id"], "notify.team")
    assert notice["confirmation"]["confirmed_eta"] == "2030-05-12"
    # the same message again is a replay, not a second delivery
    assert confirm(people, "PO-42", status=200)["duplicate"] is True


def test_no_confirmation_in_48_hours_escalates_to_supply_chain(people, worker, clock):
    opened = submit(people["signals"], TYPE, LATE)
    work(people["planner"], opened["id"], "plan_response", ASK)
    clock.advance(hours=47, minutes=58)
    assert worker.run_once().timers == 0
    assert open_tasks(people["chain"], opened["id"]) == []
    clock.advance(minutes=3)
    assert worker.run_once().timers == 1
    confirm(people, "PO-42", status=404)                    # no longer waiting
    done = work(people["chain"], opened["id"], "escalate_supplier",
                {"escalation_outcome": "alternative_source",
                 "escalation_note": "ordered from BETA"})
    assert done["case_status"] == "completed"


def test_expedite_cost_is_a_supplier_commitment_needing_approval(people):
    opened = submit(people["signals"], TYPE, LATE)
    work(people["planner"], opened["id"], "plan_response",
         {**ASK, "requested_action": "expedite", "expedite_cost": 1200})
    assert connectors(opened["id"]) == []                   # nothing sent before approval
    task = the_task(people["chain"], opened["id"], "approve_commitment")
    assert task["properties"]["action"] == "supplier_commitment"
    assert task["properties"]["amount"] == 1200
    complete(people["chain"], task["id"], {"commitment_approved": True})
    assert params_of(opened["id"], "supplier.send_message")["requested_action"] == "expedite"
    confirm(people, "PO-42")
    assert case(people["signals"], opened["id"])["status"] == "completed"


def test_rejected_commitment_goes_back_to_the_planner(people):
    opened = submit(people["signals"], TYPE, LATE)
    work(people["planner"], opened["id"], "plan_response",
         {**ASK, "requested_action": "expedite", "expedite_cost": 1200})
    work(people["chain"], opened["id"], "approve_commitment", {"commitment_approved": False})
    work(people["planner"], opened["id"], "plan_response", ASK)
    assert connectors(opened["id"]) == ["supplier.send_message"]
