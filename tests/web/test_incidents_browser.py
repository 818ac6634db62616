"""The incidents page with a real incident, in real Chromium: a broken script step fails a
case; operations see what failed, where on the diagram and the error, and retry it."""
from __future__ import annotations

from playwright.sync_api import expect

from service.policy.passwords import set_password
from service.store import Incident, User
from service.usecases.deployments import store_files

from .test_browser import PASSWORD, Person

BROKEN = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  id="Definitions_broken_step" targetNamespace="http://omniflow.example/tests">
  <bpmn:process id="stock_writeoff" name="Stock write-off" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="unit_value" />
    <bpmn:scriptTask id="unit_value" name="Work out the unit value" scriptFormat="python">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>unit_value = total_value / quantity</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="unit_value" targetRef="review" />
    <bpmn:userTask id="review" name="Review the write-off">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f3" sourceRef="review" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def test_an_incident_is_shown_where_it_happened_and_retried(served, browser, users, app,
                                                             screenshots):
    with app.app_context():
        store_files({"stock_writeoff.bpmn": BROKEN}, actor="analyst", max_bytes=1 << 20)
    oms = users.make("oms", ["oms"], client=True)
    users.make("ops", ["admin"])
    set_password(User.get(User.name == "ops"), PASSWORD)
    answer = oms.post("/api/v1/cases", json={"type": "stock_writeoff",
                                             "data": {"total_value": 120, "quantity": 0}})
    assert answer.status_code == 201, answer.get_json()
    case_id = answer.get_json()["id"]
    incident = Incident.get(Incident.case == case_id)
    assert incident.element_id == "unit_value" and incident.status == "open"

    seen: list[str] = []
    ops = Person(browser, served, "ops", screenshots, seen)
    ops.sign_in("/ui/incidents")
    page = ops.page
    card = page.locator("#incidents li", has_text=f"case {case_id}")
    expect(card).to_contain_text("process step failed at unit_value")
    expect(card.locator(".error-text")).to_contain_text("division by zero")
    card.get_by_role("button", name="Show on diagram").click()
    expect(page.locator("#incident-title")).to_contain_text("Work out the unit value")
    expect(page.locator(".djs-element.state-incident[data-element-id='unit_value']")).to_have_count(1)
    ops.shot("incidents-open")

    card.get_by_role("button", name="Retry").click()      # the cause is not fixed: fails again
    expect(page.locator("#status")).to_contain_text(f"Incident {incident.id} retried")
    expect(page.locator("#incidents li", has_text=f"case {case_id}")).to_contain_text(
        "process step failed at unit_value")
    assert Incident.select().where(Incident.case == case_id).count() == 2
    assert Incident.get_by_id(incident.id).status == "resolved"
    page.get_by_label("Show").select_option("all")
    expect(page.locator("#incidents li.resolved", has_text=f"case {case_id}")).to_have_count(1)
    assert ops.errors == [], ops.errors
