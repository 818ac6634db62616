"""Helpers for the retail library tests: every workflow is driven through the REST API, on the
shipped content (real BPMN, DMN, case types and models), with the worker and a test clock for
the timers."""
from __future__ import annotations

import datetime as dt

import pytest

from service.engine.ports import FixedClock
from service.store import DecisionRecord, Job


@pytest.fixture
def clock():
    """Starts at the real time: intake stamps due times with the real clock."""
    return FixedClock(dt.datetime.now(dt.timezone.utc).replace(microsecond=0))


@pytest.fixture
def worker(config, clock, deployed):
    from service.worker import Worker
    return Worker(config, clock=clock)


def submit(actor, case_type, data, status=201):
    response = actor.post("/api/v1/cases", json={"type": case_type, "data": data})
    assert response.status_code == status, response.get_json()
    return response.get_json()


def case(actor, case_id):
    response = actor.get(f"/api/v1/cases/{case_id}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def open_tasks(actor, case_id):
    response = actor.get("/api/v1/tasks")
    assert response.status_code == 200, response.get_json()
    return [t for t in response.get_json()["items"] if t["case_id"] == case_id]


def the_task(actor, case_id, element_id):
    """The one open task of ``case_id`` the actor sees, checked to be ``element_id``."""
    tasks = open_tasks(actor, case_id)
    assert [t["element_id"] for t in tasks] == [element_id], tasks
    return tasks[0]


def complete(actor, task_id, data, status=200):
    response = actor.post(f"/api/v1/tasks/{task_id}/complete", json={"data": data})
    assert response.status_code == status, response.get_json()
    return response.get_json()


def work(actor, case_id, element_id, data):
    """Complete the actor's one open task of the case, which must be ``element_id``."""
    return complete(actor, the_task(actor, case_id, element_id)["id"], data)


def calls(case_id):
    """Connector calls the case queued in the outbox, in order: [(connector, params)]."""
    jobs = Job.select().where(Job.kind == "outbox", Job.case == case_id).order_by(Job.id)
    return [(j.payload["connector"], j.payload["params"]) for j in jobs]


def connectors(case_id):
    return [name for name, _ in calls(case_id)]


def params_of(case_id, connector):
    found = [params for name, params in calls(case_id) if name == connector]
    assert len(found) == 1, calls(case_id)
    return found[0]


def decision(case_id, key):
    """The decision record of the case's evaluation of table ``key`` (exactly one)."""
    rows = list(DecisionRecord.select().where(DecisionRecord.case == case_id,
                                               DecisionRecord.definition_key == key))
    assert len(rows) == 1, [r.definition_key for r in rows]
    return rows[0]


def about(when: str | None, expected: dt.datetime, seconds=120) -> bool:
    got = dt.datetime.fromisoformat(when.replace("Z", "+00:00"))
    return abs((got - expected).total_seconds()) < seconds
