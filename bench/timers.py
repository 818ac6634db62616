"""Timer benchmark: fire lag with 10,000 pending timers and one worker, and jobs per second.

    python bench/timers.py                         # SQLite in a temp folder
    DATABASE_URL=postgresql://postgres@127.0.0.1/bench python bench/timers.py
    BENCH_TIMERS=2000 python bench/timers.py       # a smaller run

Setup: ``BENCH_TIMERS`` instances (default 10,000) of a process "approval with an SLA" (a user
task whose interrupting boundary timer escalates to a second group and posts a notification
through the outbox), started through the real engine and saved with ``instances.save``.

1. **Lag**: ``BENCH_TRICKLE`` of them (default 300) fall due one after another over
   ``BENCH_WINDOW`` seconds (default 30) while all the others stay pending; one worker runs its
   loop in a thread with the default poll interval. Lag = time the escalation was saved minus
   the timer's due time. The worker's clock is the real clock shifted to the instances' time
   line (the clock is injectable; nothing sleeps to wait for a timer).
2. **Throughput**: the clock jumps one day, so every remaining timer is due at once; one worker
   fires them (timers/s), then delivers the outbox jobs they wrote (jobs/s).
"""
from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
                  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
                  id="bench_defs" targetNamespace="http://omniflow.example/bench">
  <bpmn:process id="bench_sla" name="Approval with an SLA" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="approve" />
    <bpmn:userTask id="approve" name="Approve" camunda:candidateGroups="store_manager">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="approve" targetRef="done" />
    <bpmn:endEvent id="done"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:boundaryEvent id="breach" cancelActivity="true" attachedToRef="approve">
      <bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:timerEventDefinition id="breach_timer">
        <bpmn:timeDuration xsi:type="bpmn:tFormalExpression"
          >=duration("PT" + string(sla_seconds) + "S")</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="breach" targetRef="notify" />
    <bpmn:serviceTask id="notify" name="Notify" camunda:type="external" camunda:topic="notify.team">
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="f4" sourceRef="notify" targetRef="escalated" />
    <bpmn:userTask id="escalated" name="Approve (escalated)"
                   camunda:candidateGroups="district_manager">
      <bpmn:incoming>f4</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f5" sourceRef="escalated" targetRef="done2" />
    <bpmn:endEvent id="done2"><bpmn:incoming>f5</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""

BASE = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)   # the instances' time line
LEAD = dt.timedelta(hours=1)                              # every SLA is at least an hour


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


class ShiftedClock:
    """Real time, moved onto the instances' time line (and movable by whole jumps)."""

    def __init__(self, origin: dt.datetime):
        self.origin, self.t0 = origin, time.perf_counter()

    def __call__(self) -> dt.datetime:
        return self.origin + dt.timedelta(seconds=time.perf_counter() - self.t0)

    def jump(self, delta: dt.timedelta) -> None:
        self.origin += delta


def populate(config, n: int, trickle: int, window: float) -> float:
    """Start ``n`` instances; the first ``trickle`` fall due over ``window`` seconds after
    ``BASE + LEAD``, the others a day later. Returns the seconds setup took."""
    from service.engine.ports import FixedClock
    from service.store import Case, Definition
    from service.usecases.deployments import store_files as deploy
    from service.usecases.unit_of_work import UnitOfWork
    deploy({"bench_sla.bpmn": PROCESS.encode()}, actor="bench", max_bytes=1 << 20)
    definition = Definition.get(Definition.key == "bench_sla")
    start_clock = FixedClock(BASE)
    t0 = time.perf_counter()
    batch = []
    for i in range(n):
        if i < trickle:
            seconds = LEAD.total_seconds() + window * (i + 1) / trickle
        else:
            seconds = LEAD.total_seconds() + 86400 + i % 600
        uow = UnitOfWork("bench", config=config, clock=start_clock)
        batch.append((uow, uow.start(definition, {"sla_seconds": round(seconds, 3)})))
        if len(batch) == 200 or i == n - 1:
            with UnitOfWork("bench").writing():      # one transaction; each save a savepoint
                for uow, process in batch:
                    case = Case.create(type="bench_sla", definition=definition,
                                       submitted_by="bench", data={})
                    with uow.writing():
                        uow.save(case, process, definition=definition)
            batch = []
    return time.perf_counter() - t0


def measure_lag(config, trickle: int, window: float) -> dict:
    from service.store import Instance
    from service.worker import Worker
    due = {r.id: r.next_due_at for r in Instance.select(Instance.id, Instance.next_due_at)
           .order_by(Instance.next_due_at).limit(trickle)}
    clock = ShiftedClock(BASE + LEAD)
    wall0 = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=time.perf_counter() - clock.t0)
    worker = Worker(config, clock=clock, owner="bench")
    thread = threading.Thread(target=worker.run_forever, daemon=True)
    thread.start()
    deadline = time.perf_counter() + window + 30
    while time.perf_counter() < deadline:
        left = (Instance.select().where(Instance.id.in_(list(due)),
                                        Instance.next_due_at.is_null(False) &
                                        (Instance.next_due_at <= BASE + LEAD + dt.timedelta(
                                            seconds=window)))).count()
        if not left:
            break
        time.sleep(0.5)
    worker.stop()
    thread.join(10)
    lags = []
    for row in Instance.select(Instance.id, Instance.updated_at).where(Instance.id.in_(list(due))):
        fired_on_timeline = BASE + LEAD + (row.updated_at - wall0)
        lags.append((fired_on_timeline - due[row.id]).total_seconds())
    return {"lag_timers": len(lags), "lag_p50_ms": round(pct(lags, 50) * 1000, 1),
            "lag_p99_ms": round(pct(lags, 99) * 1000, 1),
            "lag_max_ms": round(max(lags) * 1000, 1),
            "poll_interval_s": config.worker_interval}


def measure_throughput(config) -> dict:
    from service.engine.ports import FixedClock
    from service.usecases import due_timers as timers
    from service.usecases import outbox
    from service.store import Instance, Job
    now = BASE + LEAD + dt.timedelta(days=2)
    clock = FixedClock(now)
    pending = Instance.select().where(Instance.next_due_at <= now).count()
    t0 = time.perf_counter()
    fired = 0
    while True:
        batch = timers.fire_due(now, config=config, clock=clock, limit=500)
        if not batch:
            break
        fired += len(batch)
    fire_s = time.perf_counter() - t0
    queued = Job.select().where(Job.kind == "outbox", Job.status == "pending").count()
    t0 = time.perf_counter()
    delivered = 0
    while True:
        claimed = outbox.claim(owner="bench", now=now, limit=200)
        if not claimed:
            break
        for job in claimed:
            delivered += outbox.deliver(job, now=now).outcome == "delivered"
    deliver_s = time.perf_counter() - t0
    return {"burst_due": pending, "timers_fired": fired,
            "timers_per_s": round(fired / fire_s, 1) if fire_s else None,
            "outbox_jobs": queued, "outbox_delivered": delivered,
            "outbox_jobs_per_s": round(delivered / deliver_s, 1) if deliver_s else None}


def main():
    import logging
    logging.basicConfig(level=logging.WARNING)
    from service import store
    from service.app import create_app
    from service.usecases import system
    from service.config import Config
    n = int(os.environ.get("BENCH_TIMERS", "10000"))
    trickle = int(os.environ.get("BENCH_TRICKLE", "300"))
    window = float(os.environ.get("BENCH_WINDOW", "30"))
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.db"
        if url.startswith("postgres"):
            store.bind(url)
            store.database.execute_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
            store.database.close()
        config = Config(database_url=url, run_worker=False, deploy_on_start=False)
        system.open_store(config)   # create_app checks the schema, it does not migrate
        app = create_app(config)
        with app.app_context():
            figures = {"database": url.split(":", 1)[0], "pending_timers": n}
            figures["setup_s"] = round(populate(config, n, trickle, window), 1)
            figures.update(measure_lag(config, trickle, window))
            figures.update(measure_throughput(config))
        store.database.close()
    for key, value in figures.items():
        print(f"{key:24} {value}")
    return figures


if __name__ == "__main__":
    main()
