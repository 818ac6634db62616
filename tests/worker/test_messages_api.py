"""POST /api/v1/messages: the answers that need no waiting process."""
from __future__ import annotations

from service.domain.subscriptions import _candidate_keys, correlation_key
from service.store import Message


def test_correlation_keys_are_canonical():
    assert correlation_key({"b": 2.0, "a": "x"}) == correlation_key({"a": "x", "b": 2})
    assert correlation_key({"a": "1"}) != correlation_key({"a": 1})
    # every subset of the message's correlation, the empty one (a catch without keys) included
    assert sorted(_candidate_keys({"po_id": "P", "line": 1})) == sorted(
        [correlation_key({}), correlation_key({"po_id": "P"}), correlation_key({"line": 1}),
         correlation_key({"po_id": "P", "line": 1})])


def test_a_message_nobody_waits_for_is_a_404_problem_and_not_stored(users):
    erp = users.make("erp", ["erp"], client=True)
    response = erp.post("/api/v1/messages", json={"name": "po_confirmed", "message_id": "m-1",
                                                  "correlation": {"po_id": "PO-9"}})
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["type"] == "/problems/no-waiting-instance"
    assert body["message"] == "po_confirmed" and body["correlation"] == {"po_id": "PO-9"}
    assert Message.select().count() == 0


def test_people_cannot_send_messages_and_bad_bodies_are_422(users):
    agent = users.make("agent", ["customer_service"])
    response = agent.post("/api/v1/messages", json={"name": "x", "message_id": "m"})
    assert response.status_code == 403 and response.mimetype == "application/problem+json"
    erp = users.make("erp", ["erp"], client=True)
    for body in ({"message_id": "m"}, {"name": "x"}, {"name": "", "message_id": "m"},
                 {"name": "x", "message_id": "m", "correlation": "po"},
                 {"name": "x", "message_id": "m", "correlation": {f"k{i}": i for i in range(7)}}):
        response = erp.post("/api/v1/messages", json=body)
        assert response.status_code == 422, (body, response.get_json())
        assert response.mimetype == "application/problem+json"
    response = erp.post("/api/v1/messages", data="not json", content_type="application/json")
    assert 400 <= response.status_code < 500


def test_incident_api_answers_problems(users):
    admin = users.make("root", ["admin"])
    assert admin.get("/api/v1/incidents").get_json() == {"items": [], "next": None}
    assert admin.get("/api/v1/incidents?status=bogus").status_code == 422
    missing = admin.post("/api/v1/incidents/999/retry")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    assert admin.get("/api/v1/incidents?cursor=%%%").status_code == 400


BPMN_IO_WAIT = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs"
    targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:message id="msg" name="supplier_confirmed" />
  <bpmn:process id="supplier_po" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />
    <bpmn:intermediateCatchEvent id="wait"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing><bpmn:messageEventDefinition messageRef="msg" />
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>"""


def test_a_catch_without_correlation_keys_is_matched_by_the_instances_variables(users, app,
                                                                               config):
    """As Camunda 7 correlates: two cases of a bpmn.io process wait for the same message; one
    whose correlation values equal one instance's variables reaches that instance only."""
    from service.store import Case
    from service.usecases.deployments import store_files
    with app.app_context():
        store_files({"supplier_po.bpmn": BPMN_IO_WAIT.encode()}, actor="test",
                    max_bytes=config.max_definition_bytes)
    erp = users.make("erp", ["erp"], client=True)
    ids = {}
    for po in ("PO-ok", "PO-late"):
        response = erp.post("/api/v1/cases", json={"type": "supplier_po",
                                                   "data": {"po_id": po, "lines": 3}})
        assert response.status_code == 201, response.get_json()
        ids[po] = response.get_json()["id"]
    answer = erp.post("/api/v1/messages", json={"name": "supplier_confirmed", "message_id": "c1",
                                                "correlation": {"po_id": "PO-ok"}})
    assert answer.status_code == 202, answer.get_json()
    assert answer.get_json()["case_id"] == ids["PO-ok"]
    assert Case.get_by_id(ids["PO-ok"]).status == "completed"
    assert Case.get_by_id(ids["PO-late"]).status == "open"
    # Values no instance holds reach nobody; a value both hold is ambiguous, as in Camunda.
    nobody = erp.post("/api/v1/messages", json={"name": "supplier_confirmed", "message_id": "c2",
                                                "correlation": {"po_id": "PO-none"}})
    assert nobody.status_code == 404
    erp.post("/api/v1/cases", json={"type": "supplier_po", "data": {"po_id": "PO-x", "lines": 3}})
    both = erp.post("/api/v1/messages", json={"name": "supplier_confirmed", "message_id": "c3",
                                              "correlation": {"lines": 3}})
    assert both.status_code == 409
