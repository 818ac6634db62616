"""External-task locks in the database: one holder, expiry, retries, nothing lost on restart."""
from __future__ import annotations

import datetime as dt
import threading

import pytest

from service import store
from service.errors import BadRequest, Conflict
from service.store import Case, Definition, Deployment, ExternalTask, Instance
from service.store import external_locks as locks

T0 = dt.datetime(2030, 1, 1, 9, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def tasks(db):
    """``make(n, topic)``: n open external tasks of one instance."""
    dep = Deployment.create(deployed_by="test")
    definition = Definition.create(kind="bpmn", key="p", version=1, file="p.bpmn", source="<x/>",
                                   sha256="0" * 64, deployment=dep, deployed_by="test")
    case = Case.create(type="p", definition=definition, submitted_by="oms")
    inst = Instance.create(case=case, definition=definition, state="{}")

    def make(n, topic="reship", **kw):
        return [ExternalTask.create(instance=inst, case=case, engine_task_id=f"t-{topic}-{i}",
                                    element_id="call", topic=topic, process_key="p",
                                    available_at=T0, created_at=T0, **kw).id for i in range(n)]
    return make


def test_a_locked_task_is_not_fetched_again_until_its_lock_expires(tasks):
    [task_id] = tasks(1)
    first = locks.fetch_and_lock({"reship": 60_000}, worker_id="w1", max_tasks=5, now=T0)
    assert [t.id for t in first] == [task_id]
    assert locks.fetch_and_lock({"reship": 60_000}, worker_id="w2", max_tasks=5,
                                now=T0 + dt.timedelta(seconds=59)) == []
    later = T0 + dt.timedelta(seconds=60)
    taken = locks.fetch_and_lock({"reship": 60_000}, worker_id="w2", max_tasks=5, now=later)
    assert [t.id for t in taken] == [task_id]
    with pytest.raises(BadRequest, match="locked by worker 'w2'"):
        locks.held(task_id, "w1", later)            # the first worker's complete is refused
    assert locks.held(task_id, "w2", later).worker_id == "w2"
    with pytest.raises(BadRequest, match="expired"):
        locks.held(task_id, "w2", later + dt.timedelta(minutes=2))


def test_only_the_topics_asked_for_and_by_priority(tasks):
    tasks(2, "refund")
    [low] = tasks(1, "reship", priority=1)
    [high] = tasks(1, "reship", priority=9)
    got = locks.fetch_and_lock({"reship": 1000}, worker_id="w", max_tasks=1, now=T0,
                               use_priority=True)
    assert [t.id for t in got] == [high] and got[0].topic == "reship"
    assert [t.id for t in locks.fetch_and_lock({"reship": 1000}, worker_id="w", max_tasks=9,
                                               now=T0)] == [low]


def test_a_failure_sets_retries_and_waits_out_the_timeout_then_zero_is_an_incident(tasks):
    [task_id] = tasks(1)
    row = locks.fetch_and_lock({"reship": 1000}, worker_id="w", max_tasks=1, now=T0)[0]
    locks.fail(row, retries=1, retry_timeout_ms=5000, message="OMS down", details="trace",
               now=T0)
    stored = ExternalTask.get_by_id(task_id)
    assert stored.retries == 1 and stored.worker_id is None and stored.status == "open"
    assert locks.fetch_and_lock({"reship": 1000}, worker_id="w", max_tasks=1,
                                now=T0 + dt.timedelta(seconds=4)) == []
    row = locks.fetch_and_lock({"reship": 1000}, worker_id="w", max_tasks=1,
                               now=T0 + dt.timedelta(seconds=5))[0]
    locks.fail(row, retries=0, retry_timeout_ms=0, message="still down", details=None,
               now=T0 + dt.timedelta(seconds=5))
    assert ExternalTask.get_by_id(task_id).status == "incident"
    assert locks.fetch_and_lock({"reship": 1000}, worker_id="w", max_tasks=1,
                                now=T0 + dt.timedelta(hours=1)) == []


def test_extend_and_unlock(tasks):
    [task_id] = tasks(1)
    row = locks.fetch_and_lock({"reship": 1000}, worker_id="w", max_tasks=1, now=T0)[0]
    locks.extend(row, new_duration_ms=60_000, now=T0)
    assert locks.fetch_and_lock({"reship": 1000}, worker_id="x", max_tasks=1,
                                now=T0 + dt.timedelta(seconds=30)) == []
    locks.unlock(task_id)
    assert [t.id for t in locks.fetch_and_lock({"reship": 1000}, worker_id="x", max_tasks=1,
                                               now=T0 + dt.timedelta(seconds=30))] == [task_id]


def test_a_closed_task_cannot_be_closed_twice(tasks):
    tasks(1)
    row = locks.fetch_and_lock({"reship": 1000}, worker_id="w", max_tasks=1, now=T0)[0]
    locks.close(row, now=T0)
    with pytest.raises(Conflict):
        locks.close(row, now=T0)


def test_competing_workers_never_hold_one_task(tasks, config):
    ids = set(tasks(60))
    got, errors, lock = [], [], threading.Lock()

    def work(n):
        try:
            store.database.connect(reuse_if_open=True)
            while True:
                rows = locks.fetch_and_lock({"reship": 60_000}, worker_id=f"w{n}", max_tasks=3,
                                            now=T0)
                if not rows:
                    return
                with lock:
                    got.extend(r.id for r in rows)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            store.database.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(got) == sorted(ids)                   # each task locked exactly once
