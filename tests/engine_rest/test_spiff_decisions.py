"""A SpiffWorkflow-flavoured business rule task (``spiffworkflow:calledDecisionId``, no result
variable) over a deployed one-output table: the value lands under the output column's name, as
SpiffWorkflow stores it, so the analyst's gateway on that name runs unchanged."""
from __future__ import annotations

import pytest

from service.domain import instances
from service.store import Case, Instance, Task
from service.store.fields import utcnow

from .conftest import start

DMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="Priority"
             namespace="http://example.com/priority">
  <decision id="order_priority" name="Order priority">
    <decisionTable id="t_priority" hitPolicy="FIRST">
      <input id="i1" label="Order value"><inputExpression typeRef="number">
        <text>order_value</text></inputExpression></input>
      <output id="o1" name="priority" typeRef="string"/>
      <rule id="r1"><inputEntry><text>&gt;= 400</text></inputEntry>
        <outputEntry><text>"high"</text></outputEntry></rule>
      <rule id="r2"><inputEntry><text>-</text></inputEntry>
        <outputEntry><text>"normal"</text></outputEntry></rule>
    </decisionTable>
  </decision>
  <decision id="order_lane" name="Order lane">
    <decisionTable id="t_lane" hitPolicy="FIRST">
      <input id="i2" label="Order value"><inputExpression typeRef="number">
        <text>order_value</text></inputExpression></input>
      <output id="o2" typeRef="string"/>
      <rule id="r3"><inputEntry><text>-</text></inputEntry>
        <outputEntry><text>"store"</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>
"""

BPMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs"
    targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="spiff_priority" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="decide"/>
    <bpmn:businessRuleTask id="decide" name="Decide priority">
      <bpmn:extensionElements>
        <spiffworkflow:calledDecisionId>order_priority</spiffworkflow:calledDecisionId>
      </bpmn:extensionElements>
    </bpmn:businessRuleTask>
    <bpmn:sequenceFlow id="f2" sourceRef="decide" targetRef="lane"/>
    <bpmn:businessRuleTask id="lane" name="Decide lane">
      <bpmn:extensionElements>
        <spiffworkflow:calledDecisionId>order_lane</spiffworkflow:calledDecisionId>
      </bpmn:extensionElements>
    </bpmn:businessRuleTask>
    <bpmn:sequenceFlow id="f3" sourceRef="lane" targetRef="by_priority"/>
    <bpmn:exclusiveGateway id="by_priority" default="f_normal"/>
    <bpmn:sequenceFlow id="f_high" sourceRef="by_priority" targetRef="expedite">
      <bpmn:conditionExpression>priority == "high"</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_normal" sourceRef="by_priority" targetRef="review"/>
    <bpmn:userTask id="expedite" name="Expedite order"/>
    <bpmn:userTask id="review" name="Review order"/>
    <bpmn:sequenceFlow id="f4" sourceRef="expedite" targetRef="end"/>
    <bpmn:sequenceFlow id="f5" sourceRef="review" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture
def spiff_priority(deploy):
    answer = deploy({"priority.dmn": DMN, "spiff_priority.bpmn": BPMN})
    assert answer.status_code == 200, answer.get_json()


@pytest.mark.parametrize("value, element", [(420, "expedite"), (80, "review")])
def test_a_one_output_table_result_is_stored_under_the_output_name(
        client, oms, spiff_priority, value, element):
    started = start(client, oms, key="spiff_priority", order_id=f"S-{value}",
                    order_value=value)
    [task] = Task.select().where(Task.instance == int(started["id"]))
    assert task.element_id == element
    variables = _data_of(task)
    assert variables["priority"] == ("high" if value >= 400 else "normal")
    # a column without a name of its own: the value goes under the decision id, as before
    assert variables["order_lane"] == "store"
    assert "order_priority" not in variables
    assert Case.get_by_id(task.case_id).status == "open"


def _data_of(task: Task) -> dict:
    """The process data, from the instance rebuilt from its stored state by the engine."""
    process = instances.load(Instance.get_by_id(task.instance_id), clock=utcnow,
                             script_cpu_seconds=1.0)
    return process.inst.data
