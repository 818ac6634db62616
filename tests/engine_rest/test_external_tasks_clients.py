"""Workers nobody here wrote: the PyPI clients ``camunda-external-task-client-python3`` and
``operaton-external-task-client-python3``, unmodified, against the service over real HTTP.

Each worker runs its own fetch-and-execute loop (``fetch_and_execute``, or ``subscribe`` with
the Operaton client's stop event); the assertions read what the service recorded.
"""
from __future__ import annotations

import threading

from camunda.external_task.external_task_worker import ExternalTaskWorker as CamundaWorker
from operaton.external_task.external_task_worker import ExternalTaskWorker as OperatonWorker

from service.store import AuditEvent, Case, ExternalTask, Incident, Task

from .conftest import start

TOPIC = "warehouse.reship"


def _config(**extra):
    # short polls so the loops notice the end of a test quickly; no sleeping after errors
    return {"maxTasks": 1, "lockDuration": 10_000, "asyncResponseTimeout": 500,
            "sleepSeconds": 0, **extra}


def test_camunda_client_completes_a_reship_with_variables(client, content, oms, users, served):
    account = users.make("warehouse", [f"topic:{TOPIC}"], client=True)
    started = start(client, oms, order_id="A-1", qty=2)
    worker = CamundaWorker("camunda-w1", served.url,
                           _config(auth_bearer={"access_token": account.token}))
    seen = {}

    def reship(task):
        seen.update(order=task.get_variable("order_id"), qty=task.get_variable("qty"),
                    business_key=task.get_business_key())
        return task.complete({"shipment_id": "S-77", "carrier": "DHL"})

    worker.fetch_and_execute(TOPIC, reship)
    assert seen == {"order": "A-1", "qty": 2, "business_key": "A-1"}
    [confirm] = Task.select().where(Task.case == started["caseId"])
    assert confirm.element_id == "confirm"
    done = AuditEvent.get(AuditEvent.kind == "engine.external_task_completed")
    assert done.detail["variables"] == {"shipment_id": "S-77", "carrier": "DHL"}
    assert done.detail["worker"] == "camunda-w1"


def test_operaton_client_raises_a_bpmn_error_that_takes_the_boundary_path(
        client, content, oms, users, served):
    account = users.make("warehouse", [f"topic:{TOPIC}"], client=True)
    started = start(client, oms, order_id="A-2")
    worker = OperatonWorker("operaton-w1", served.url, _config(
        auth_basic={"username": account.name, "password": account.token}))

    def reship(task):
        return task.bpmn_error("OUT_OF_STOCK", "none left", {"stock": 0})

    worker.fetch_and_execute(TOPIC, reship)
    [refund] = Task.select().where(Task.case == started["caseId"])
    assert refund.element_id == "refund"
    event = AuditEvent.get(AuditEvent.kind == "external_task.bpmn_error")
    assert event.actor == "warehouse" and event.detail["error_code"] == "OUT_OF_STOCK"
    assert Case.get_by_id(started["caseId"]).status == "open"


def test_camunda_client_fails_until_an_incident_opens(client, content, oms, users, served):
    account = users.make("warehouse", [f"topic:{TOPIC}"], client=True)
    started = start(client, oms, order_id="A-3")
    worker = CamundaWorker("camunda-w2", served.url,
                           _config(auth_bearer={"access_token": account.token}))
    attempts = []

    def reship(task):
        attempts.append(task.get_task_id())
        # the client counts down from the task's retries (3 at first: max_retries)
        return task.failure("OMS unreachable", "connection refused", max_retries=2,
                            retry_timeout=0)

    for _ in range(3):
        worker.fetch_and_execute(TOPIC, reship)
    assert len(attempts) == 3 and len(set(attempts)) == 1
    [incident] = Incident.select().where(Incident.case == started["caseId"])
    assert incident.kind == "external" and incident.element_id == "reship"
    assert "OMS unreachable" in incident.message
    assert ExternalTask.get_by_id(int(attempts[0])).status == "incident"
    assert Case.get_by_id(started["caseId"]).status == "incident"
    retries = [e.detail["retries"] for e in AuditEvent.select()
               .where(AuditEvent.kind == "external_task.failed").order_by(AuditEvent.seq)]
    assert retries == [2, 1, 0]


def test_two_operaton_workers_compete_for_the_same_tasks(client, content, oms, users, served):
    account = users.make("warehouse", [f"topic:{TOPIC}"], client=True)
    cases = [start(client, oms, order_id=f"B-{n}")["caseId"] for n in range(16)]
    handled, lock, stop = [], threading.Lock(), threading.Event()

    def run(name):
        worker = OperatonWorker(name, served.url, _config(
            maxTasks=2, auth_bearer={"access_token": account.token}), stop_event=stop)

        def reship(task):
            with lock:
                handled.append((task.get_task_id(), task.get_worker_id()))
                if len(handled) >= len(cases):
                    stop.set()
            return task.complete({"shipped_by": task.get_worker_id()})
        worker.subscribe(TOPIC, reship)

    threads = [threading.Thread(target=run, args=(f"op-{n}",)) for n in range(2)]
    for t in threads:
        t.start()
    stop.wait(60)
    stop.set()
    for t in threads:
        t.join(30)
    ids = [i for i, _ in handled]
    assert len(ids) == len(set(ids)) == len(cases)          # each task worked exactly once
    assert {r.status for r in ExternalTask.select()} == {"done"}
    assert Task.select().where(Task.element_id == "confirm").count() == len(cases)
    completed = AuditEvent.select().where(AuditEvent.kind == "external_task.completed")
    assert sorted(e.detail["worker"] for e in completed) == sorted(w for _, w in handled)
