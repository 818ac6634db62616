"""Outbox delivery through the job table: once, retried with backoff, then an incident."""
from __future__ import annotations

import datetime as dt
import threading

from service import store
from service.store import jobs
from service.connectors import ConnectorError
from service.store import AuditEvent, Case, Incident, Job
from service.worker import Worker

from .conftest import outbox_job


def worker(config, clock, registry, **kw):
    return Worker(config, clock=clock, registry=registry, owner=kw.pop("owner", "w1"), **kw)


def kinds(case_id):
    return [e.kind for e in AuditEvent.select().where(AuditEvent.case_id == case_id)
            .order_by(AuditEvent.seq)]


def test_delivers_once_with_the_idempotency_key_and_audits(config, make_case, registry, erp, clock):
    case, inst = make_case()
    job = outbox_job(case, inst, clock())
    w = worker(config, clock, registry)
    assert w.run_once().delivered == 1
    assert erp.calls == [("erp.post_refund", {"order_id": "A-1", "amount": 120}, "k-1")]
    row = Job.get_by_id(job.id)
    assert row.status == "done" and row.attempts == 1 and row.locked_by is None
    assert w.run_once().delivered == 0 and len(erp.calls) == 1
    event = AuditEvent.get(AuditEvent.kind == "connector.delivered")
    assert event.detail["idempotency_key"] == "k-1" and event.detail["result"]["posted"]


def test_not_due_yet_is_left_alone(config, make_case, registry, erp, clock):
    case, inst = make_case()
    outbox_job(case, inst, clock() + dt.timedelta(minutes=5))
    w = worker(config, clock, registry)
    assert w.run_once().delivered == 0
    clock.advance(minutes=5)
    assert w.run_once().delivered == 1


def test_failures_back_off_exponentially_then_open_an_incident(config, make_case, registry, erp,
                                                               clock, users, client):
    case, inst = make_case()
    job = outbox_job(case, inst, clock(), max_attempts=3)
    erp.failures = 10
    w = worker(config, clock, registry, backoff=jobs.Backoff(base=dt.timedelta(seconds=10)))
    start = clock()
    assert w.run_once().delivery_failures == 1
    row = Job.get_by_id(job.id)
    assert row.status == "pending" and row.attempts == 1
    assert row.due_at == start + dt.timedelta(seconds=10) and "ERP is down" in row.last_error
    clock.advance(seconds=9)
    assert w.run_once().delivery_failures == 0          # backoff not over yet
    clock.advance(seconds=1)
    assert w.run_once().delivery_failures == 1
    assert Job.get_by_id(job.id).due_at == clock() + dt.timedelta(seconds=20)
    clock.advance(seconds=20)
    assert w.run_once().delivery_failures == 1          # third and last attempt
    row = Job.get_by_id(job.id)
    assert row.status == "failed" and row.attempts == 3
    incident = Incident.get(Incident.case == case.id)
    assert incident.kind == "outbox" and incident.job_id == job.id and incident.status == "open"
    assert incident.element_id == "post_refund" and "ERP is down" in incident.message
    assert Case.get_by_id(case.id).status == "incident"
    assert kinds(case.id).count("connector.failed") == 3 and "incident.opened" in kinds(case.id)

    # visible in the API, on the case too
    admin = users.make("root", ["admin"])
    listed = admin.get("/api/v1/incidents").get_json()["items"]
    assert [i["id"] for i in listed] == [incident.id]
    assert listed[0]["element_id"] == "post_refund" and listed[0]["kind"] == "outbox"
    detail = admin.get(f"/api/v1/cases/{case.id}").get_json()
    assert detail["status"] == "incident" and detail["incidents"][0]["id"] == incident.id

    # the cause is fixed; a retry re-queues the delivery with a fresh budget
    erp.failures = 0
    answer = admin.post(f"/api/v1/incidents/{incident.id}/retry")
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["status"] == "resolved"
    assert Case.get_by_id(case.id).status == "open"
    assert Job.get_by_id(job.id).status == "pending"
    assert w.run_once().delivered == 1
    assert Job.get_by_id(job.id).status == "done"
    assert {c[2] for c in erp.calls} == {"k-1"}         # every attempt carried the same key
    again = admin.post(f"/api/v1/incidents/{incident.id}/retry")
    assert again.status_code == 409 and again.mimetype == "application/problem+json"


def test_an_error_no_retry_can_fix_opens_the_incident_at_once(config, make_case, registry, erp,
                                                              clock):
    case, inst = make_case()
    job = outbox_job(case, inst, clock(), max_attempts=5)
    erp.failures, erp.error = 1, ConnectorError("account closed", retryable=False)
    assert worker(config, clock, registry).run_once().delivery_failures == 1
    assert Job.get_by_id(job.id).status == "failed" and Job.get_by_id(job.id).attempts == 1
    assert Incident.get(Incident.case == case.id).message.endswith("account closed")


def test_a_dead_workers_lease_expires_and_the_job_is_delivered(config, make_case, registry, erp,
                                                               clock):
    case, inst = make_case()
    job = outbox_job(case, inst, clock())
    claimed = jobs.claim(["outbox"], owner="dead", now=clock(), lease=dt.timedelta(minutes=2))
    assert [j.id for j in claimed] == [job.id]
    w = worker(config, clock, registry)
    assert w.run_once().delivered == 0                  # leased to the dead worker
    clock.advance(minutes=2)
    assert w.run_once().delivered == 1
    # the dead worker wakes up: its lease is gone, it cannot record anything
    with store.atomic():
        assert not jobs.finish(claimed[0], now=clock())
    assert Job.get_by_id(job.id).attempts == 2 and len(erp.calls) == 1


def test_concurrent_workers_deliver_each_job_once(config, make_case, registry, erp, clock):
    case, inst = make_case()
    for i in range(60):
        outbox_job(case, inst, clock(), key=f"k-{i}")
    lock = threading.Lock()
    calls = []

    def transport(name, params, key):
        with lock:
            calls.append(key)
        return {"ok": True}
    registry.transports["erp"] = transport
    errors = []

    def run(n):
        try:
            store.database.connect(reuse_if_open=True)
            w = Worker(config, clock=clock, registry=registry, owner=f"w{n}", batch=5)
            while w.run_once().total:
                pass
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            store.database.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(calls) == sorted(f"k-{i}" for i in range(60))
    assert Job.select().where(Job.status == "done").count() == 60


def test_backoff_doubles_up_to_its_cap():
    backoff = jobs.Backoff(base=dt.timedelta(seconds=10), cap=dt.timedelta(seconds=60))
    assert [backoff.delay(n).total_seconds() for n in range(1, 6)] == [10, 20, 40, 60, 60]


def test_incidents_page_newest_first(config, make_case, registry, erp, clock, users):
    erp.failures = 99
    for i in range(3):
        case, inst = make_case()
        outbox_job(case, inst, clock(), key=f"k-{i}", max_attempts=1)
    worker(config, clock, registry).run_once()
    admin = users.make("root", ["admin"])
    first = admin.get("/api/v1/incidents?limit=2").get_json()
    assert len(first["items"]) == 2 and first["next"]
    rest = admin.get(f"/api/v1/incidents?limit=2&cursor={first['next']}").get_json()
    ids = [i["id"] for i in first["items"] + rest["items"]]
    assert ids == sorted(ids, reverse=True) and len(ids) == 3 and rest["next"] is None
    one_case = first["items"][0]["case_id"]
    only = admin.get(f"/api/v1/incidents?case_id={one_case}").get_json()["items"]
    assert [i["case_id"] for i in only] == [one_case]
    assert admin.get("/api/v1/incidents?status=resolved").get_json()["items"] == []
    assert len(admin.get("/api/v1/incidents?status=all").get_json()["items"]) == 3


def test_a_business_error_at_delivery_is_an_incident_not_a_retry(config, make_case, registry,
                                                                 erp, clock):
    """The process moved on when the outbox delivers, so no error boundary can take it."""
    case, inst = make_case()
    job = outbox_job(case, inst, clock(), max_attempts=5)
    erp.failures, erp.error = 1, ConnectorError("refund exceeds the order total",
                                                bpmn_error_code="REFUND_TOO_HIGH")
    assert worker(config, clock, registry).run_once().delivery_failures == 1
    assert Job.get_by_id(job.id).status == "failed"
    incident = Incident.get(Incident.case == case.id)
    assert "REFUND_TOO_HIGH: refund exceeds the order total" in incident.message
