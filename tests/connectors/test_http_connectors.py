"""HTTP connectors end to end: deployed files, a real receiving server, the outbox worker."""
from __future__ import annotations

import datetime as dt
import io
import json

import pytest

from service.connectors.http_spec import parse_connector
from service.engine.ports import FixedClock
from service.errors import DefinitionInvalid
from service.store import AuditEvent, Case, Incident, Job
from service.worker import Worker

PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="reship_order" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call"/>
    <bpmn:serviceTask id="call" name="Ask the OMS to reship">
      <bpmn:extensionElements>
        <camunda:connector>
          <camunda:connectorId>{connector}</camunda:connectorId>
          <camunda:inputOutput>
            <camunda:inputParameter name="order_id">${{order_id}}</camunda:inputParameter>
            <camunda:inputParameter name="qty">${{qty}}</camunda:inputParameter>
          </camunda:inputOutput>
        </camunda:connector>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="check"/>
    <bpmn:userTask id="check" name="Check the shipment" camunda:candidateGroups="customer_service"/>
    <bpmn:sequenceFlow id="f3" sourceRef="check" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


def connector_file(path="/ok/orders/{order_id}/reship", **overrides):
    doc = {"connector": "acme.reship", "method": "POST",
           "url": "{env.OMNIFLOW_CONNECTOR_OMS_URL}" + path,
           "headers": {"X-Channel": "omniflow"},
           "auth": {"bearer": "OMNIFLOW_CONNECTOR_OMS_TOKEN"},
           "body": {"order": "{order_id}", "quantity": "{qty}", "note": "order {order_id}"},
           "timeout_seconds": 0.5,
           "retry": {"max_attempts": 3, "backoff_seconds": 10},
           "response": {"shipment_id": "shipment.id", "http_status": "$status"},
           "errors": {"409": "ALREADY_SHIPPED"}}
    doc.update(overrides)
    return json.dumps(doc).encode()


def deploy(users, files):
    analyst = users.made.get("ana") or users.make("ana", ["analyst"])
    data = {"files": [(io.BytesIO(body), name) for name, body in files.items()]}
    return analyst.client.post("/api/v1/deployments", data=data, headers=analyst.headers,
                               content_type="multipart/form-data")


@pytest.fixture
def clock():
    # a minute ahead: jobs the requests below write are due at the real now
    return FixedClock(dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
                      + dt.timedelta(minutes=1))


@pytest.fixture
def submit(users):
    oms = users.make("oms", ["oms"], client=True)

    def run(order_id="1001", qty=2):
        answer = oms.post("/api/v1/cases", json={"type": "reship_order",
                                                 "data": {"order_id": order_id, "qty": qty}})
        assert answer.status_code == 201, answer.get_json()
        return answer.get_json()["id"]
    return run


def setup(users, path="/ok/orders/{order_id}/reship", **overrides):
    answer = deploy(users, {"reship.bpmn": PROCESS.format(connector="acme.reship").encode(),
                            "acme.reship.connector.json": connector_file(path, **overrides)})
    assert answer.status_code == 201, answer.get_json()


def test_a_call_is_sent_once_with_the_job_id_as_idempotency_key(config, users, submit,
                                                                 receiver, clock):
    setup(users)
    case_id = submit("A/1 ?", 2)                  # the URL quotes the variable
    job = Job.get(Job.case == case_id, Job.kind == "outbox")
    worker = Worker(config, clock=clock, owner="w1")
    assert worker.run_once().delivered == 1
    [seen] = receiver.requests
    assert seen.method == "POST" and seen.path == "/ok/orders/A%2F1%20%3F/reship"
    assert seen.headers["idempotency-key"] == str(job.id)
    assert seen.headers["authorization"] == "Bearer s3cret"
    assert seen.headers["x-channel"] == "omniflow"
    assert seen.body == {"order": "A/1 ?", "quantity": 2, "note": "order A/1 ?"}  # typed
    assert Job.get_by_id(job.id).status == "done"
    event = AuditEvent.get(AuditEvent.kind == "connector.delivered")
    assert event.detail["result"] == {"status": 200, "variables": {
        "shipment_id": f"SHP-{job.id}", "http_status": 200}}
    assert worker.run_once().delivered == 0 and len(receiver.requests) == 1


def test_a_500_is_retried_with_the_files_backoff_and_the_same_key(config, users, submit,
                                                                  receiver, clock):
    setup(users, "/flaky/orders/{order_id}")
    receiver.failures = 2
    case_id = submit()
    job = Job.get(Job.case == case_id, Job.kind == "outbox")
    worker = Worker(config, clock=clock, owner="w1")
    assert worker.run_once().delivery_failures == 1
    row = Job.get_by_id(job.id)
    assert row.status == "pending" and row.due_at == clock() + dt.timedelta(seconds=10)
    assert "answered 500" in row.last_error
    clock.advance(seconds=10)
    assert worker.run_once().delivery_failures == 1
    clock.advance(seconds=20)
    assert worker.run_once().delivered == 1
    assert [r.headers["idempotency-key"] for r in receiver.requests] == [str(job.id)] * 3
    assert len(receiver.effects) == 1 and Case.get_by_id(case_id).status == "open"


def test_a_mapped_status_is_a_business_error_not_retried(config, users, submit, receiver,
                                                         clock):
    setup(users, "/conflict/orders/{order_id}")
    case_id = submit()
    assert Worker(config, clock=clock, owner="w1").run_once().delivery_failures == 1
    job = Job.get(Job.case == case_id, Job.kind == "outbox")
    assert job.status == "failed" and job.attempts == 1 and len(receiver.requests) == 1
    incident = Incident.get(Incident.case == case_id)
    assert "ALREADY_SHIPPED" in incident.message and "409" in incident.message


@pytest.mark.parametrize("path, words", [("/slow/orders/{order_id}", "no answer within 0.5 s"),
                                         ("/drop/orders/{order_id}", "RemoteProtocolError")])
def test_a_slow_or_closed_connection_is_retried_then_an_incident(config, users, submit,
                                                                 receiver, clock, path, words):
    setup(users, path)
    case_id = submit()
    worker = Worker(config, clock=clock, owner="w1")
    for _ in range(3):
        assert worker.run_once().delivery_failures == 1
        clock.advance(seconds=3600)
    job = Job.get(Job.case == case_id, Job.kind == "outbox")
    assert job.status == "failed" and job.attempts == 3 and words in job.last_error
    incident = Incident.get(Incident.case == case_id)
    assert incident.kind == "outbox" and Case.get_by_id(case_id).status == "incident"


def test_an_unmapped_4xx_is_an_incident_at_once(config, users, submit, receiver, clock):
    setup(users, "/status/400")
    case_id = submit()
    assert Worker(config, clock=clock, owner="w1").run_once().delivery_failures == 1
    assert Job.get(Job.case == case_id, Job.kind == "outbox").status == "failed"
    assert "answered 400" in Incident.get(Incident.case == case_id).message


def test_a_host_nobody_allowed_is_never_called(config, users, submit, receiver, clock):
    setup(users, url="http://203.0.113.9/orders/{order_id}")
    case_id = submit()
    assert Worker(config, clock=clock, owner="w1").run_once().delivery_failures == 1
    assert receiver.requests == []
    assert "OMNIFLOW_CONNECTOR_HOSTS" in Incident.get(Incident.case == case_id).message


def test_a_missing_environment_variable_is_an_incident(config, users, submit, receiver, clock):
    setup(users, auth={"bearer": "OMNIFLOW_CONNECTOR_NOT_SET"})
    case_id = submit()
    assert Worker(config, clock=clock, owner="w1").run_once().delivery_failures == 1
    assert receiver.requests == []
    assert "OMNIFLOW_CONNECTOR_NOT_SET is not set" in Incident.get(Incident.case == case_id).message


@pytest.mark.parametrize("change, field", [
    ({"auth": {"bearer": "DATABASE_URL"}}, "auth.bearer"),
    ({"url": "{env.DATABASE_URL}/x"}, "url"),
    ({"url": "ftp://host/x"}, "url"),
    ({"body": {"secret": "{env.OMNIFLOW_CONNECTOR_OMS_TOKEN}"}}, "body.secret"),
    ({"errors": {"200": "NOPE"}}, "errors"),
    ({"retry": {"max_attempts": 0}}, "retry.max_attempts"),
    ({"timeout_seconds": 600}, "timeout_seconds"),
    ({"headers": {"Authorization": "x"}}, "headers"),
    ({"colour": "red"}, "colour"),
    ({"url": "{env.OMNIFLOW_CONNECTOR_OMS_URL}/{order id}"}, "url"),
])
def test_a_bad_connector_file_is_refused_naming_the_field(change, field):
    with pytest.raises(DefinitionInvalid) as caught:
        parse_connector("x.connector.json", connector_file(**change))
    assert caught.value.extra["field"] == field


def test_a_bad_connector_file_is_a_422_at_deploy(users):
    answer = deploy(users, {"acme.reship.connector.json": connector_file(auth={"bearer": "HOME"})})
    assert answer.status_code == 422
    body = answer.get_json()
    assert body["file"] == "acme.reship.connector.json" and body["field"] == "auth.bearer"


def test_a_process_naming_an_unknown_connector_is_refused(users):
    answer = deploy(users, {"reship.bpmn": PROCESS.format(connector="acme.nothing").encode()})
    assert answer.status_code == 422 and "acme.nothing" in answer.get_json()["detail"]


def test_a_connector_file_is_versioned_like_every_definition(users):
    assert deploy(users, {"acme.reship.connector.json": connector_file()}).status_code == 201
    again = deploy(users, {"acme.reship.connector.json": connector_file(timeout_seconds=2)})
    assert again.get_json()["created"][0]["version"] == 2
    listing = users.made["ana"].get("/api/v1/definitions?kind=connector").get_json()["items"]
    assert [(d["key"], d["version"]) for d in listing] == [("acme.reship", 2)]
