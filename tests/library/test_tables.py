"""The library's decision tables, rule by rule, and the diagrams analysts open in the Modeler."""
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from service.decisions import DecisionModel

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ("inventory_reconciliation", "promotion_readiness", "returns_coordination",
           "price_override", "supplier_escalation", "return_surge_review")


def table(key):
    return DecisionModel.parse((ROOT / "dmn" / f"{key}.dmn").read_bytes())


def first_rule(result, key):
    return result.matched_rules[f"{key}_table"][0]["row"]


GAP = {"reason": "channel_mismatch", "erp_on_hand": 12, "ecommerce_atp": 10, "unit_cost": 5}


@pytest.mark.parametrize("inputs, action, row", [
    ({**GAP, "phantom_inventory_risk": 0.9}, "cycle_count", 1),          # likely phantom
    ({**GAP, "reason": "no_stock_cancellations", "phantom_inventory_risk": 0.1},
     "cycle_count", 2),
    ({**GAP, "phantom_inventory_risk": 0.1}, "auto_correct", 3),         # 2 x 5 = 10
    ({**GAP, "erp_on_hand": 52, "phantom_inventory_risk": 0.1}, "cycle_count", 4),  # 200
    ({**GAP, "phantom_inventory_risk": 0.5}, "cycle_count", 4),          # not low risk
    ({"reason": "channel_mismatch", "erp_on_hand": 12, "ecommerce_atp": 10,
      "phantom_inventory_risk": 0.1}, "cycle_count", 4),                 # no cost: no value
])
def test_reconciliation_routing(inputs, action, row):
    result = table("reconciliation_routing").evaluate("reconciliation_routing", inputs)
    assert result.value["action"] == action and first_rule(result, "reconciliation_routing") == row


# expected_uplift is the expected promotional demand in units, as the signal carries it
STOCK = {"on_hand": 300, "inbound": 100, "expected_uplift": 200, "lead_time_days": 5,
         "starts_at": "2099-01-01T00:00:00Z"}


@pytest.mark.parametrize("inputs, readiness, row", [
    ({**STOCK, "promo_stockout_risk": 0.85}, "block", 1),
    ({**STOCK, "on_hand": 50, "inbound": 0, "lead_time_days": 100000,
      "promo_stockout_risk": 0.1}, "block", 2),                          # a quarter, too slow
    ({**STOCK, "promo_stockout_risk": 0.5}, "mitigate", 3),
    ({**STOCK, "on_hand": None, "promo_stockout_risk": 0.1}, "mitigate", 4),
    ({**STOCK, "on_hand": 100, "inbound": 50, "promo_stockout_risk": 0.1}, "mitigate", 5),
    ({**STOCK, "promo_stockout_risk": 0.1}, "ready", 6),                 # twice covered
])
def test_promotion_readiness(inputs, readiness, row):
    result = table("promotion_readiness").evaluate("promotion_readiness", inputs)
    assert result.value["readiness"] == readiness
    assert first_rule(result, "promotion_readiness") == row


@pytest.mark.parametrize("inputs, path, row", [
    ({"return_abuse_risk": 0.8, "value": 20}, "loss_prevention", 1),
    ({"return_abuse_risk": 0.4, "value": 20, "surge_review": True}, "loss_prevention", 2),
    ({"return_abuse_risk": 0.4, "value": 20, "surge_review": False}, "inspect", 5),
    ({"return_abuse_risk": 0.1, "value": 5001}, "finance_approval", 3),
    ({"return_abuse_risk": 0.1, "value": 99.99}, "instant_refund", 4),
    ({"return_abuse_risk": 0.1, "value": 100}, "inspect", 5),
])
def test_returns_routing(inputs, path, row):
    result = table("returns_routing").evaluate("returns_routing", inputs)
    assert result.value["path"] == path and first_rule(result, "returns_routing") == row


@pytest.mark.parametrize("action, amount, below_cost, group, approvers", [
    ("price_override", 200, False, "store_manager", 1),
    ("price_override", 24, True, "finance", 1),
    ("price_override", Decimal(-200), False, "store_manager", 1),
    ("supplier_commitment", 1200, None, "supply_chain", 1),
    ("write_off", 40, None, "store_manager", 1),
    ("adjustment", None, None, "finance", 1),           # an unvalued adjustment
])
def test_authority_for_the_library_actions(action, amount, below_cost, group, approvers):
    inputs = {"action": action, "amount": amount}
    if below_cost is not None:
        inputs["below_cost"] = below_cost
    value = table("approval_authority").evaluate("approval_authority", inputs).value
    assert value == {"required_group": group, "approvers": approvers}


NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
      "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
      "camunda": "http://camunda.org/schema/1.0/bpmn"}
FLOW_NODES = ("startEvent", "endEvent", "userTask", "serviceTask", "scriptTask",
              "businessRuleTask", "exclusiveGateway", "parallelGateway", "eventBasedGateway",
              "intermediateCatchEvent", "boundaryEvent", "receiveTask")


@pytest.mark.parametrize("key", LIBRARY)
def test_diagram_opens_in_the_modeler(key):
    """Every flow node has a shape and every sequence flow an edge, as Camunda Modeler needs."""
    doc = etree.parse(str(ROOT / "bpmn" / f"{key}.bpmn"))
    nodes = {e.get("id") for tag in FLOW_NODES for e in doc.iterfind(f".//bpmn:{tag}", NS)}
    flows = {e.get("id") for e in doc.iterfind(".//bpmn:sequenceFlow", NS)}
    shapes = {e.get("bpmnElement") for e in doc.iterfind(".//bpmndi:BPMNShape", NS)}
    edges = {e.get("bpmnElement") for e in doc.iterfind(".//bpmndi:BPMNEdge", NS)}
    assert nodes and nodes <= shapes and flows <= edges
    assert doc.find(".//bpmn:process", NS).get("id") == key


@pytest.mark.parametrize("key", LIBRARY)
def test_every_human_task_names_its_group(key):
    doc = etree.parse(str(ROOT / "bpmn" / f"{key}.bpmn"))
    for task in doc.iterfind(".//bpmn:userTask", NS):
        assert task.get(f"{{{NS['camunda']}}}candidateGroups"), task.get("id")
