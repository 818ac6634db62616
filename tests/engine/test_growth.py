"""Long-lived instances: history is pruned, so cost and stored size stay flat, and an instance
ends only at its end event."""
from __future__ import annotations


import pytest

from service.engine.pruning import max_depth


def _loop(runtime, spec, limit):
    return runtime.start(spec, {"count": 0, "limit": limit, "notes": None})


def test_loop_1000_passes_through_load_complete_dumps(runtime, spec_of):
    spec = spec_of("review_loop", "loop.bpmn")
    state = _loop(runtime, spec, 1000).dumps()
    sizes = {}
    passes = 0
    while True:
        instance = runtime.load(spec, state)
        if instance.status != "waiting":
            break
        [task] = instance.user_tasks()
        instance.complete_task(task.id, {}, actor="bob")
        instance.drain_events()
        state = instance.dumps()
        passes += 1
        if passes in (10, 999):
            sizes[passes] = len(state)
    assert instance.status == "completed" and instance.data["count"] == 1000 and passes == 1000
    assert sizes[999] <= sizes[10] + 64  # flat, not growing with history


@pytest.mark.slow
def test_loop_10000_passes_driving_the_engine_directly(runtime, spec_of):
    instance = _loop(runtime, spec_of("review_loop", "loop.bpmn"), 10_000)
    passes = 0
    while instance.status == "waiting":
        [task] = instance.user_tasks()
        instance.complete_task(task.id, {}, actor="bob")
        instance.drain_events()
        passes += 1
        if passes % 2500 == 0:
            assert max_depth(instance.workflow) < 20
    assert instance.status == "completed" and passes == 10_000
    assert instance.data["count"] == 10_000


def test_looping_subprocess(runtime, spec_of):
    spec = spec_of("sub_loop", "structures.bpmn")
    instance = runtime.start(spec, {"n": 0, "limit": 1000})
    sizes = []
    while instance.status == "waiting":
        [task] = instance.user_tasks()
        assert task.element_id == "check"
        instance.complete_task(task.id, {}, actor="a")
        assert len(instance.workflow.subprocesses) <= 1
        if instance.data.get("n") in (10, 990):
            sizes.append(len(instance.dumps()))
            instance = runtime.load(spec, instance.dumps())
    assert instance.status == "completed" and instance.data["n"] == 1000
    assert sizes[1] <= sizes[0] + 64


def test_multi_instance_over_1000_items(runtime, spec_of):
    spec = spec_of("per_item", "structures.bpmn")
    items = [{"sku": f"S{i}"} for i in range(1000)]
    instance = runtime.start(spec, {"items": items})
    done = 0
    while instance.status == "waiting":
        [task] = instance.user_tasks()
        instance.complete_task(task.id, {"qty": 1}, actor="a")
        done += 1
        if done in (10, 500):
            instance = runtime.load(spec, instance.dumps())
            assert len(instance.workflow.tasks) < 30
    assert instance.status == "completed", instance.failure
    assert done == 1000 and instance.data["total_qty"] == 1000


def test_parallel_loop_keeps_join_data(runtime, spec_of):
    spec = spec_of("parallel", "structures.bpmn")
    instance = runtime.start(spec, {"rounds": 0, "max_rounds": 200})
    rounds = 0
    while instance.status == "waiting":
        for task in sorted(instance.user_tasks(), key=lambda t: t.element_id):
            data = {"restock_choice": f"r{rounds}"} if task.element_id == "restock" else {"refunded": rounds}
            instance.complete_task(task.id, data, actor="a")
        instance = runtime.load(spec, instance.dumps())
        rounds += 1
        assert instance.status != "waiting" or len(instance.user_tasks()) == 2
    assert instance.status == "completed" and rounds == 200
    # Both branches carry every variable; SpiffWorkflow lets the last merged branch win.
    assert instance.data["summary"].startswith("r199/") and instance.data["restock_choice"] == "r199"
    assert max_depth(instance.workflow) < 20


def test_timer_cycle_fires_500_times_and_state_stays_flat(runtime, spec_of, clock):
    spec = spec_of("sla", "timers.bpmn")
    instance = runtime.start(spec, {"sla_hours": 1000})
    sizes = []
    for hour in range(1, 501):
        clock.advance(hours=1)
        instance = runtime.load(spec, instance.dumps())
        assert instance.fire_due_timers() == 1
        if hour in (5, 500):
            sizes.append(len(instance.dumps()))
    assert sizes[1] <= sizes[0] + 64
    [task] = instance.user_tasks()
    instance.complete_task(task.id, {}, actor="a")
    assert instance.status == "completed" and instance.data["reminded"] is True


def test_timer_start_cycle_ends_after_its_last_cycle(runtime, spec_of, clock):
    spec = spec_of("ticker", "timers.bpmn")
    instance = runtime.start(spec, {})
    ticks = 0
    while instance.status == "waiting":
        clock.advance(minutes=1)
        instance = runtime.load(spec, instance.dumps())
        instance.fire_due_timers()
        ticks += sum(1 for e in instance.drain_events() if e.kind == "script_run")
    assert instance.status == "completed" and ticks == 500
