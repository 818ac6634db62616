"""/engine-rest/external-task over HTTP: fetchAndLock, complete, failure, bpmnError, locks.

The service runs for real (its database, its engine); the calls are Camunda's JSON shapes.
"""
from __future__ import annotations

import datetime as dt
import threading

import pytest
import requests

from service.store import AuditEvent, Case, ExternalTask, Incident, Task

from .conftest import basic, start

REST = "/engine-rest/external-task"


class Clock:
    """The service's clock for lock expiry, moved by the test (no sleeping)."""

    def __init__(self):
        # ahead of the tasks' creation times, which the save stamps with the real time
        self.now = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=1)

    def __call__(self):
        return self.now


@pytest.fixture
def clock(config):
    config.extra["clock"] = clock = Clock()
    return clock


@pytest.fixture
def worker(users):
    return users.make("warehouse", ["topic:warehouse.reship"], client=True)


def fetch(client, who, worker_id="w1", topic="warehouse.reship", max_tasks=5, lock=60_000,
          **extra):
    body = {"workerId": worker_id, "maxTasks": max_tasks,
            "topics": [{"topicName": topic, "lockDuration": lock, **extra.pop("spec", {})}],
            **extra}
    return client.post(f"{REST}/fetchAndLock", json=body, headers=who.headers)


def test_fetch_and_lock_then_complete_with_typed_variables(client, content, oms, worker, users):
    started = start(client, oms, order_id="A-1", qty=2)
    answer = fetch(client, worker, spec={"variables": ["order_id"]})
    assert answer.status_code == 200, answer.get_json()
    [task] = answer.get_json()
    assert task["topicName"] == "warehouse.reship" and task["workerId"] == "w1"
    assert task["activityId"] == "reship" and task["processInstanceId"] == started["id"]
    assert task["businessKey"] == "A-1" and task["priority"] == 5 and task["retries"] is None
    assert task["processDefinitionKey"] == "reship_order"
    assert task["processDefinitionId"] == started["definitionId"]
    assert task["variables"] == {"order_id": {"type": "String", "value": "A-1",
                                              "valueInfo": {}}}
    assert task["lockExpirationTime"].endswith("+0000")
    assert fetch(client, worker, worker_id="w2").get_json() == []       # locked by w1

    done = client.post(f"{REST}/{task['id']}/complete", headers=basic(worker), json={
        "workerId": "w1", "variables": {"shipment_id": {"value": "S-9", "type": "String"},
                                        "parcels": {"value": 2, "type": "Integer"}}})
    assert done.status_code == 204, done.get_json()
    assert ExternalTask.get_by_id(int(task["id"])).status == "done"
    [confirm] = Task.select().where(Task.case == started["caseId"])
    assert confirm.element_id == "confirm"
    event = AuditEvent.get(AuditEvent.kind == "external_task.completed")
    assert event.actor == "warehouse" and event.detail["worker"] == "w1"
    assert event.detail["variables"] == ["parcels", "shipment_id"]
    assert AuditEvent.get(AuditEvent.kind == "external_task.locked").detail["worker"] == "w1"
    # gone, as in Camunda
    again = client.post(f"{REST}/{task['id']}/complete", headers=worker.headers,
                        json={"workerId": "w1"})
    assert again.status_code == 404 and again.get_json()["type"] == "InvalidRequestException"


def test_a_worker_sees_only_the_topics_its_account_may_work(client, content, oms, worker, users):
    start(client, oms, order_id="A-1")
    start(client, oms, key="label_parcel", order_id="L-1")
    denied = fetch(client, worker, topic="carrier.label").get_json(), \
        fetch(client, worker, topic="carrier.label").status_code
    assert denied[1] == 403 and denied[0]["type"] == "AuthorizationException"
    unknown = fetch(client, worker, topic="no.such.topic")
    assert unknown.status_code in (400, 403)
    admin = users.make("ops", ["admin"])
    assert fetch(client, admin, topic="no.such.topic").status_code == 400
    listed = client.get(REST, headers=worker.headers).get_json()
    assert [t["topicName"] for t in listed] == ["warehouse.reship"]
    everything = client.get(REST, headers=admin.headers).get_json()
    assert sorted(t["topicName"] for t in everything) == ["carrier.label", "warehouse.reship"]
    label = next(t for t in everything if t["topicName"] == "carrier.label")
    assert client.get(f"{REST}/{label['id']}", headers=worker.headers).status_code == 404
    # a Camunda 8 job type is a topic too; its headers are the extension properties
    labeller = users.make("labeller", ["topic:carrier.label"], client=True)
    [job] = fetch(client, labeller, topic="carrier.label").get_json()
    assert job["extensionProperties"] == {"carrier": "DHL"} and job["retries"] == 3


def test_bad_bodies_are_400s_in_camundas_shape(client, content, oms, worker):
    start(client, oms, order_id="A-1")
    missing = client.post(f"{REST}/fetchAndLock", json={"maxTasks": 1, "topics": []},
                          headers=worker.headers)
    assert missing.status_code == 400 and missing.get_json()["type"] == "InvalidRequestException"
    too_long = fetch(client, worker, asyncResponseTimeout=10_000_000)
    assert too_long.status_code == 400
    [task] = fetch(client, worker).get_json()
    wrong_type = client.post(f"{REST}/{task['id']}/complete", headers=worker.headers, json={
        "workerId": "w1", "variables": {"parcels": {"value": "many", "type": "Integer"}}})
    assert wrong_type.status_code == 400
    assert wrong_type.get_json()["field"] == "variables.parcels"
    no_retries = client.post(f"{REST}/{task['id']}/failure", headers=worker.headers,
                             json={"workerId": "w1", "errorMessage": "x"})
    assert no_retries.status_code == 400 and "retries" in no_retries.get_json()["message"]
    assert client.post(f"{REST}/abc/complete", headers=worker.headers,
                       json={"workerId": "w1"}).status_code == 404
    assert client.post(f"{REST}/fetchAndLock", json={}, headers={}).status_code == 401


def test_wrong_worker_and_expired_lock_are_camundas_400(client, content, oms, worker, clock):
    start(client, oms, order_id="A-1")
    [task] = fetch(client, worker, lock=1000).get_json()
    url = f"{REST}/{task['id']}"
    other = client.post(f"{url}/complete", headers=worker.headers, json={"workerId": "w2"})
    assert other.status_code == 400
    assert other.get_json()["type"] == "BadUserRequestException"
    assert "locked by worker 'w1'" in other.get_json()["message"]
    assert client.post(f"{url}/extendLock", headers=worker.headers,
                       json={"workerId": "w1", "newDuration": 5000}).status_code == 204
    clock.now += dt.timedelta(seconds=4)
    assert fetch(client, worker, worker_id="w2").get_json() == []        # extended: still w1's
    clock.now += dt.timedelta(seconds=2)
    late = client.post(f"{url}/complete", headers=worker.headers, json={"workerId": "w1"})
    assert late.status_code == 400 and "expired" in late.get_json()["message"]
    [taken] = fetch(client, worker, worker_id="w2").get_json()          # the expired lock
    assert taken["id"] == task["id"] and taken["workerId"] == "w2"
    assert client.post(f"{url}/unlock", headers=worker.headers).status_code == 204
    [again] = fetch(client, worker, worker_id="w3").get_json()
    assert again["id"] == task["id"]
    assert client.post(f"{url}/complete", headers=worker.headers,
                       json={"workerId": "w3"}).status_code == 204


def test_failures_count_down_to_an_incident_naming_the_element(client, content, oms, worker,
                                                               users, clock):
    started = start(client, oms, order_id="A-1")
    [task] = fetch(client, worker).get_json()
    url = f"{REST}/{task['id']}"
    answer = client.post(f"{url}/failure", headers=worker.headers, json={
        "workerId": "w1", "errorMessage": "OMS down", "errorDetails": "trace...",
        "retries": 1, "retryTimeout": 30_000})
    assert answer.status_code == 204, answer.get_json()
    assert fetch(client, worker).get_json() == []                     # waits out the timeout
    clock.now += dt.timedelta(seconds=30)
    [again] = fetch(client, worker).get_json()
    assert again["retries"] == 1 and again["errorMessage"] == "OMS down"
    assert again["errorDetails"] == "trace..."
    assert client.post(f"{url}/failure", headers=worker.headers, json={
        "workerId": "w1", "errorMessage": "still down", "retries": 0}).status_code == 204
    [incident] = Incident.select().where(Incident.case == started["caseId"])
    assert incident.kind == "external" and incident.element_id == "reship"
    assert "still down" in incident.message
    assert Case.get_by_id(started["caseId"]).status == "incident"
    [listed] = client.get(f"{REST}?noRetriesLeft=true", headers=worker.headers).get_json()
    assert listed["retries"] == 0
    assert client.get(f"{REST}/count?noRetriesLeft=true",
                      headers=worker.headers).get_json() == {"count": 1}
    assert client.get(f"{REST}/count?withRetriesLeft=true",
                      headers=worker.headers).get_json() == {"count": 0}
    clock.now += dt.timedelta(hours=1)
    assert fetch(client, worker).get_json() == []
    # the case type's owners retry it: the task is offered again with one retry
    admin = users.make("ops", ["admin"])
    retried = client.post(f"/api/v1/incidents/{incident.id}/retry", headers=admin.headers)
    assert retried.status_code == 200, retried.get_json()
    [back] = fetch(client, worker).get_json()
    assert back["id"] == task["id"] and back["retries"] == 1
    assert Case.get_by_id(started["caseId"]).status == "open"
    failed = AuditEvent.select().where(AuditEvent.kind == "external_task.failed")
    assert [(e.actor, e.detail["worker"], e.detail["retries"]) for e in failed] == [
        ("warehouse", "w1", 1), ("warehouse", "w1", 0)]


def test_a_bpmn_error_takes_the_boundary_path_and_an_uncaught_one_is_an_incident(
        client, content, oms, worker, users):
    started = start(client, oms, order_id="A-1")
    [task] = fetch(client, worker).get_json()
    answer = client.post(f"{REST}/{task['id']}/bpmnError", headers=worker.headers, json={
        "workerId": "w1", "errorCode": "OUT_OF_STOCK", "errorMessage": "none left",
        "variables": {"stock": {"value": 0, "type": "Integer"}}})
    assert answer.status_code == 204, answer.get_json()
    [refund] = Task.select().where(Task.case == started["caseId"])
    assert refund.element_id == "refund"
    assert ExternalTask.get_by_id(int(task["id"])).status == "done"
    event = AuditEvent.get(AuditEvent.kind == "external_task.bpmn_error")
    assert event.detail["error_code"] == "OUT_OF_STOCK" and event.detail["worker"] == "w1"

    other = start(client, oms, order_id="A-2")
    [task] = fetch(client, worker).get_json()
    answer = client.post(f"{REST}/{task['id']}/bpmnError", headers=worker.headers,
                         json={"workerId": "w1", "errorCode": "FRAUD"})
    assert answer.status_code == 204
    [incident] = Incident.select().where(Incident.case == other["caseId"])
    assert incident.element_id == "reship" and "FRAUD" in incident.message
    assert Case.get_by_id(other["caseId"]).status == "incident"


def test_long_poll_answers_when_a_task_appears(client, content, oms, worker, served):
    got = {}

    def poll():
        got["answer"] = requests.post(f"{served.url}/external-task/fetchAndLock", json={
            "workerId": "w1", "maxTasks": 1, "asyncResponseTimeout": 20_000,
            "topics": [{"topicName": "warehouse.reship", "lockDuration": 10_000}]},
            headers=worker.headers, timeout=30)
    poller = threading.Thread(target=poll)
    poller.start()
    started = start(client, oms, order_id="A-1")
    poller.join()
    [task] = got["answer"].json()
    assert task["processInstanceId"] == started["id"]


def test_concurrent_fetches_never_lock_one_task_twice(client, content, oms, worker, served):
    for n in range(24):
        start(client, oms, order_id=f"A-{n}")
    got, lock = [], threading.Lock()

    def work(n):
        session = requests.Session()
        while True:
            answer = session.post(f"{served.url}/external-task/fetchAndLock", json={
                "workerId": f"w{n}", "maxTasks": 2,
                "topics": [{"topicName": "warehouse.reship", "lockDuration": 60_000}]},
                headers=worker.headers, timeout=30)
            assert answer.status_code == 200, answer.text
            if not answer.json():
                return
            with lock:
                got.extend((t["id"], t["workerId"]) for t in answer.json())

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [i for i, _ in got]
    assert len(ids) == len(set(ids)) == 24
    stored = {str(r.id): r.worker_id for r in ExternalTask.select()}
    assert dict(got) == stored                          # the lock holder the worker was told


def test_the_openapi_document_declares_camundas_400_not_422(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    engine_rest = {p: ops for p, ops in paths.items() if p.startswith("/engine-rest")}
    assert "/engine-rest/external-task/fetchAndLock" in engine_rest
    for path, ops in engine_rest.items():
        for method, op in ops.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            assert "422" not in op["responses"], (method, path)
            if "requestBody" in op or op.get("parameters"):
                assert "400" in op["responses"], (method, path)
