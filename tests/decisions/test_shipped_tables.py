"""The retail tables shipped in dmn/: they parse strictly and route as the domain says."""
from decimal import Decimal
from pathlib import Path

import pytest

from service.decisions import DecisionModel

DMN = Path(__file__).resolve().parents[2] / "dmn"


@pytest.fixture(scope="module")
def routing():
    return DecisionModel.parse((DMN / "exception_routing.dmn").read_bytes())


@pytest.fixture(scope="module")
def authority():
    return DecisionModel.parse((DMN / "approval_authority.dmn").read_bytes())


def route(model, reason, tier="bronze", value=50, margin=0.3, risk=0.1):
    return model.evaluate("exception_routing", {
        "reason": reason, "customer_tier": tier, "value": value, "margin": margin,
        "escalation_risk": risk}).value


@pytest.mark.parametrize("reason, expected", [
    ("short_pick", "auto_substitute"), ("damaged", "auto_reship"),
    ("late_shipment", "auto_reship"), ("customer_complaint", "auto_refund"),
    ("payment_failed", "manual"), ("address_invalid", "manual"),
])
def test_low_risk_low_value_auto_resolution(routing, reason, expected):
    assert route(routing, reason)["resolution"] == expected


def test_urgent_cases_are_p1_with_two_hour_sla(routing):
    high_risk = route(routing, "damaged", risk=0.8)
    assert high_risk == {"priority": "P1", "owner_group": "customer_service",
                         "sla_hours": Decimal(2), "resolution": "manual"}
    assert route(routing, "customer_complaint", risk=0.9)["owner_group"] == "cs_supervisor"
    assert route(routing, "short_pick", tier="gold", value=750)["priority"] == "P1"


def test_losing_margin_refunds_instead_of_reshipping(routing):
    assert route(routing, "damaged", margin=-0.05)["resolution"] == "auto_refund"


def test_platinum_customers_are_treated_like_gold(routing):
    assert route(routing, "short_pick", tier="platinum", value=750)["priority"] == "P1"


def test_high_margin_at_some_risk_is_p2(routing):
    assert route(routing, "damaged", value=300, margin=0.45, risk=0.35)["priority"] == "P2"
    assert route(routing, "damaged", value=300, margin=0.2, risk=0.35)["priority"] == "P3"


def test_catch_all_is_p3_manual_customer_service(routing):
    result = routing.evaluate("exception_routing", {
        "reason": "damaged", "customer_tier": "bronze", "value": 300, "margin": 0.2,
        "escalation_risk": 0.5})
    assert result.value == {"priority": "P3", "owner_group": "customer_service",
                            "sla_hours": Decimal(24), "resolution": "manual"}
    assert result.matched_rules["exception_routing_table"][0]["row"] == 15


def test_sla_hours_follow_priority(routing):
    sla = {"P1": 2, "P2": 8, "P3": 24, "P4": 72}
    for reason in ("short_pick", "damaged", "payment_failed", "customer_complaint"):
        for risk in (0.1, 0.4, 0.8):
            for value in (50, 600, 1500):
                r = route(routing, reason, tier="silver", value=value, risk=risk)
                assert r["sla_hours"] == sla[r["priority"]]


def approval(model, action, amount, below_cost=None):
    inputs = {"action": action, "amount": amount}
    if below_cost is not None:
        inputs["below_cost"] = below_cost
    return model.evaluate("approval_authority", inputs).value


@pytest.mark.parametrize("action, amount, group, approvers", [
    ("refund", 120, "cs_supervisor", 1),
    ("adjustment", 500, "store_manager", 1),
    ("adjustment", 501, "district_manager", 1),
    ("refund", 5000, "district_manager", 1),
    ("refund", 5001, "finance", 1),
    ("write_off", 9000, "finance", 1),
    ("supplier_commitment", 4000, "supply_chain", 1),
    ("supplier_commitment", 20000, "finance", 2),
    ("adjustment", 10001, "finance", 2),
    ("price_override", 300, "store_manager", 1),
    ("something_new", 10, "finance", 1),
])
def test_authority_matrix(authority, action, amount, group, approvers):
    assert approval(authority, action, amount) == {"required_group": group,
                                                   "approvers": Decimal(approvers)}


def test_price_override_below_cost_always_needs_finance(authority):
    assert approval(authority, "price_override", 20, below_cost=True)["required_group"] == \
        "finance"
    assert approval(authority, "price_override", 20, below_cost=False)["required_group"] == \
        "store_manager"


def test_tables_declare_their_inputs_and_record_them_absent_ones_as_null(routing, authority):
    """The shipped tables declare what they read (inputData, as Camunda Modeler draws it): a
    declared input a caller leaves out is null (below_cost: most approvals are not price
    overrides), a name nobody declared is an error (service evaluations are strict)."""
    assert sorted(routing.inputs_of("exception_routing")) == [
        "customer_tier", "escalation_risk", "margin", "reason", "value"]
    assert sorted(authority.inputs_of("approval_authority")) == ["action", "amount",
                                                                 "below_cost"]
    result = authority.evaluate("approval_authority", {"action": "refund", "amount": 10},
                                strict_names=True)
    assert result.inputs == {"action": "refund", "amount": Decimal(10), "below_cost": None}


@pytest.mark.parametrize("path", sorted(DMN.glob("*.dmn")), ids=lambda p: p.stem)
def test_the_replay_evaluator_answers_as_evaluate(path):
    """``DecisionModel.evaluator`` (the what-if loop) gives exactly what ``evaluate`` gives:
    value, matched rules and warnings, on inputs that hit many rows, miss some names and carry
    values of the wrong type."""
    model = DecisionModel.parse(path.read_bytes(), strict_names=True)
    words = ["damaged", "short_pick", "customer_complaint", "refund", "price_override",
             "gold", "bronze", "platinum", "web", "high", None]
    numbers = [0, 0.29, 0.3, 0.71, 99, 100, 501, 1000, -0.1, Decimal("12.5"), None]
    for decision in model.decisions:
        names = model.inputs_of(decision.id)
        evaluate = model.evaluator(decision.id)
        for i in range(60):
            inputs = {n: (words[(i + k) % len(words)] if (i + k) % 3 == 0
                          else numbers[(i * 7 + k) % len(numbers)])
                      for k, n in enumerate(names) if (i + k) % 11}
            want = model.evaluate(decision.id, inputs)
            value, matched, warnings = evaluate(inputs)
            assert (value, matched, list(warnings)) == (
                want.value, want.matched_rules, list(want.warnings)), (decision.id, inputs)
