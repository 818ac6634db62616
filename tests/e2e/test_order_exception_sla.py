"""The order exception SLA with a test clock: a breach adds the work to cs_supervisor, a second
breach to ecommerce_ops; whoever resolves it first ends the others' tasks (DOMAIN.md, 1)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from service.usecases import tasks as inbox
from service.config import ROOT
from service.engine.ports import FixedClock
from service.policy import find_identity
from service.store import Case, Instance, Task
from service.worker import Worker

MANUAL = {"order_id": "B-2", "reason": "customer_complaint", "channel": "phone", "value": 900,
          "margin": 0.2, "customer_tier": "gold", "days_late": 6, "prior_contacts_90d": 4,
          "prior_exceptions_90d": 2, "order_weekday": 4}


@pytest.fixture
def content(app):
    """The order exception process, its case type and the decision tables it calls."""
    from service.usecases.deployments import store_files as deploy
    files = {p.name: p.read_bytes() for p in [*Path(ROOT, "dmn").glob("*.dmn"),
                                               Path(ROOT, "bpmn", "order_exception.bpmn"),
                                               Path(ROOT, "bpmn", "order_exception.case.json")]}
    with app.app_context():
        deploy(files, actor="analyst", max_bytes=1 << 22)


@pytest.fixture
def people(users, content):
    return {"oms": users.make("oms", ["oms"], client=True),
            "agent": users.make("agent", ["customer_service"]),
            "sup": users.make("sup", ["cs_supervisor"]),
            "ops": users.make("ops", ["ecommerce_ops"]),
            "auditor": users.make("aud", ["auditor"])}


def submit(people):
    response = people["oms"].post("/api/v1/cases", json={"type": "order_exception", "data": MANUAL})
    assert response.status_code == 201, response.get_json()
    case = response.get_json()
    assert case["status"] == "open" and len(case["tasks"]) == 1
    return case


def sla_of(people, case) -> dt.timedelta:
    detail = people["auditor"].get(f"/api/v1/cases/{case['id']}").get_json()
    routing = next(d for d in detail["decisions"] if d["definition_key"] == "exception_routing")
    outputs = routing["outputs"][0] if isinstance(routing["outputs"], list) else routing["outputs"]
    hours = {"P1": 2, "P2": 8, "P3": 24, "P4": 72}[outputs["priority"]]
    assert outputs["sla_hours"] == hours
    return dt.timedelta(hours=hours)


def open_tasks(case):
    return {t.element_id: t for t in Task.select().where(Task.case == case["id"],
                                                         Task.status.in_(("open", "claimed")))}


def timeline(people, case):
    return people["auditor"].get(f"/api/v1/cases/{case['id']}/timeline").get_json()["items"]


def test_breach_escalates_to_supervisor_then_to_ecommerce_ops(config, people):
    case = submit(people)
    sla = sla_of(people, case)
    handle = Task.get(Task.case == case["id"])
    due = handle.due_at
    assert abs((due - (handle.created_at + sla)).total_seconds()) < 5
    # the boundary timer and the task's due date read the same SLA (microseconds apart)
    assert abs((Instance.get(Instance.case == case["id"]).next_due_at - due).total_seconds()) < 1
    clock = FixedClock(due - dt.timedelta(minutes=1))
    worker = Worker(config, clock=clock)
    assert worker.run_once().timers == 0
    assert list(open_tasks(case)) == ["handle_exception"]

    clock.advance(minutes=1, seconds=1)                        # first breach
    assert worker.run_once().timers == 1
    tasks = open_tasks(case)
    assert set(tasks) == {"handle_exception", "escalated_to_supervisor"}
    escalated = tasks["escalated_to_supervisor"]
    assert escalated.candidate_groups == ["cs_supervisor"]
    assert abs((escalated.due_at - (clock() + sla)).total_seconds()) < 1
    sup_inbox = people["sup"].get("/api/v1/tasks").get_json()["items"]
    assert [t["id"] for t in sup_inbox] == [escalated.id]
    overdue = inbox.listing(find_identity("agent"), overdue=True, now=clock())["items"]
    assert [t["element_id"] for t in overdue] == ["handle_exception"] and overdue[0]["overdue"]
    events = timeline(people, case)
    fired = [e for e in events if e["kind"] == "engine.timer_fired"]
    assert [e["detail"]["element_id"] for e in fired] == ["sla_breached"]
    assert fired[0]["actor"] == "engine"
    created = [e for e in events if e["kind"] == "task.created"
               and e["detail"]["candidate_groups"] == ["cs_supervisor"]]
    assert len(created) == 1

    clock.advance(sla)                                         # second breach
    assert worker.run_once().timers == 1
    tasks = open_tasks(case)
    assert set(tasks) == {"handle_exception", "escalated_to_supervisor",
                          "escalated_to_ecommerce_ops"}
    ops_task = tasks["escalated_to_ecommerce_ops"]
    assert ops_task.candidate_groups == ["ecommerce_ops"]
    clock.advance(sla * 3)
    assert worker.run_once().timers == 0                       # nothing escalates a third time

    done = people["ops"].post(f"/api/v1/tasks/{ops_task.id}/complete",
                              json={"data": {"resolution": "reship", "note": "sent again"}})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["case_status"] == "completed"
    assert open_tasks(case) == {}
    late = people["agent"].post(f"/api/v1/tasks/{handle.id}/complete",
                                json={"data": {"resolution": "no_action"}})
    assert late.status_code in (404, 409) and late.mimetype == "application/problem+json"
    withdrawn = [e["detail"]["element_id"] for e in timeline(people, case)
                 if e["kind"] == "task.withdrawn"]
    assert sorted(withdrawn) == ["escalated_to_supervisor", "handle_exception"]
    assert Case.get_by_id(case["id"]).status == "completed"


def test_handled_within_the_sla_never_escalates(config, people):
    case = submit(people)
    sla = sla_of(people, case)
    handle = Task.get(Task.case == case["id"])
    done = people["agent"].post(f"/api/v1/tasks/{handle.id}/complete",
                                json={"data": {"resolution": "reship"}})
    assert done.status_code == 200 and done.get_json()["case_status"] == "completed"
    assert Instance.get(Instance.case == case["id"]).next_due_at is None
    clock = FixedClock(handle.due_at + sla * 3)
    assert Worker(config, clock=clock).run_once().timers == 0
    kinds = {e["kind"] for e in timeline(people, case)}
    assert "engine.timer_fired" not in kinds


def test_the_supervisor_resolves_after_one_breach(config, people):
    case = submit(people)
    handle = Task.get(Task.case == case["id"])
    clock = FixedClock(handle.due_at + dt.timedelta(seconds=1))
    worker = Worker(config, clock=clock)
    assert worker.run_once().timers == 1
    escalated = open_tasks(case)["escalated_to_supervisor"]
    assert people["sup"].post(f"/api/v1/tasks/{escalated.id}/claim").status_code == 200
    done = people["sup"].post(f"/api/v1/tasks/{escalated.id}/complete",
                              json={"data": {"resolution": "substitute"}})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["case_status"] == "completed"
    assert Task.get_by_id(handle.id).status == "cancelled"
    assert Instance.get(Instance.case == case["id"]).next_due_at is None
