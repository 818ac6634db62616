"""Return surge review: loss prevention's finding decides who hears about it."""
import pytest

from .conftest import connectors, params_of, submit, work

TYPE = "return_surge_review"
# What the return-surge rule sends (rules/return_surge.json).
SURGE = {"sku": "SKU-5", "region": "north", "returns": 3, "first_return_id": "R-1",
         "last_return_id": "R-3", "window_start": "2030-05-01T10:00:00Z",
         "window_end": "2030-05-01T10:40:00Z", "raise_review_threshold": True}


@pytest.fixture
def people(users, deployed):
    return {"signals": users.make("signals", ["pos"], client=True),
            "lp": users.make("lp", ["loss_prevention"])}


@pytest.mark.parametrize("finding, team", [("product_defect", "category_manager"),
                                           ("abuse_pattern", "store_manager")])
def test_finding_is_sent_to_the_right_team(people, finding, team):
    opened = submit(people["signals"], TYPE, SURGE)
    done = work(people["lp"], opened["id"], "review_surge",
                {"finding": finding, "finding_note": "see returns R-1..R-3"})
    assert done["case_status"] == "completed"
    assert connectors(opened["id"]) == ["notify.team"]
    assert params_of(opened["id"], "notify.team")["team"] == team


def test_no_issue_closes_quietly(people):
    opened = submit(people["signals"], TYPE, SURGE)
    done = work(people["lp"], opened["id"], "review_surge",
                {"finding": "no_issue", "finding_note": "three different customers, all fine"})
    assert done["case_status"] == "completed" and connectors(opened["id"]) == []
