"""The shipped detection rules open the library's cases: their data passes the case types'
schemas and scoring, and each case lands in the right inbox."""
import pytest

from service.signals import consumer
from service.usecases.signals import run_rules
from service.store import Case, Signal, Task
from tests.signals.streams import cancelled, po, promotion, returned, snapshot


@pytest.fixture(autouse=True)
def _fresh_rules_state():
    yield
    consumer.forget()


@pytest.fixture
def erp(users, deployed):
    return users.make("erp", ["erp"], client=True)


STREAMS = {
    "return_surge_review": [returned(0), returned(20), returned(40)],
    "inventory_reconciliation": [
        snapshot("erp", 0, on_hand=100), snapshot("ecommerce", 1, available_to_promise=80),
        snapshot("ecommerce", 20, available_to_promise=80), snapshot("erp", 35, on_hand=100)],
    "no_stock": [snapshot("erp", 0, on_hand=12, sku="SKU7"), cancelled(10, sku="SKU7"),
                 cancelled(50, sku="SKU7")],
    "promotion_readiness": [snapshot("erp", 0, on_hand=100, sku="SKU3"),
                            po(1, eta_in_days=2, qty=50, lead_time_days=1, sku="SKU3"),
                            promotion(2, starts_in_days=30, uplift=400, skus=("SKU3",))],
    "lead_time": [promotion(0, starts_in_days=5, skus=("SKU4",), promo_id="P4"),
                  po(10, eta_in_days=9, lead_time_days=8, sku="SKU4", po_id="PO4")],
    "supplier_escalation": [po(0, eta_in_days=6, needed_in_days=4, po_id="PO5", sku="SKU5")],
}
FIRST_TASK = {"return_surge_review": ("review_surge", "loss_prevention"),
              "inventory_reconciliation": ("cycle_count", "store_associate"),
              "promotion_readiness": None,      # the model and table decide; any task will do
              "supplier_escalation": ("plan_response", "replenishment_planner")}


@pytest.mark.parametrize("stream", sorted(STREAMS))
def test_rule_opens_a_library_case(erp, config, stream):
    response = erp.post("/api/v1/signals", json=STREAMS[stream])
    assert response.status_code == 202, response.get_json()
    run_rules(config, owner="w1")
    errors = [s.outcome for s in Signal.select() if s.status == "error"]
    assert errors == []
    cases = list(Case.select())
    assert len(cases) >= 1
    opened = cases[-1]
    assert opened.status == "open", opened.status
    tasks = list(Task.select().where(Task.case == opened.id, Task.status == "open"))
    assert tasks, "the case waits for people"
    expected = FIRST_TASK.get(opened.type)
    if expected:
        assert (tasks[0].element_id, tasks[0].candidate_groups) == (expected[0], [expected[1]])
