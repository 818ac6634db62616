"""A decision whose FEEL runs away is stopped by the shared budget, and the service says so:
a 422 from the evaluate API, an incident naming the task in a process. Never a null result,
never a stalled request or worker."""
import pytest

from service.store import Case, Incident

RUNAWAY = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d"
             namespace="http://omniflow.example/runaway">
  <decision id="runaway" name="runaway">
    <literalExpression><text>count(for i in 1..1000000, j in 1..1000000 return 1)</text>
    </literalExpression>
  </decision>
</definitions>"""

PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="p" targetNamespace="t">
  <bpmn:process id="runaway_case" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="decide" />
    <bpmn:businessRuleTask id="decide" camunda:decisionRef="runaway"
        camunda:resultVariable="outcome"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing></bpmn:businessRuleTask>
    <bpmn:sequenceFlow id="f2" sourceRef="decide" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>"""


@pytest.fixture
def deployed(app, config):
    from service.usecases.deployments import store_files
    with app.app_context():
        store_files({"runaway.dmn": RUNAWAY.encode(), "runaway.bpmn": PROCESS.encode()},
                    actor="test", max_bytes=config.max_definition_bytes)


def test_the_evaluate_api_answers_422_naming_the_decision(users, deployed):
    analyst = users.make("ana", ["analyst"])
    response = analyst.post("/api/v1/decisions/runaway/evaluate", json={"inputs": {}})
    assert response.status_code == 422, response.get_json()
    problem = response.get_json()
    assert problem["decision"] == "runaway" and "stopped" in problem["detail"]


def test_a_business_rule_task_becomes_an_incident_naming_the_task(users, deployed):
    oms = users.make("oms", ["oms"], client=True)
    response = oms.post("/api/v1/cases", json={"type": "runaway_case", "data": {}})
    assert response.status_code == 201, response.get_json()
    case_id = response.get_json()["id"]
    # Not retried: the same table would be stopped again. An incident names the task and why.
    [incident] = Incident.select().where(Incident.case == case_id)
    assert incident.element_id == "decide" and "was stopped" in incident.message
    assert Case.get_by_id(case_id).status == "incident"
