"""The Camunda REST calls tools use first: same use cases, permissions and audit as /api/v1."""
from __future__ import annotations

from pathlib import Path

import pytest
from camunda.client.engine_client import EngineClient

from service.store import AuditEvent, Case, Definition, Task

from .conftest import basic

ROOT = Path(__file__).resolve().parents[2]

PAYMENT = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:message id="m" name="payment_received">
    <bpmn:extensionElements>
      <camunda:properties><camunda:property name="correlationKey" value="order_id"/></camunda:properties>
    </bpmn:extensionElements>
  </bpmn:message>
  <bpmn:process id="await_payment" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
    <bpmn:receiveTask id="wait" name="Wait for the payment" messageRef="m"/>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="review"/>
    <bpmn:userTask id="review" name="Review the payment" camunda:candidateGroups="finance">
      <bpmn:extensionElements>
        <camunda:formData>
          <camunda:formField id="approved" label="Approved" type="boolean"/>
        </camunda:formData>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f3" sourceRef="review" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


def test_version_is_public(client):
    answer = client.get("/engine-rest/version")
    assert answer.status_code == 200 and answer.get_json()["version"].startswith("7.")


def test_every_other_call_needs_credentials_in_camundas_error_shape(client, users):
    answer = client.get("/engine-rest/task")
    assert answer.status_code == 401
    assert answer.get_json()["type"] == "AuthenticationException"
    alice = users.make("alice", ["finance"])
    bob = users.make("bob", ["finance"])
    forged = basic(alice)
    forged["Authorization"] = basic(type(bob)(bob.name, alice.token, None))["Authorization"]
    answer = client.get("/engine-rest/task", headers=forged)       # bob's name, alice's token
    assert answer.status_code == 401 and "does not match" in answer.get_json()["message"]
    assert client.get("/engine-rest/task", headers=basic(alice)).status_code == 200
    assert client.get("/engine-rest/task", headers=alice.headers).status_code == 200


def test_modeler_deploy_creates_versions_and_answers_camundas_shape(deploy, users):
    answer = deploy({"await_payment.bpmn": PAYMENT})
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    [(pd_id, pd)] = body["deployedProcessDefinitions"].items()
    row = Definition.get(Definition.key == "await_payment")
    assert pd_id == f"await_payment:1:{row.id}" and pd["key"] == "await_payment"
    assert pd["version"] == 1 and pd["resource"] == "await_payment.bpmn"
    assert body["name"] == "from-modeler" and body["source"] == "Camunda Modeler"
    event = AuditEvent.get(AuditEvent.kind == "deployed")
    assert event.actor == "modeler" and event.detail["name"] == "from-modeler"
    # unchanged: nothing new deployed (deploy-changed-only)
    again = deploy({"await_payment.bpmn": PAYMENT}).get_json()
    assert again["deployedProcessDefinitions"] is None
    # a DMN lists its decisions
    dmn = (ROOT / "dmn" / "exception_routing.dmn").read_bytes()
    decisions = deploy({"exception_routing.dmn": dmn}).get_json()["deployedDecisionDefinitions"]
    assert [d["key"] for d in decisions.values()] == ["exception_routing"]


def test_a_bad_file_is_a_400_naming_it(deploy):
    answer = deploy({"broken.bpmn": b"<bpmn:definitions"})
    assert answer.status_code == 400
    body = answer.get_json()
    assert body["type"] == "InvalidRequestException" and body["file"] == "broken.bpmn"


def test_deploying_needs_the_analyst_role(client, users):
    clerk = users.make("clerk", ["finance"])
    answer = client.post("/engine-rest/deployment/create", headers=clerk.headers,
                         data={"x": (__import__("io").BytesIO(PAYMENT), "p.bpmn")},
                         content_type="multipart/form-data")
    assert answer.status_code == 403 and answer.get_json()["type"] == "AuthorizationException"


def test_the_camunda_client_starts_correlates_and_a_user_completes(deploy, served, users,
                                                                  client):
    assert deploy({"await_payment.bpmn": PAYMENT}).status_code == 200
    oms = users.make("oms", ["oms"], client=True)
    engine = EngineClient(served.url, config={"auth_bearer": {"access_token": oms.token}})
    started = engine.start_process("await_payment", {"order_id": "A-7", "amount": 42.5},
                                   business_key="order-A-7")
    case = Case.get_by_id(started["caseId"])
    assert started["businessKey"] == "order-A-7" == case.external_ref
    assert case.data == {"order_id": "A-7", "amount": 42.5} and case.submitted_by == "oms"
    assert started["ended"] is False and started["definitionId"].startswith("await_payment:1:")

    with pytest.raises(Exception, match="404"):          # nobody waits under that key
        engine.correlate_message("payment_received", business_key="order-B-9")
    [result] = engine.correlate_message("payment_received", business_key="order-A-7",
                                        process_variables={"paid": True})
    assert result["resultType"] == "Execution"
    assert result["processInstance"]["id"] == started["id"]
    received = AuditEvent.get(AuditEvent.kind == "message.received")
    assert received.actor == "oms" and received.detail["data"] == {"paid": True}

    finance = users.make("fin", ["finance"])
    listed = client.get(f"/engine-rest/task?processInstanceId={started['id']}",
                        headers=basic(finance)).get_json()
    assert [t["taskDefinitionKey"] for t in listed] == ["review"]
    task_id = listed[0]["id"]
    assert client.get("/engine-rest/task", headers=basic(oms)).get_json() == []  # not oms's
    assert client.post(f"/engine-rest/task/{task_id}/claim", json={"userId": "someone"},
                       headers=basic(finance)).status_code == 403
    assert client.post(f"/engine-rest/task/{task_id}/claim", json={"userId": "fin"},
                       headers=basic(finance)).status_code == 204
    assert Task.get_by_id(int(task_id)).assignee == "fin"
    wrong = client.post(f"/engine-rest/task/{task_id}/complete", headers=basic(finance),
                        json={"variables": {"approved": {"value": "maybe", "type": "Boolean"}}})
    assert wrong.status_code == 400 and wrong.get_json()["field"] == "variables.approved"
    extra = client.post(f"/engine-rest/task/{task_id}/complete", headers=basic(finance),
                        json={"variables": {"amount": {"value": 1, "type": "Integer"}}})
    assert extra.status_code == 400                     # only the form's fields, as the inbox
    done = client.post(f"/engine-rest/task/{task_id}/complete", headers=basic(finance),
                       json={"variables": {"approved": {"value": True, "type": "Boolean"}}})
    assert done.status_code == 204, done.get_json()
    assert Case.get_by_id(case.id).status == "completed"
    assert AuditEvent.get(AuditEvent.kind == "task.completed").actor == "fin"


def test_start_replays_an_idempotency_key_and_refuses_bad_types(deploy, client, users):
    assert deploy({"await_payment.bpmn": PAYMENT}).status_code == 200
    oms = users.make("oms", ["oms"], client=True)
    body = {"variables": {"order_id": {"value": "A-1", "type": "String"}}}
    first = client.post("/engine-rest/process-definition/key/await_payment/start", json=body,
                        headers={**oms.headers, "Idempotency-Key": "start-A-1"})
    again = client.post("/engine-rest/process-definition/key/await_payment/start", json=body,
                        headers={**oms.headers, "Idempotency-Key": "start-A-1"})
    assert first.status_code == again.status_code == 200
    assert first.get_json()["id"] == again.get_json()["id"] and Case.select().count() == 1
    bad = client.post("/engine-rest/process-definition/key/await_payment/start",
                      headers=oms.headers,
                      json={"variables": {"qty": {"value": "lots", "type": "Integer"}}})
    assert bad.status_code == 400 and bad.get_json()["type"] == "InvalidRequestException"
    assert "qty" in bad.get_json()["message"]
    unknown = client.post("/engine-rest/process-definition/key/nope/start", json={},
                          headers=oms.headers)
    assert unknown.status_code == 404 and unknown.get_json()["type"] == "InvalidRequestException"
    auditor = users.make("aud", ["auditor"])
    denied = client.post("/engine-rest/process-definition/key/await_payment/start", json=body,
                         headers=auditor.headers)
    assert denied.status_code == 403                    # the same rule as POST /api/v1/cases


def test_evaluate_a_decision_by_key(deployed, client, users):
    agent = users.make("agent", ["customer_service"])
    variables = {"reason": {"value": "damaged", "type": "String"},
                 "channel": {"value": "web", "type": "String"},
                 "value": {"value": 420, "type": "Integer"},
                 "customer_tier": {"value": "gold", "type": "String"},
                 "escalation_risk": {"value": 0.2, "type": "Double"},
                 "margin": {"value": 0.3, "type": "Double"}}
    answer = client.post("/engine-rest/decision-definition/key/exception_routing/evaluate",
                         json={"variables": variables}, headers=agent.headers)
    assert answer.status_code == 200, answer.get_json()
    [result] = answer.get_json()
    assert result["owner_group"] == {"type": "String", "value": "customer_service",
                                     "valueInfo": {}}
    assert result["sla_hours"]["type"] == "Integer"
    assert AuditEvent.get(AuditEvent.kind == "decision.evaluated").actor == "agent"
    missing = client.post("/engine-rest/decision-definition/key/no_such/evaluate",
                          json={"variables": {}}, headers=agent.headers)
    assert missing.status_code == 404
