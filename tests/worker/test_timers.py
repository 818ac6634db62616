"""Timers fired by the worker with a test clock: ISO 8601 as modelers write it, FEEL, cycles."""
from __future__ import annotations

import datetime as dt

from service.usecases import tasks as inbox
from service.policy import find_identity
from service.store import AuditEvent, Case, Instance, Job, Task
from service.worker import Worker

from .conftest import submit


def kinds(case_id):
    return [e.kind for e in AuditEvent.select().where(AuditEvent.case_id == case_id)
            .order_by(AuditEvent.seq)]


def instance_of(case):
    return Instance.get(Instance.case == case["id"])


def test_intermediate_timer_iso_duration_fires_once_when_due(config, deploy_fixture, oms, clock):
    deploy_fixture("timer_wait.bpmn")
    case = submit(oms, "timer_wait", {"order_id": "A-1"})
    row = instance_of(case)
    assert row.status == "waiting"
    assert abs((row.next_due_at - (clock() + dt.timedelta(hours=4))).total_seconds()) < 5
    worker = Worker(config, clock=clock)
    clock.advance(hours=3, minutes=59)
    assert worker.run_once().timers == 0
    clock.advance(minutes=1, seconds=5)
    assert worker.run_once().timers == 1
    assert Case.get_by_id(case["id"]).status == "completed"
    assert instance_of(case).next_due_at is None
    assert worker.run_once().timers == 0                        # fired once
    jobs = list(Job.select().where(Job.kind == "outbox"))
    assert [j.payload["connector"] for j in jobs] == ["erp.post_refund"]
    assert jobs[0].status == "done"                             # delivered in the same pass
    assert "engine.timer_fired" in kinds(case["id"])
    assert "connector.delivered" in kinds(case["id"])


def test_time_date_waits_for_its_date(config, deploy_fixture, oms):
    from service.engine.ports import FixedClock
    deploy_fixture("timer_date.bpmn")
    case = submit(oms, "timer_date")
    row = instance_of(case)
    assert row.next_due_at == dt.datetime(2030, 5, 1, 9, 0, tzinfo=dt.timezone.utc)
    clock = FixedClock(dt.datetime(2030, 5, 1, 8, 59, 59, tzinfo=dt.timezone.utc))
    worker = Worker(config, clock=clock)
    assert worker.run_once().timers == 0
    clock.advance(seconds=1)
    assert worker.run_once().timers == 1
    assert Case.get_by_id(case["id"]).status == "completed"


def test_feel_sla_boundary_timer_and_non_interrupting_cycle(config, deploy_fixture, oms, clock,
                                                            users):
    deploy_fixture("timer_expression.bpmn")
    case = submit(oms, "timer_expression", {"sla_hours": 3})
    task = Task.get(Task.case == case["id"])
    # the task's due time comes from the same FEEL expression and drives the overdue filter
    assert abs((task.due_at - (clock() + dt.timedelta(hours=3))).total_seconds()) < 5
    manager = users.make("mgr", ["store_manager"])
    who = find_identity("mgr")
    assert inbox.listing(who, overdue=True, now=clock())["items"] == []
    worker = Worker(config, clock=clock)
    clock.advance(hours=1, seconds=5)                           # first reminder (R2/PT1H)
    assert worker.run_once().timers == 1
    clock.advance(hours=1)                                      # second and last reminder
    assert worker.run_once().timers == 1
    notified = Job.select().where(Job.kind == "outbox").count()
    assert notified == 2
    assert Task.get_by_id(task.id).status == "open"             # non-interrupting: still there
    overdue = inbox.listing(who, overdue=True, now=clock() + dt.timedelta(hours=1))["items"]
    assert [t["id"] for t in overdue] == [task.id] and overdue[0]["overdue"]
    clock.advance(hours=1)                                      # the SLA (3 h) breaks
    assert worker.run_once().timers == 1
    assert Task.get_by_id(task.id).status == "cancelled"        # interrupting: moved on
    escalated = Task.get(Task.case == case["id"], Task.element_id == "approve_district")
    assert escalated.candidate_groups == ["district_manager"] and escalated.status == "open"
    assert manager.get(f"/api/v1/tasks/{escalated.id}").status_code == 404
    assert Job.select().where(Job.kind == "outbox").count() == 2   # no third reminder
    assert instance_of(case).next_due_at is None


def test_due_work_is_found_by_index_not_by_loading_instances(config, deploy_fixture, oms, clock):
    """Thousands of instances waiting far in the future cost one index probe per pass."""
    deploy_fixture("timer_wait.bpmn")
    submit(oms, "timer_wait", {"order_id": "A-1"})
    from service import store
    from service.usecases.due_timers import due_instances, next_due
    if not store.is_postgres():      # PostgreSQL plans by statistics; SQLite's plan is fixed
        for query in (due_instances(clock()).limit(20),
                      due_instances(clock(), after=(clock(), 1)).limit(20)):
            sql, params = query.sql()
            plan = " ".join(str(r) for r in store.database.execute_sql(
                "EXPLAIN QUERY PLAN " + sql, params).fetchall())
            assert "instance_status_next_due_at" in plan and "TEMP B-TREE" not in plan, plan
    assert next_due() == Instance.get().next_due_at
    assert due_instances(clock()).count() == 0
    assert due_instances(clock() + dt.timedelta(hours=5)).count() == 1


def test_several_workers_fire_each_timer_once(config, deploy_fixture, oms, clock):
    import threading

    from service import store
    deploy_fixture("timer_wait.bpmn")
    for i in range(30):
        submit(oms, "timer_wait", {"order_id": f"A-{i}"})
    clock.advance(hours=4, seconds=5)
    fired, errors = [], []

    def run(n):
        try:
            store.database.connect(reuse_if_open=True)
            worker = Worker(config, clock=clock, owner=f"w{n}", batch=7)
            while True:
                tally = worker.run_once()
                fired.append(tally.timers)
                if not tally.total:
                    break
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            store.database.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert Case.select().where(Case.status == "completed").count() == 30
    # one outbox posting per instance: no timer fired twice (a second firing would have been
    # refused by the instance version, and its outbox row rolled back with it)
    assert Job.select().where(Job.kind == "outbox").count() == 30
    fired_events = AuditEvent.select().where(AuditEvent.kind == "engine.timer_fired").count()
    assert fired_events == 30


def test_an_instance_the_engine_cannot_load_becomes_an_incident_not_a_loop(
        config, deploy_fixture, oms, clock, users):
    deploy_fixture("timer_wait.bpmn")
    broken = submit(oms, "timer_wait", {"order_id": "A-1"})
    fine = submit(oms, "timer_wait", {"order_id": "A-2"})
    good_state = instance_of(broken).state
    Instance.update(state='{"format": 1, "workflow": "garbled"}').where(
        Instance.case == broken["id"]).execute()
    clock.advance(hours=4, seconds=5)
    worker = Worker(config, clock=clock)
    assert worker.run_once().timers == 2
    assert Case.get_by_id(fine["id"]).status == "completed"
    assert Case.get_by_id(broken["id"]).status == "incident"
    row = instance_of(broken)
    assert row.status == "failed" and row.next_due_at is None
    assert worker.run_once().timers == 0                      # parked, not picked every pass
    from service.store import Incident
    incident = Incident.get(Incident.case == broken["id"])
    assert incident.kind == "timer" and "cannot load" in incident.message
    admin = users.make("root", ["admin"])
    refused = admin.post(f"/api/v1/incidents/{incident.id}/retry")
    assert refused.status_code == 409 and refused.mimetype == "application/problem+json"
    Instance.update(state=good_state).where(Instance.case == broken["id"]).execute()   # fixed
    answer = admin.post(f"/api/v1/incidents/{incident.id}/retry")
    assert answer.status_code == 200, answer.get_json()
    assert Case.get_by_id(broken["id"]).status == "open"
    assert instance_of(broken).next_due_at is not None        # back in the timer index
    assert worker.run_once().timers == 1
    assert Case.get_by_id(broken["id"]).status == "completed"
