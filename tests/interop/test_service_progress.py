"""What the service makes of the engine's interop answers: a process that stops with nothing to
wait for after a person's input is an incident naming the element (not a 422 to the person);
the engine's notes on a modeler's file are shown with the definition."""
from __future__ import annotations

import io

from service.store import AuditEvent, Case, Incident, Task

STUCK = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="stuck" isExecutable="true">
    <bpmn:startEvent id="s"/>
    <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="fork"/>
    <bpmn:parallelGateway id="fork"/>
    <bpmn:sequenceFlow id="f_a" sourceRef="fork" targetRef="work"/>
    <bpmn:sequenceFlow id="f_b" sourceRef="fork" targetRef="choose"/>
    <bpmn:userTask id="work" name="Work" camunda:candidateGroups="clerks">
      <bpmn:extensionElements>
        <camunda:taskListener class="org.acme.Audit" event="create"/>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:exclusiveGateway id="choose" default="f_skip"/>
    <bpmn:sequenceFlow id="f_join" sourceRef="choose" targetRef="join">
      <bpmn:conditionExpression>${false}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_skip" sourceRef="choose" targetRef="skipped"/>
    <bpmn:endEvent id="skipped"/>
    <bpmn:sequenceFlow id="f_w" sourceRef="work" targetRef="join"/>
    <bpmn:parallelGateway id="join"/>
    <bpmn:sequenceFlow id="f_e" sourceRef="join" targetRef="e"/>
    <bpmn:endEvent id="e"/>
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_stall_after_a_completion_is_an_incident_naming_the_element(users):
    analyst = users.make("ana", ["analyst"])
    deployed = analyst.post("/api/v1/deployments", data={"files": [
        (io.BytesIO(STUCK.encode()), "stuck.bpmn")]}, content_type="multipart/form-data")
    assert deployed.status_code == 201, deployed.get_json()
    definition = analyst.get("/api/v1/definitions/stuck").get_json()
    assert any("taskListener" in note for note in definition["notes"])      # shown, not run
    listed = analyst.get("/api/v1/definitions").get_json()["items"]
    assert [d["notes"] for d in listed if d["key"] == "stuck"] == [definition["notes"]]
    client = users.make("erp", ["erp"], client=True)
    case = client.post("/api/v1/cases", json={"type": "stuck", "data": {}}).get_json()
    clerk = users.make("cleo", ["clerks"])
    task = Task.get(Task.case == case["id"])
    answer = clerk.post(f"/api/v1/tasks/{task.id}/complete", json={"data": {}})
    assert answer.status_code == 200, answer.get_json()               # the person is done
    assert Case.get_by_id(case["id"]).status == "incident"
    [incident] = Incident.select().where(Incident.case == case["id"])
    assert incident.element_id == "join" and "nothing to wait for" in incident.message
    errors = [e.detail for e in AuditEvent.select().where(AuditEvent.case_id == case["id"],
                                                          AuditEvent.kind == "engine.error")]
    assert errors and errors[0]["element_id"] == "join" and errors[0]["limit"] == "stall"
    timeline = clerk.get(f"/api/v1/cases/{case['id']}/timeline")
    assert timeline.status_code == 200
    assert "engine.error" in [e["kind"] for e in timeline.get_json()["items"]]
