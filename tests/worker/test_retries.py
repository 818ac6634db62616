"""Inline connector failures: retried with backoff through the job table, then an incident,
and a business error that follows the process's error boundary event instead."""
from __future__ import annotations

import datetime as dt

import pytest

from service.domain import incidents
from service.connectors import Connector, ConnectorError, registry
from service.store import AuditEvent, Case, Incident, Instance, Job, Task
from service.worker import Worker

from .conftest import submit


class Lookup:
    """The OMS behind an inline (read-only) connector: fails while told to."""

    def __init__(self):
        self.calls, self.failures, self.error = [], 0, None

    def __call__(self, params):
        self.calls.append(params)
        if self.failures:
            self.failures -= 1
            raise self.error or ConnectorError("OMS timed out", retryable=True)
        return {"found": True, "order_id": params.get("order_id")}


@pytest.fixture
def oms_lookup():
    fake = Lookup()
    if "test.lookup_order" not in registry:
        registry.register(Connector("test.lookup_order", "oms", "Look an order up (tests)",
                                    outbox=False, inline=lambda params: _current[0](params)))
    _current[0] = fake
    yield fake
    _current[0] = None


_current = [None]


def kinds(case_id):
    return [e.kind for e in AuditEvent.select().where(AuditEvent.case_id == case_id)
            .order_by(AuditEvent.seq)]


def test_a_failing_connector_is_retried_with_backoff_then_resumes(config, deploy_fixture, oms,
                                                                  oms_lookup, clock):
    deploy_fixture("lookup_retry.bpmn")
    oms_lookup.failures = 1
    case = submit(oms, "lookup_retry", {"order_id": "A-1"})
    assert case["status"] == "open" and case["tasks"] == []
    job = Job.get(Job.kind == "retry")
    assert job.payload["element_id"] == "lookup_order" and "OMS timed out" in job.last_error
    assert job.due_at > clock() + dt.timedelta(seconds=25)      # backoff, not at once
    assert Instance.get(Instance.case == case["id"]).status == "failed"
    assert not Incident.select().exists()
    worker = Worker(config, clock=clock)
    assert worker.run_once().retries == 0
    # The case was started on the real clock, a moment after the test clock was set.
    clock.advance(job.due_at - clock() + dt.timedelta(seconds=1))
    assert worker.run_once().retries == 1
    assert Instance.get(Instance.case == case["id"]).status == "waiting"
    assert Task.get(Task.case == case["id"]).element_id == "review"
    assert Job.get_by_id(job.id).status == "done"
    assert len(oms_lookup.calls) == 2
    assert "engine.retry_scheduled" in kinds(case["id"]) and "engine.retried" in kinds(case["id"])


def test_after_the_last_attempt_an_incident_and_its_retry(config, deploy_fixture, oms, users,
                                                          oms_lookup, clock):
    deploy_fixture("lookup_retry.bpmn")
    oms_lookup.failures = 99
    case = submit(oms, "lookup_retry", {"order_id": "A-2"})
    worker = Worker(config, clock=clock)
    for _ in range(4):
        clock.advance(minutes=5)
        worker.run_once()
    assert len(oms_lookup.calls) == incidents.RETRY_ATTEMPTS
    incident = Incident.get(Incident.case == case["id"])
    assert incident.kind == "engine" and incident.element_id == "lookup_order"
    assert "OMS timed out" in incident.message and incident.status == "open"
    assert Case.get_by_id(case["id"]).status == "incident"

    admin = users.make("root", ["admin"])
    listed = admin.get("/api/v1/incidents").get_json()["items"]
    assert [(i["id"], i["element_id"], i["case_status"]) for i in listed] == [
        (incident.id, "lookup_order", "incident")]
    on_case = admin.get(f"/api/v1/cases/{case['id']}").get_json()["incidents"]
    assert on_case[0]["message"] == incident.message
    outsider = users.make("outsider", ["merchandising"])
    assert outsider.get("/api/v1/incidents").get_json()["items"] == []
    assert outsider.post(f"/api/v1/incidents/{incident.id}/retry").status_code == 404
    auditor = users.make("aud", ["auditor"])
    assert auditor.get(f"/api/v1/incidents/{incident.id}").status_code == 200
    assert auditor.post(f"/api/v1/incidents/{incident.id}/retry").status_code == 403

    oms_lookup.failures = 0                                     # the OMS is back
    answer = admin.post(f"/api/v1/incidents/{incident.id}/retry")
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["status"] == "resolved"
    assert answer.get_json()["case_status"] == "open"
    assert Task.get(Task.case == case["id"]).element_id == "review"
    assert "incident.resolved" in kinds(case["id"])


def test_a_retry_that_fails_again_opens_a_new_incident_later(config, deploy_fixture, oms, users,
                                                             oms_lookup, clock):
    deploy_fixture("lookup_retry.bpmn")
    oms_lookup.failures = 2
    oms_lookup.error = ConnectorError("order service rejected the credentials", retryable=False)
    case = submit(oms, "lookup_retry", {"order_id": "A-3"})
    first = Incident.get(Incident.case == case["id"])          # not retryable: at once
    assert not Job.select().where(Job.kind == "retry", Job.status == "pending").exists()
    admin = users.make("root", ["admin"])
    assert admin.post(f"/api/v1/incidents/{first.id}/retry").status_code == 200
    second = Incident.get(Incident.case == case["id"], Incident.status == "open")
    assert second.id != first.id and Case.get_by_id(case["id"]).status == "incident"
    assert admin.post(f"/api/v1/incidents/{second.id}/retry").status_code == 200
    assert Case.get_by_id(case["id"]).status == "open"


def test_a_business_error_follows_the_error_boundary_event(deploy_fixture, oms, oms_lookup):
    deploy_fixture("lookup_retry.bpmn")
    oms_lookup.failures = 1
    oms_lookup.error = ConnectorError("no such order", bpmn_error_code="UNKNOWN_ORDER")
    case = submit(oms, "lookup_retry", {"order_id": "nope"})
    assert [t["name"] for t in case["tasks"]] == ["Check the order by hand"]
    assert not Incident.select().exists() and not Job.select().where(Job.kind == "retry").exists()
