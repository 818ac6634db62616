"""An instance always either waits for something, ends, or fails naming where it stopped; and
what the service needs to start and correlate instances."""
from __future__ import annotations

from datetime import timedelta

from service.engine import parse_definitions
from service.engine.timers import next_start

from bpmn_text import chain, definitions, flow, process


def _files(key: str, body: str, extra: str = "") -> dict[str, bytes]:
    return {f"{key}.bpmn": definitions(extra + process(key, body))}


def test_a_join_that_can_never_fire_fails_naming_it(library, runtime):
    body = "\n".join([
        '<bpmn:startEvent id="s" />', '<bpmn:parallelGateway id="fork" />',
        '<bpmn:exclusiveGateway id="choose" default="f_skip" />', '<bpmn:parallelGateway id="join" />',
        '<bpmn:userTask id="work" />', '<bpmn:endEvent id="e" />', '<bpmn:endEvent id="skipped" />',
        chain("s", "fork"), flow("f_a", "fork", "work"), flow("f_b", "fork", "choose"),
        flow("f_join", "choose", "join", "${false}"), flow("f_skip", "choose", "skipped"),
        chain("work", "join", "e")])
    instance = runtime.start(library.spec("stuck", 1, _files("stuck", body)), {})
    instance.complete_task(instance.user_tasks()[0].id, {}, actor="ann")
    assert instance.status == "failed"
    assert instance.failure.extra["element"] == "join" and instance.failure.extra["limit"] == "stall"
    assert "nothing to wait for" in instance.failure.detail
    assert [e.kind for e in instance.drain_events()][-1] == "error"


def test_a_path_without_an_end_event_ends_the_process(library, runtime):
    body = ('<bpmn:startEvent id="s" /><bpmn:scriptTask id="last" scriptFormat="python"><bpmn:script>'
            'done = True</bpmn:script></bpmn:scriptTask>' + chain("s", "last"))
    instance = runtime.start(library.spec("open", 1, _files("open", body)), {})
    assert instance.status == "completed" and instance.data["done"] is True


def test_a_timer_start_is_described_and_fires_once_per_case(library, runtime, clock):
    body = ('<bpmn:startEvent id="s"><bpmn:timerEventDefinition><bpmn:timeCycle>R/PT1H</bpmn:timeCycle>'
            '</bpmn:timerEventDefinition></bpmn:startEvent><bpmn:userTask id="check" />'
            '<bpmn:endEvent id="e" />' + chain("s", "check", "e"))
    files = _files("hourly", body)
    [definition] = parse_definitions(files)
    assert (definition.timer_start, definition.timer_start_kind) == ("R/PT1H", "timeCycle")
    assert next_start(definition.timer_start, definition.timer_start_kind, clock.now) == \
        clock.now + timedelta(hours=1)
    instance = runtime.start(library.spec("hourly", 1, files), {}, timer_fired=True)
    assert [t.element_id for t in instance.user_tasks()] == ["check"]
    waiting = runtime.start(library.spec("hourly", 1, files), {})
    assert waiting.user_tasks() == [] and waiting.next_due_at() is not None


def test_next_start_for_dates_and_bounded_cycles(clock):
    assert next_start("2024-01-02T10:00:00Z", "timeDate", clock.now).isoformat() == "2024-01-02T10:00:00+00:00"
    assert next_start("2023-12-31T10:00:00Z", "timeDate", clock.now) is None
    start = "R3/2024-01-01T08:00:00Z/PT1H"                              # 08:00, 09:00, 10:00
    assert next_start(start, "timeCycle", clock.now).hour == 10        # 08:00 and 09:00 are past
    assert next_start(start, "timeCycle", clock.now + timedelta(hours=1)) is None


def test_an_unkeyed_catch_offers_the_variables_to_correlate_on(library, runtime):
    body = ('<bpmn:startEvent id="s" camunda:initiator="starter" /><bpmn:receiveTask id="confirm" '
            'messageRef="M" /><bpmn:endEvent id="e" />' + chain("s", "confirm", "e"))
    files = _files("po", body, extra='<bpmn:message id="M" name="supplier_confirmed" />')
    spec = library.spec("po", 1, files)
    ok = runtime.start(spec, {"po_id": "PO-ok", "lines": [1, 2]}, initiator="ann")
    late = runtime.start(spec, {"po_id": "PO-late"})
    [waiting] = ok.waiting_messages()
    assert waiting.keyed is False and waiting.correlation == {}
    assert waiting.variables == {"po_id": "PO-ok", "starter": "ann"}       # scalars only
    assert late.waiting_messages()[0].variables == {"po_id": "PO-late"}
    ok.deliver_message("supplier_confirmed", {"eta": "2024-02-01"}, task_id=waiting.task_id)
    assert ok.status == "completed" and ok.data["eta"] == "2024-02-01"
