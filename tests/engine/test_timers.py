"""Timers on the injectable clock: boundary (interrupting, FEEL), intermediate, date."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from service.engine import Runtime


def test_interrupting_feel_timer_escalates(runtime, spec_of, clock):
    spec = spec_of("sla", "timers.bpmn")
    instance = runtime.start(spec, {"sla_hours": 2})
    assert instance.next_due_at() == clock.now + timedelta(hours=1)  # the hourly reminder first
    kinds = [e.kind for e in instance.drain_events()]
    assert kinds.count("timer_set") == 2
    clock.advance(hours=2)
    instance = runtime.load(spec, instance.dumps())
    instance.fire_due_timers()
    assert [t.element_id for t in instance.user_tasks()] == ["escalated"]
    assert instance.user_tasks()[0].candidate_groups == ("cs_supervisor",)
    kinds = [e.kind for e in instance.drain_events()]
    assert "task_cancelled" in kinds and "timer_fired" in kinds and kinds[-1] == "task_ready"
    assert instance.next_due_at() is None


def test_intermediate_duration_then_date(runtime, spec_of, clock):
    spec = spec_of("wait_then_act", "timers.bpmn")
    instance = runtime.start(spec, {})
    assert instance.next_due_at() == clock.now + timedelta(minutes=30)
    assert instance.fire_due_timers() == 0
    clock.advance(minutes=30)
    instance = runtime.load(spec, instance.dumps())
    assert instance.fire_due_timers() == 1
    assert instance.next_due_at() == datetime(2024, 1, 2, tzinfo=timezone.utc)
    instance.fire_due_timers(datetime(2024, 1, 2, tzinfo=timezone.utc))
    assert instance.status == "completed"


def test_event_gateway_whose_timer_branch_ends_the_process_is_stored(runtime, spec_of, clock):
    """The gateway keeps the event that fired it; its timer definition must serialize."""
    spec = spec_of("await_reply", "reply_or_timeout.bpmn")
    instance = runtime.start(spec, {"order_id": "O1"})
    assert instance.next_due_at() == clock.now + timedelta(days=2)
    clock.advance(days=2)
    instance = runtime.load(spec, instance.dumps())
    assert instance.fire_due_timers() == 1
    assert instance.status == "completed"
    state = instance.dumps()
    assert instance.status == "completed" and json.loads(state)["status"] == "completed"
    assert runtime.load(spec, state).status == "completed"


def test_the_reply_branch_of_the_same_gateway(runtime, spec_of):
    spec = spec_of("await_reply", "reply_or_timeout.bpmn")
    instance = runtime.load(spec, runtime.start(spec, {}).dumps())
    instance.deliver_message("reply", {"answer": "yes"})
    assert instance.status == "completed" and instance.data["answer"] == "yes"
    assert runtime.load(spec, instance.dumps()).status == "completed"


def test_a_timer_that_fails_while_firing_fails_the_instance_naming_it(runtime, spec_of, clock):
    spec = spec_of("sla", "timers.bpmn")
    state = json.loads(runtime.start(spec, {"sla_hours": 2}).dumps())
    for task in state["workflow"]["tasks"].values():       # a stored cycle the code cannot read
        if task["internal_data"].get("event_value", {}) and \
                isinstance(task["internal_data"]["event_value"], dict):
            task["internal_data"]["event_value"]["next"] = "not a time"
    instance = runtime.load(spec, json.dumps(state))
    clock.advance(hours=1)
    instance.fire_due_timers()
    assert instance.status == "failed" and instance.failure.extra["element"] == "remind"
    assert "not a time" in instance.failure.detail
    assert json.loads(instance.dumps())["status"] == "failed"


def test_a_value_the_state_cannot_hold_fails_the_instance_where_it_is(runtime, spec_of,
                                                                      decisions, connectors):
    decisions.decisions.update({"exception_routing": [{"priority": "P2"}],
                                "approval_authority": [{"approvers": 1}]})
    connectors.register("erp.post_refund", lambda p: {"ref": "E1"})
    connectors.register("notify.email", lambda p: "sent")
    instance = runtime.start(spec_of("order_exception", "order.bpmn"),
                             {"order_id": "O1", "refund_amount": 120})
    task = instance.user_tasks()[0]
    instance.complete_task(task.id, {"approved": True}, actor="carol")
    instance.deliver_message("supplier_confirmation", {"order_id": "O1", "tags": b"raw bytes"})
    state = instance.dumps()                                  # no exception for the caller
    assert instance.status == "failed" and instance.failure.extra["limit"] == "state"
    assert "'tags'" in instance.failure.detail
    assert json.loads(state)["status"] == "failed"


def test_after_firing_due_timers_the_next_due_time_is_in_the_future(decisions, connectors,
                                                                     spec_of, clock):
    """The worker selects instances by ``next_due_at <= now``: after a firing pass at ``now`` it
    must be later than ``now`` (or None), or the instance would be picked up again at once."""
    # Catching up stops at half the operation's CPU budget (see the catch-up test); a budget far
    # above what a day of cycles costs keeps a busy machine from turning this into that case.
    runtime = Runtime(decisions=decisions, connectors=connectors, clock=clock,
                      script_cpu_seconds=10.0)
    spec = spec_of("ticker", "timers.bpmn")
    instance = runtime.start(spec, {})
    later = clock.now + timedelta(minutes=90, seconds=30)      # far behind the cycle
    assert instance.fire_due_timers(later) >= 1
    assert instance.next_due_at() > later
    clock.advance(days=1)                                       # past the last cycle
    instance.fire_due_timers()
    assert instance.next_due_at() is None or instance.next_due_at() > clock.now
