"""Governance holes a red-team run found (issue 12), each reproduced through the API on the
real engine, DMN and database, and closed."""
import threading

import pytest

from service.store import AuditEvent, Case, DecisionRecord, Task, User
from tests.e2e.test_order_exception import MANUAL, complete, inbox, order_content, submit  # noqa: F401

APPROVAL_WITHOUT_AMOUNT = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="unvalued_approval" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="approve" />
    <bpmn:userTask id="approve" name="Approve" camunda:candidateGroups="finance">
      <bpmn:extensionElements>
        <camunda:properties>
          <camunda:property name="approval" value="true" />
          <camunda:property name="action" value="adjustment" />
          <camunda:property name="amount" value="=adjustment_value" />
        </camunda:properties>
        <camunda:formData>
          <camunda:formField id="approved" type="boolean" />
        </camunda:formData>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="approve" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>"""


@pytest.fixture
def people(users, order_content):  # noqa: F811
    return {
        "oms": users.make("oms", ["oms"], client=True),
        "agent": users.make("agent", ["customer_service"], {"refund": 100}),
        "sup": users.make("sup", ["cs_supervisor"], {"refund": 500}),
        "sup2": users.make("sup2", ["cs_supervisor"], {"refund": 500}),
        "fin_no_limit": users.make("fin0", ["finance"]),
        "fin": users.make("fin", ["finance"], {"adjustment": 1_000_000}),
        "auditor": users.make("aud", ["auditor"]),
        "admin": users.make("adm", ["admin"]),
        "lead": users.make("lead", ["cs_supervisor", "customer_service"], {"refund": 500}),
    }


def test_an_approval_whose_amount_is_unknown_is_refused_to_everyone(people, app, config):
    from service.usecases.deployments import store_files
    with app.app_context():
        store_files({"unvalued.bpmn": APPROVAL_WITHOUT_AMOUNT.encode()}, actor="test",
                    max_bytes=config.max_definition_bytes)
    response = people["oms"].post("/api/v1/cases", json={"type": "unvalued_approval",
                                                         "data": {}})
    assert response.status_code == 201, response.get_json()
    task = response.get_json()["tasks"][0]
    assert Task.get_by_id(task["id"]).properties["amount"] is None
    for who in ("fin_no_limit", "fin"):
        refused = complete(people[who], task["id"], {"approved": True}, status=403)
        assert refused["rule"] == "authority" and "unknown" in refused["detail"]
    assert Task.get_by_id(task["id"]).status == "open"


@pytest.mark.parametrize("amount, reason", [(901, "maximum"), (1e30, "maximum"), (-5, "minimum")])
def test_a_refund_above_the_order_value_negative_or_absurd_is_refused_by_the_form(
        people, amount, reason):
    task = submit(people["oms"], MANUAL)["tasks"][0]          # an order of 900
    refused = complete(people["agent"], task["id"], {"resolution": "refund",
                                                     "refund_amount": amount}, status=422)
    assert refused["field"] == "refund_amount" and reason in refused["detail"]
    assert Task.get_by_id(task["id"]).status == "open"


def test_a_refund_up_to_the_order_value_is_accepted(people):
    second = submit(people["oms"], MANUAL)
    complete(people["agent"], second["tasks"][0]["id"], {"resolution": "refund",
                                                         "refund_amount": 900})


def _delegate(actor, task_id, to):
    return actor.post(f"/api/v1/tasks/{task_id}/delegate", json={"to": to})


def test_human_work_is_never_delegated_to_a_machine_client_or_a_disabled_user(people):
    task = submit(people["oms"], MANUAL)["tasks"][0]
    response = _delegate(people["agent"], task["id"], "oms")
    assert response.status_code == 422 and "machine client" in response.get_json()["detail"]
    User.update(active=False).where(User.name == "sup2").execute()
    response = _delegate(people["agent"], task["id"], "sup2")
    assert response.status_code == 422 and "disabled" in response.get_json()["detail"]
    assert Task.get_by_id(task["id"]).assignee is None


def test_parallel_delegations_have_exactly_one_winner(people, app):
    task_id = submit(people["oms"], MANUAL)["tasks"][0]["id"]
    others = [f"agent{i}" for i in range(20)]
    for name in others:
        User.create(name=name, groups=["customer_service"], authority={"refund": 100})
    statuses, barrier = [], threading.Barrier(len(others))

    def go(name):
        client = app.test_client()
        barrier.wait()
        statuses.append(client.post(f"/api/v1/tasks/{task_id}/delegate", json={"to": name},
                                    headers=people["agent"].headers).status_code)

    threads = [threading.Thread(target=go, args=(n,)) for n in others]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses.count(200) == 1 and set(statuses) <= {200, 403, 409}
    delegated = [e for e in AuditEvent.select().where(AuditEvent.kind == "task.delegated")]
    assert len(delegated) == 1
    task = Task.get_by_id(task_id)
    assert task.assignee == delegated[0].detail["after"]["assignee"]
    assert len([u for u in task.candidate_users if u.startswith("agent")]) == 1


def test_auditors_read_but_create_no_decision_or_score_records(people):
    before = DecisionRecord.select().count()
    evaluate = people["auditor"].post("/api/v1/decisions/approval_authority/evaluate",
                                      json={"inputs": {"action": "refund", "amount": 10}})
    assert evaluate.status_code == 403, evaluate.get_json()
    score = people["auditor"].post("/api/v1/models/escalation_risk/score",
                                   json={"features": {}})
    assert score.status_code == 403, score.get_json()
    assert DecisionRecord.select().count() == before


def test_a_supervisor_who_cancels_gets_the_cancelled_case(people):
    case = submit(people["oms"], MANUAL)
    response = people["lead"].post(f"/api/v1/cases/{case['id']}/cancel",
                                  json={"reason": "customer withdrew"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "cancelled"
    assert Case.get_by_id(case["id"]).status == "cancelled"
    assert inbox(people["agent"]) == []
