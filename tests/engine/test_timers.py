"""Timers on the injectable clock: boundary (interrupting, FEEL), intermediate, date."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone


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


def test_after_firing_due_timers_the_next_due_time_is_in_the_future(runtime, spec_of, clock):
    """The worker selects instances by ``next_due_at <= now``: after a firing pass at ``now`` it
    must be later than ``now`` (or None), or the instance would be picked up again at once."""
    spec = spec_of("ticker", "timers.bpmn")
    instance = runtime.start(spec, {})
    later = clock.now + timedelta(minutes=90, seconds=30)      # far behind the cycle
    assert instance.fire_due_timers(later) >= 1
    assert instance.next_due_at() > later
    clock.advance(days=1)                                       # past the last cycle
    instance.fire_due_timers()
    assert instance.next_due_at() is None or instance.next_due_at() > clock.now
