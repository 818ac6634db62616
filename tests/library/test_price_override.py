"""Price override: never automatic; the approver follows the margin given up; below cost always
finance; the requester never approves their own override."""
import pytest

from .conftest import complete, connectors, open_tasks, params_of, submit, the_task, work

TYPE = "price_override"
REQUEST = {"sku": "SKU-3", "store": "S-07", "current_price": 20, "requested_price": 15,
           "unit_cost": 9, "quantity": 40, "reason": "match competitor", "requested_by": "clerk"}


@pytest.fixture
def people(users, deployed):
    return {
        "pos": users.make("pos", ["pos"], client=True),
        "manager": users.make("manager", ["store_manager"], {"price_override": 500}),
        "district": users.make("district", ["district_manager"], {"price_override": 5000}),
        "fin1": users.make("fin1", ["finance"], {"price_override": 1_000_000}),
        "fin2": users.make("fin2", ["finance"], {"price_override": 1_000_000}),
    }


def test_small_override_is_approved_by_the_store_manager_and_posted(people):
    opened = submit(people["pos"], TYPE, REQUEST)             # 5 x 40 = 200 of margin
    assert opened["status"] == "open"
    task = the_task(people["manager"], opened["id"], "approve_override")
    assert task["candidate_groups"] == ["store_manager"]
    assert task["properties"]["action"] == "price_override"
    assert task["properties"]["amount"] == 200
    done = complete(people["manager"], task["id"], {"override_approved": True})
    assert done["case_status"] == "completed"
    assert connectors(opened["id"]) == ["erp.post_price_override", "notify.team"]
    assert params_of(opened["id"], "erp.post_price_override")["price"] == 15


def test_no_override_is_ever_automatic(people):
    # a price increase gives up no margin, and still waits for a person
    opened = submit(people["pos"], TYPE, {**REQUEST, "requested_price": 25})
    assert opened["status"] == "open" and connectors(opened["id"]) == []
    assert the_task(people["manager"], opened["id"], "approve_override")["properties"][
        "amount"] == -200


def test_larger_margin_impact_goes_to_the_district_manager(people):
    opened = submit(people["pos"], TYPE, {**REQUEST, "quantity": 400})   # 2,000
    assert open_tasks(people["manager"], opened["id"]) == []
    work(people["district"], opened["id"], "approve_override", {"override_approved": True})
    assert "erp.post_price_override" in connectors(opened["id"])


def test_below_cost_always_needs_finance(people):
    opened = submit(people["pos"], TYPE, {**REQUEST, "requested_price": 8, "quantity": 2})
    task = the_task(people["fin1"], opened["id"], "approve_override")
    assert task["candidate_groups"] == ["finance"] and task["properties"]["amount"] == 24
    assert complete(people["manager"], task["id"], {"override_approved": True},
                    status=404)                               # not the manager's task
    complete(people["fin1"], task["id"], {"override_approved": True})
    assert "erp.post_price_override" in connectors(opened["id"])


def test_rejected_override_is_not_posted(people):
    opened = submit(people["pos"], TYPE, REQUEST)
    done = work(people["manager"], opened["id"], "approve_override",
                {"override_approved": False, "override_comment": "no competitor match"})
    assert done["case_status"] == "completed"
    assert connectors(opened["id"]) == ["notify.team"]
    assert params_of(opened["id"], "notify.team")["message"] == "price override rejected"


def test_requester_cannot_approve_their_own_override(people, users):
    manager = users.make("self", ["store_manager"], {"price_override": 500})
    opened = submit(manager, TYPE, REQUEST)
    task = the_task(manager, opened["id"], "approve_override")
    assert complete(manager, task["id"], {"override_approved": True},
                    status=403)["rule"] == "four-eyes"
    complete(people["manager"], task["id"], {"override_approved": True})


def test_person_named_as_requester_cannot_approve_through_the_pos(people, users):
    clerk = users.make("clerk", ["store_manager"], {"price_override": 500})
    opened = submit(people["pos"], TYPE, REQUEST)             # requested_by: clerk
    task = the_task(clerk, opened["id"], "approve_override")
    body = complete(clerk, task["id"], {"override_approved": True}, status=403)
    assert body["rule"] == "four-eyes" and "requested" in body["detail"]
    complete(people["manager"], task["id"], {"override_approved": True})


def test_huge_override_needs_two_different_finance_approvers(people):
    opened = submit(people["pos"], TYPE, {**REQUEST, "quantity": 3000})  # 15,000
    work(people["fin1"], opened["id"], "approve_override", {"override_approved": True})
    second = the_task(people["fin1"], opened["id"], "second_override_approval")
    assert complete(people["fin1"], second["id"], {"second_override_approved": True},
                    status=403)["rule"] == "four-eyes"
    complete(people["fin2"], second["id"], {"second_override_approved": True})
    assert connectors(opened["id"]) == ["erp.post_price_override", "notify.team"]
