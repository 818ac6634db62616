"""Messages delivered to waiting instances: receive tasks, catch events, message boundaries."""
from __future__ import annotations

import threading

from service.store import (AuditEvent, Case, Instance, Job, Message, MessageSubscription,
                           Task)
from service.worker import Worker

from .conftest import submit


def send(actor, name, message_id, correlation=None, data=None):
    return actor.post("/api/v1/messages", json={"name": name, "message_id": message_id,
                                                "correlation": correlation or {},
                                                "data": data or {}})


def test_receive_task_gets_the_supplier_confirmation_once(deploy_fixture, oms, users):
    deploy_fixture("supplier_wait.bpmn")
    first = submit(oms, "supplier_wait", {"po_id": "PO-1"})
    other = submit(oms, "supplier_wait", {"po_id": "PO-2"})
    subs = MessageSubscription.select().where(MessageSubscription.name == "po_confirmed")
    assert {s.correlation["po_id"] for s in subs} == {"PO-1", "PO-2"}
    # the message to the supplier left through the outbox, keyed by instance + task
    asks = [j.payload for j in Job.select().where(Job.kind == "outbox")]
    assert [(a["connector"], a["params"]) for a in asks] == [
        ("supplier.send_message", {"po_id": "PO-1"}), ("supplier.send_message", {"po_id": "PO-2"})]
    assert len({a["idempotency_key"] for a in asks}) == 2
    portal = users.make("portal", ["erp"], client=True)
    answer = send(portal, "po_confirmed", "m-1", {"po_id": "PO-1"}, {"eta": "2030-02-01"})
    assert answer.status_code == 202, answer.get_json()
    body = answer.get_json()
    assert body["case_id"] == first["id"] and body["case_status"] == "completed"
    assert body["duplicate"] is False
    assert Case.get_by_id(other["id"]).status == "open"
    row = Instance.get(Instance.case == first["id"])
    assert not MessageSubscription.select().where(MessageSubscription.instance == row.id).exists()

    again = send(portal, "po_confirmed", "m-1", {"po_id": "PO-1"}, {"eta": "2030-02-01"})
    assert again.status_code == 200 and again.get_json()["duplicate"] is True
    assert again.get_json()["case_id"] == first["id"]
    assert Message.select().count() == 1
    received = AuditEvent.select().where(AuditEvent.kind == "message.received").count()
    assert received == 1
    reused = send(portal, "po_confirmed", "m-1", {"po_id": "PO-2"})
    assert reused.status_code == 422
    assert reused.get_json()["type"] == "/problems/idempotency-mismatch"

    # the message is not for anyone any more: 404, not stored, can be sent again later
    late = send(portal, "po_confirmed", "m-2", {"po_id": "PO-1"})
    assert late.status_code == 404 and late.get_json()["type"] == "/problems/no-waiting-instance"


def test_message_boundary_event_interrupts_the_wait(deploy_fixture, oms, users):
    deploy_fixture("supplier_wait.bpmn")
    case = submit(oms, "supplier_wait", {"po_id": "PO-7"})
    portal = users.make("portal", ["erp"], client=True)
    answer = send(portal, "po_cancelled", "c-1", {"po_id": "PO-7"})
    assert answer.status_code == 202, answer.get_json()
    assert Case.get_by_id(case["id"]).status == "completed"
    row = Instance.get(Instance.case == case["id"])
    assert row.next_due_at is None                       # the 48 h timer went with the task


def test_timer_then_catch_event_after_chasing(config, deploy_fixture, oms, users, clock):
    deploy_fixture("supplier_wait.bpmn")
    case = submit(oms, "supplier_wait", {"po_id": "PO-3"})
    worker = Worker(config, clock=clock)
    clock.advance(hours=48, seconds=5)
    assert worker.run_once().timers == 1
    task = Task.get(Task.case == case["id"], Task.status == "open")
    assert task.element_id == "chase_supplier" and task.candidate_groups == ["supply_chain"]
    planner = users.make("planner", ["supply_chain"])
    done = planner.post(f"/api/v1/tasks/{task.id}/complete", json={"data": {}})
    assert done.status_code == 200, done.get_json()
    portal = users.make("portal", ["erp"], client=True)
    answer = send(portal, "po_confirmed", "m-9", {"po_id": "PO-3"})
    assert answer.status_code == 202, answer.get_json()
    assert answer.get_json()["case_status"] == "completed"


def test_two_instances_with_one_correlation_is_a_conflict(deploy_fixture, oms, users):
    deploy_fixture("supplier_wait.bpmn")
    submit(oms, "supplier_wait", {"po_id": "PO-5"})
    submit(oms, "supplier_wait", {"po_id": "PO-5"})
    portal = users.make("portal", ["erp"], client=True)
    answer = send(portal, "po_confirmed", "m-5", {"po_id": "PO-5"})
    assert answer.status_code == 409 and len(answer.get_json()["instances"]) == 2
    assert Message.select().count() == 0


def test_concurrent_duplicates_are_delivered_once(app, deploy_fixture, oms, users):
    deploy_fixture("supplier_wait.bpmn")
    case = submit(oms, "supplier_wait", {"po_id": "PO-8"})
    portal = users.make("portal", ["erp"], client=True)
    results = []

    def post():
        client = app.test_client()
        response = client.post("/api/v1/messages", headers=portal.headers,
                               json={"name": "po_confirmed", "message_id": "dup",
                                     "correlation": {"po_id": "PO-8"}})
        results.append(response.status_code)

    threads = [threading.Thread(target=post) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(code in (200, 202, 409) for code in results), results
    assert results.count(202) == 1
    assert Message.select().count() == 1
    assert Case.get_by_id(case["id"]).status == "completed"
    assert AuditEvent.select().where(AuditEvent.kind == "message.received").count() == 1


def test_a_message_start_event_starts_a_case(deploy_fixture, users):
    from service.store import Definition
    deploy_fixture("asn_intake.bpmn")
    definition = Definition.get(Definition.key == "asn_intake")
    assert definition.meta["message_starts"] == ["asn_received"]     # found at deploy
    portal = users.make("portal", ["erp"], client=True)
    answer = send(portal, "asn_received", "asn-1", {"po_id": "PO-4"}, {"lines": 3})
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert body["status"] == "started" and body["case_status"] == "open"
    task = Task.get(Task.case == body["case_id"])
    assert task.element_id == "check_asn"
    again = send(portal, "asn_received", "asn-1", {"po_id": "PO-4"}, {"lines": 3})
    assert again.status_code == 200 and again.get_json()["case_id"] == body["case_id"]
    assert Case.select().count() == 1


def test_messages_a_process_throws_go_to_the_outbox_once(deploy_fixture, users):
    from service.store import Job
    deploy_fixture("po_confirmation.bpmn")
    erp = users.make("erp-client", ["erp"], client=True)
    planner = users.make("planner", ["replenishment_planner"])
    case = erp.post("/api/v1/cases", json={"type": "po_confirmation",
                                           "data": {"po_id": "PO-7"}}).get_json()
    sent = [j.payload for j in Job.select().where(Job.kind == "outbox")]
    assert [(p["connector"], p["params"]["name"]) for p in sent] == \
        [("message.send", "po_acknowledged")]
    done = planner.post(f"/api/v1/tasks/{case['tasks'][0]['id']}/complete", json={"data": {}})
    assert done.get_json()["case_status"] == "completed"
    sent = [j.payload for j in Job.select().where(Job.kind == "outbox").order_by(Job.id)]
    assert [p["params"]["name"] for p in sent] == ["po_acknowledged", "po_closed"]
    assert len({p["idempotency_key"] for p in sent}) == 2
