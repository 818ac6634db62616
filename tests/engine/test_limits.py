"""Per-operation engine limits: a run that loops fails at the element where it stopped, with
a bounded number of steps and audit events, and a timer far behind the clock catches up over
several operations instead of failing."""
from __future__ import annotations

from datetime import timedelta

import pytest

from service.engine import ProcessLibrary, Runtime
from service.engine.limits import EngineLimits

# A loop through gateways that passes the deploy check (its gateway decides) but never waits
# while n > 0: only the operation's limits end it.
SPIN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
                  id="Definitions_spin" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="spin" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:exclusiveGateway id="merge"><bpmn:incoming>f1</bpmn:incoming><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:scriptTask id="step" name="Step"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
      <bpmn:script>n = n + 1</bpmn:script></bpmn:scriptTask>
    <bpmn:exclusiveGateway id="again" default="f5"><bpmn:incoming>f4</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing><bpmn:outgoing>f5</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:endEvent id="end"><bpmn:incoming>f5</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="merge" />
    <bpmn:sequenceFlow id="f2" sourceRef="merge" targetRef="step" />
    <bpmn:sequenceFlow id="f3" sourceRef="again" targetRef="merge">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">n &gt; 0</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f4" sourceRef="step" targetRef="again" />
    <bpmn:sequenceFlow id="f5" sourceRef="again" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""



def _spin(runtime):
    spec = ProcessLibrary().spec("spin", 1, {"spin.bpmn": SPIN.encode()})
    return runtime.start(spec, {"n": 0})


def test_a_loop_stops_at_the_event_budget_with_at_most_that_many_audit_events(decisions,
                                                                               connectors, clock):
    # CPU budget well above what 1,000 events cost, so on a busy machine the events bound (the
    # one under test) still comes first.
    runtime = Runtime(decisions=decisions, connectors=connectors, clock=clock,
                      script_cpu_seconds=5.0)
    instance = _spin(runtime)
    assert instance.status == "failed" and instance.failure.extra["limit"] == "events"
    assert instance.failure.extra["element"] in ("merge", "step", "again")
    assert "more than 1,000 events in one operation" in instance.failure.detail
    assert len(instance.drain_events()) <= 1_010              # not 100,000 audit rows


@pytest.mark.parametrize("limits,kind", [
    (EngineLimits(steps=60, events=100_000), "steps"),
    (EngineLimits(steps=10**9, events=10**9), "cpu"),
])
def test_each_bound_names_the_element_where_the_run_stopped(decisions, connectors, clock,
                                                            limits, kind):
    runtime = Runtime(decisions=decisions, connectors=connectors, clock=clock,
                      script_cpu_seconds=0.3, limits=limits)
    instance = _spin(runtime)
    assert instance.status == "failed" and instance.failure.extra["limit"] == kind
    assert instance.failure.extra["element"] in ("merge", "step", "again")
    assert f"({instance.failure.extra['element']})" in instance.failure.detail
    assert '"status":"failed"' in instance.dumps()


def test_the_budget_counts_per_operation_not_per_instance(decisions, connectors, clock, spec_of):
    runtime = Runtime(decisions=decisions, connectors=connectors, clock=clock,
                      limits=EngineLimits(steps=12, events=100))
    spec = spec_of("review_loop", "loop.bpmn")
    instance = runtime.start(spec, {"count": 0, "limit": 30, "notes": None})
    for _ in range(30):                                        # 30 operations of ~5 steps each
        [task] = instance.user_tasks()
        instance.complete_task(task.id, {}, actor="bob")
    assert instance.status == "completed" and instance.data["count"] == 30


def test_a_cycle_timer_far_behind_catches_up_over_several_calls(decisions, connectors, clock,
                                                               spec_of):
    runtime = Runtime(decisions=decisions, connectors=connectors, clock=clock,
                      limits=EngineLimits(events=100))
    spec = spec_of("ticker", "timers.bpmn")
    instance = runtime.start(spec, {})
    instance.drain_events()
    clock.advance(minutes=120)
    calls, ticks = 0, 0
    while instance.next_due_at() <= clock.now:
        assert instance.fire_due_timers() > 0 and instance.status == "waiting"
        events = instance.drain_events()
        assert len(events) <= 100
        ticks += sum(1 for e in events if e.kind == "script_run")
        calls += 1
        instance = runtime.load(spec, instance.dumps())
    assert ticks == 120 and calls > 2                       # each minute once, over several calls
    assert instance.next_due_at() == clock.now + timedelta(minutes=1)
