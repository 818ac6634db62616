"""Timer start events: the worker opens one case per due time of a deployed schedule, with a
test clock (no sleeping), exactly once whatever the number of workers; a redeploy replaces the
schedule."""
from __future__ import annotations

import datetime as dt
import io
import re
import threading

import pytest

from service import store
from service.engine.ports import FixedClock
from service.store import AuditEvent, Case, Job, TimerStart
from service.usecases.deployments import store_files
from service.worker import Worker

from .conftest import FIXTURES, submit

T0 = dt.datetime(2030, 3, 1, 8, 0, tzinfo=dt.timezone.utc)

PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="stock_count" isExecutable="true">
    <bpmn:startEvent id="when"><bpmn:timerEventDefinition>
      <bpmn:{kind}>{timer}</bpmn:{kind}></bpmn:timerEventDefinition></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="when" targetRef="count"/>
    <bpmn:userTask id="count" name="Count the stock" camunda:candidateGroups="store_staff"/>
    <bpmn:sequenceFlow id="f2" sourceRef="count" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture
def clock():
    return FixedClock(T0)


@pytest.fixture
def deploy(app, clock):
    def run(timer="R/PT1H", kind="timeCycle", *, files=None):
        files = files or {"stock.bpmn": PROCESS.format(timer=timer, kind=kind).encode()}
        with app.app_context():
            return store_files(files, actor="analyst", max_bytes=1 << 20, clock=clock)
    return run


def started_cases(key="stock_count"):
    return list(Case.select().where(Case.type == key).order_by(Case.id))


def dues(key="stock_count"):
    return [e.detail["due"] for e in AuditEvent.select().where(AuditEvent.kind == "case.submitted")
            .order_by(AuditEvent.seq) if e.detail.get("type") == key]


def test_a_cycle_from_the_deploy_starts_one_case_per_hour_three_times(config, app, clock):
    # The fixture process of the old in-instance test: R3/PT1H, an external task per case.
    with app.app_context():
        store_files({"daily_check.bpmn": (FIXTURES / "daily_check.bpmn").read_bytes()},
                    actor="analyst", max_bytes=1 << 20, clock=clock)
    worker = Worker(config, clock=clock)
    assert worker.run_once().started == 0                        # nothing due at the deploy
    counts = []
    for _ in range(5):
        clock.advance(hours=1)                                   # exactly on each due time
        counts.append(worker.run_once().started)
    assert counts == [1, 1, 1, 0, 0]
    assert dues("daily_check") == [(T0 + dt.timedelta(hours=h)).isoformat() for h in (1, 2, 3)]
    assert all(c.status == "completed" for c in started_cases("daily_check"))
    assert Job.select().where(Job.kind == "outbox").count() == 3    # each case ran its task
    assert TimerStart.get(TimerStart.key == "daily_check").next_due_at is None


def test_a_worker_behind_the_schedule_catches_up_one_case_per_due_time(config, deploy, clock):
    deploy()
    clock.advance(hours=3, minutes=30)
    assert Worker(config, clock=clock).run_once().started == 3
    assert dues() == [(T0 + dt.timedelta(hours=h)).isoformat() for h in (1, 2, 3)]
    [case] = started_cases()[:1]
    assert case.submitted_by == "timer"
    row = TimerStart.get()
    assert row.next_due_at == T0 + dt.timedelta(hours=4) and row.fired == 3


def test_a_date_starts_once_and_a_duration_once_after_the_deploy(config, deploy, clock):
    deploy("2030-03-02T09:00:00Z", "timeDate")
    worker = Worker(config, clock=clock)
    clock.advance(hours=24, minutes=59)
    assert worker.run_once().started == 0
    clock.advance(minutes=1)
    assert worker.run_once().started == 1
    clock.advance(days=30)
    assert worker.run_once().started == 0 and len(started_cases()) == 1
    deploy("PT30M", "timeDuration")                              # a new version: new schedule
    clock.advance(minutes=30)
    assert worker.run_once().started == 1
    clock.advance(days=1)
    assert worker.run_once().started == 0 and len(started_cases()) == 2


def test_a_redeploy_replaces_the_schedule_and_cases_run_on_their_version(config, deploy, clock,
                                                                         users):
    deploy("R/PT1H")
    worker = Worker(config, clock=clock)
    clock.advance(hours=1)
    assert worker.run_once().started == 1
    clock.advance(minutes=30)
    deploy("R/PT2H")                                             # version 2, counted from now
    clock.advance(minutes=30)                                    # v1's next due: nothing
    assert worker.run_once().started == 0
    clock.advance(hours=1, minutes=30)
    assert worker.run_once().started == 1
    versions = [c.definition.version for c in started_cases()]
    assert versions == [1, 2]
    again = deploy("R/PT2H")                                     # unchanged: schedule kept
    assert again["created"] == []
    assert TimerStart.get().next_due_at == T0 + dt.timedelta(hours=5, minutes=30)
    plain = re.sub(r"<bpmn:timerEventDefinition>.*</bpmn:timerEventDefinition>", "",
                   PROCESS.format(kind="timeCycle", timer="R/PT2H"), flags=re.S)
    deploy(files={"stock.bpmn": plain.encode()})                # no timer start any more
    assert TimerStart.select().count() == 0
    clock.advance(days=1)
    assert worker.run_once().started == 0
    staff = users.make("sam", ["store_staff"])
    assert len(staff.get("/api/v1/tasks").get_json()["items"]) == 2


def test_several_workers_start_each_due_time_once(config, deploy, clock):
    deploy("R/PT1H")
    clock.advance(hours=6)
    errors = []

    def run(n):
        try:
            store.database.connect(reuse_if_open=True)
            worker = Worker(config, clock=clock, owner=f"w{n}", batch=2)
            while worker.run_once().total:
                pass
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            store.database.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.database.connect(reuse_if_open=True)
    assert not errors
    assert sorted(dues()) == [(T0 + dt.timedelta(hours=h)).isoformat() for h in range(1, 7)]
    assert len(started_cases()) == 6 and TimerStart.get().fired == 6


def test_a_case_opened_by_hand_starts_at_once(config, deploy, users):
    deploy("R/PT1H")
    oms = users.make("oms", ["oms"], client=True)
    case = submit(oms, "stock_count")
    assert [t["name"] for t in case["tasks"]] == ["Count the stock"]


@pytest.mark.parametrize("timer, kind", [("${next_count}", "timeCycle"), ("R3", "timeCycle"),
                                          ("R3/PT0S", "timeCycle"), ("every monday", "timeDate")])
def test_a_timer_start_that_cannot_be_scheduled_is_refused_naming_the_element(users, timer, kind):
    analyst = users.make("ana", ["analyst"])
    body = PROCESS.format(timer=timer, kind=kind).encode()
    if timer == "R3":     # a valid timer, but beside a second start event
        body = PROCESS.format(timer="R3/PT1H", kind=kind).replace(
            '<bpmn:sequenceFlow id="f1"', '<bpmn:startEvent id="by_hand"/><bpmn:sequenceFlow '
            'id="f0" sourceRef="by_hand" targetRef="count"/><bpmn:sequenceFlow id="f1"').encode()
    answer = analyst.post("/api/v1/deployments", data={"files": [(io.BytesIO(body), "stock.bpmn")]},
                          content_type="multipart/form-data")
    problem = answer.get_json()
    assert answer.status_code == 422, problem
    assert problem["file"] == "stock.bpmn" and problem["element"] == "when", problem
    assert ("other start events" in problem["detail"]) == (timer == "R3"), problem
    assert TimerStart.select().count() == 0
