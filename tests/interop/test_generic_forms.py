"""Generic forms through the API: a task whose form is only named (``camunda:formKey``) accepts
the variables a person sends, typed, within bounds; a declared form accepts only its fields."""
from __future__ import annotations

import io

import pytest

from service.domain import task_forms
from service.store import AuditEvent, Task

PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="generic_review" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="assign"/>
    <bpmn:userTask id="assign" name="Assign" camunda:formKey="embedded:app:forms/assign.html"
        camunda:candidateGroups="clerks"/>
    <bpmn:sequenceFlow id="f2" sourceRef="assign" targetRef="review"/>
    <bpmn:userTask id="review" name="Review" camunda:formRef="review-form"
        camunda:assignee="${reviewer}"/>
    <bpmn:sequenceFlow id="f3" sourceRef="review" targetRef="ok"/>
    <bpmn:exclusiveGateway id="ok" default="f5"/>
    <bpmn:sequenceFlow id="f4" sourceRef="ok" targetRef="declared">
      <bpmn:conditionExpression>${approved}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f5" sourceRef="ok" targetRef="end"/>
    <bpmn:userTask id="declared" name="Declared" camunda:candidateGroups="clerks">
      <bpmn:extensionElements>
        <camunda:formData><camunda:formField id="comment" type="string"/></camunda:formData>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f6" sourceRef="declared" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture
def case(users):
    analyst = users.make("ana", ["analyst"])
    answer = analyst.post("/api/v1/deployments", data={"files": [
        (io.BytesIO(PROCESS.encode()), "generic.bpmn")]}, content_type="multipart/form-data")
    assert answer.status_code == 201, answer.get_json()
    client = users.make("erp", ["erp"], client=True)
    started = client.post("/api/v1/cases", json={"type": "generic_review", "data": {}})
    assert started.status_code == 201, started.get_json()
    return started.get_json()


@pytest.fixture
def clerk(users):
    return users.make("cleo", ["clerks"])


def task(case, element_id):
    return Task.get(Task.case == case["id"], Task.element_id == element_id,
                    Task.status.in_(("open", "claimed")))


def complete(actor, task_id, data):
    return actor.post(f"/api/v1/tasks/{task_id}/complete", json={"data": data})


def test_a_generic_form_takes_any_variables_typed_and_the_process_reads_them(case, clerk, users):
    assign = task(case, "assign")
    form = clerk.get(f"/api/v1/tasks/{assign.id}").get_json()["form"]
    assert form["x-omniflow-form"] == "generic" and form["additionalProperties"] is True
    assert form["properties"]["reviewer"].get("type") is None      # a user name, not a flag
    sent = {"reviewer": "rita", "note": {"lines": [1, 2.5, "three"], "urgent": True}}
    answer = complete(clerk, assign.id, sent)
    assert answer.status_code == 200, answer.get_json()
    review = task(case, "review")
    assert review.assignee == "rita"                                  # ${reviewer}
    event = AuditEvent.get(AuditEvent.kind == "task.completed")
    assert event.detail["data"] == sent                               # kept typed
    rita = users.make("rita", [])
    wrong = complete(rita, review.id, {"approved": "yes"})            # suggested: a boolean
    assert wrong.status_code == 422 and wrong.get_json()["field"] == "approved"
    assert complete(rita, review.id, {"approved": True}).status_code == 200
    declared = task(case, "declared")
    extra = complete(clerk, declared.id, {"comment": "fine", "amount": 10})
    assert extra.status_code == 422 and extra.get_json()["field"] == "amount"
    done = complete(clerk, declared.id, {"comment": "fine"})
    assert done.status_code == 200 and done.get_json()["case_status"] == "completed"


@pytest.mark.parametrize("data, field", [
    ({f"v{i}": i for i in range(task_forms.MAX_FIELDS + 1)}, "data"),
    ({"not a name": 1}, "not a name"),
    ({"1st": 1}, "1st"),
    ({"deep": {"a": {"b": {"c": {"d": {"e": 1}}}}}}, "deep.a.b.c.d"),
    ({"big": "x" * (task_forms.MAX_CHARS + 1)}, "data"),
    ({"many": [[0] * 1000] * 6}, "many.4.994"),
    ({"huge": 2**60}, "huge"),
])
def test_a_generic_form_is_bounded_and_names_the_field(case, clerk, data, field):
    assign = task(case, "assign")
    answer = complete(clerk, assign.id, data)
    body = answer.get_json()
    assert answer.status_code in (413, 422), body
    if answer.status_code == 422:
        assert body["field"] == field, body
        assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert Task.get_by_id(assign.id).status in ("open", "claimed")
