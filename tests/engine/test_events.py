"""Link, conditional and compensation events, and event sub-processes that interrupt."""
from __future__ import annotations

import pytest

from service.engine import parse_definitions
from service.errors import DefinitionInvalid

from bpmn_text import chain, definitions, flow, process


def _files(key: str, body: str) -> dict[str, bytes]:
    return {f"{key}.bpmn": definitions(process(key, body))}


def _ids(events, kind):
    return [e.element_id for e in events if e.kind == kind]


# -- links ----------------------------------------------------------------------------------

def test_a_link_throw_continues_at_its_catch(library, runtime):
    body = "\n".join([
        '<bpmn:startEvent id="s" />', '<bpmn:scriptTask id="a" scriptFormat="python"><bpmn:script>n = 1</bpmn:script></bpmn:scriptTask>',
        '<bpmn:intermediateThrowEvent id="go"><bpmn:linkEventDefinition name="page2" /></bpmn:intermediateThrowEvent>',
        '<bpmn:intermediateCatchEvent id="land"><bpmn:linkEventDefinition name="page2" /></bpmn:intermediateCatchEvent>',
        '<bpmn:userTask id="after" />', '<bpmn:endEvent id="e" />',
        chain("s", "a", "go"), chain("land", "after", "e")])
    instance = runtime.start(library.spec("links", 1, _files("links", body)), {})
    [task] = instance.user_tasks()
    assert task.element_id == "after" and task.data["n"] == 1


def test_a_link_without_its_catch_is_refused_at_deploy():
    body = ('<bpmn:startEvent id="s" /><bpmn:intermediateThrowEvent id="go"><bpmn:linkEventDefinition '
            'name="nowhere" /></bpmn:intermediateThrowEvent>' + chain("s", "go"))
    with pytest.raises(DefinitionInvalid) as info:
        parse_definitions(_files("lost", body))
    assert info.value.extra["element"] == "go" and "nowhere" in info.value.detail


# -- conditional events ---------------------------------------------------------------------

def _conditional_boundary() -> dict[str, bytes]:
    body = "\n".join([
        '<bpmn:startEvent id="s" />', '<bpmn:parallelGateway id="fork" />',
        '<bpmn:userTask id="work" />', '<bpmn:userTask id="other" />',
        '<bpmn:boundaryEvent id="cond" attachedToRef="work"><bpmn:conditionalEventDefinition>'
        '<bpmn:condition xsi:type="bpmn:tFormalExpression">${stop == true}</bpmn:condition>'
        '</bpmn:conditionalEventDefinition></bpmn:boundaryEvent>',
        '<bpmn:endEvent id="stopped" />', '<bpmn:endEvent id="done1" />', '<bpmn:endEvent id="done2" />',
        chain("s", "fork"), flow("f1", "fork", "work"), flow("f2", "fork", "other"),
        chain("work", "done1"), chain("other", "done2"), chain("cond", "stopped")])
    return _files("cond", body)


def test_a_conditional_boundary_fires_when_another_branch_sets_the_variable(library, runtime):
    instance = runtime.start(library.spec("cond", 1, _conditional_boundary()), {})
    assert {t.element_id for t in instance.user_tasks()} == {"work", "other"}
    other = next(t for t in instance.user_tasks() if t.element_id == "other")
    instance.drain_events()
    instance.complete_task(other.id, {"stop": True}, actor="ann")
    assert instance.status == "completed", instance.failure
    events = instance.drain_events()
    assert "work" in _ids(events, "task_cancelled")


def test_a_conditional_boundary_waits_while_the_variable_is_missing_or_false(library, runtime):
    instance = runtime.start(library.spec("cond", 1, _conditional_boundary()), {"stop": False})
    other = next(t for t in instance.user_tasks() if t.element_id == "other")
    instance.complete_task(other.id, {"note": "x"}, actor="ann")
    assert [t.element_id for t in instance.user_tasks()] == ["work"]
    work = instance.user_tasks()[0]
    instance.complete_task(work.id, {}, actor="ann")
    assert instance.status == "completed"


def test_an_intermediate_conditional_waits_until_true(library, runtime):
    body = "\n".join([
        '<bpmn:startEvent id="s" />', '<bpmn:parallelGateway id="fork" />',
        '<bpmn:intermediateCatchEvent id="wait"><bpmn:conditionalEventDefinition><bpmn:condition>'
        '=ready = true</bpmn:condition></bpmn:conditionalEventDefinition></bpmn:intermediateCatchEvent>',
        '<bpmn:userTask id="go" />', '<bpmn:userTask id="prepare" />', '<bpmn:endEvent id="e1" />',
        '<bpmn:endEvent id="e2" />', chain("s", "fork"), flow("f1", "fork", "wait"),
        flow("f2", "fork", "prepare"), chain("wait", "go", "e1"), chain("prepare", "e2")])
    instance = runtime.start(library.spec("icond", 1, _files("icond", body)), {})
    assert [t.element_id for t in instance.user_tasks()] == ["prepare"]
    instance.complete_task(instance.user_tasks()[0].id, {"ready": True}, actor="ann")
    assert [t.element_id for t in instance.user_tasks()] == ["go"]


def test_a_conditional_event_subprocess_interrupts_its_process(library, runtime):
    body = "\n".join([
        '<bpmn:startEvent id="s" />', '<bpmn:userTask id="task" />', '<bpmn:userTask id="set" />',
        '<bpmn:parallelGateway id="fork" />', '<bpmn:endEvent id="e" />', '<bpmn:endEvent id="e2" />',
        chain("s", "fork"), flow("fa", "fork", "task"), flow("fb", "fork", "set"),
        chain("task", "e"), chain("set", "e2"),
        '<bpmn:subProcess id="on_cancel" triggeredByEvent="true">'
        '<bpmn:startEvent id="cs" isInterrupting="true"><bpmn:conditionalEventDefinition>'
        '<bpmn:condition>${cancelled}</bpmn:condition></bpmn:conditionalEventDefinition></bpmn:startEvent>'
        '<bpmn:userTask id="handle" /><bpmn:endEvent id="ce" />'
        + chain("cs", "handle", "ce") + '</bpmn:subProcess>'])
    instance = runtime.start(library.spec("esp", 1, _files("esp", body)), {})
    assert {t.element_id for t in instance.user_tasks()} == {"task", "set"}
    setter = next(t for t in instance.user_tasks() if t.element_id == "set")
    instance.complete_task(setter.id, {"cancelled": True}, actor="ann")
    assert [t.element_id for t in instance.user_tasks()] == ["handle"]   # "task" was interrupted
    instance.complete_task(instance.user_tasks()[0].id, {}, actor="ann")
    assert instance.status == "completed", instance.failure


# -- compensation ---------------------------------------------------------------------------

def _compensation(throw: str) -> dict[str, bytes]:
    def compensable(task_id, value):
        return (f'<bpmn:scriptTask id="{task_id}" scriptFormat="python"><bpmn:script>done = done + ["{value}"]'
                f'</bpmn:script></bpmn:scriptTask>'
                f'<bpmn:boundaryEvent id="{task_id}_comp" attachedToRef="{task_id}"><bpmn:compensateEventDefinition />'
                f'</bpmn:boundaryEvent>'
                f'<bpmn:scriptTask id="undo_{task_id}" isForCompensation="true" scriptFormat="python">'
                f'<bpmn:script>undone = undone + ["{value}"]</bpmn:script></bpmn:scriptTask>'
                f'<bpmn:association id="as_{task_id}" sourceRef="{task_id}_comp" targetRef="undo_{task_id}" />')
    body = "\n".join([
        '<bpmn:startEvent id="s" />', compensable("book_hotel", "hotel"), compensable("book_car", "car"),
        '<bpmn:userTask id="confirm" />', '<bpmn:exclusiveGateway id="gw" />',
        throw, '<bpmn:endEvent id="ok" />',
        chain("s", "book_hotel", "book_car", "confirm", "gw"),
        flow("f_ok", "gw", "ok", "${confirmed}"), flow("f_undo", "gw", "undo", "${!confirmed}")])
    return _files("trip", body)


def test_a_compensation_throw_runs_the_handlers_newest_first(library, runtime):
    throw = ('<bpmn:intermediateThrowEvent id="undo"><bpmn:compensateEventDefinition />'
             '</bpmn:intermediateThrowEvent><bpmn:userTask id="after_undo" /><bpmn:endEvent id="undone" />'
             + chain("undo", "after_undo", "undone"))
    instance = runtime.start(library.spec("trip", 1, _compensation(throw)), {"done": [], "undone": []})
    instance.complete_task(instance.user_tasks()[0].id, {"confirmed": False}, actor="ann")
    [after] = instance.user_tasks()
    assert after.element_id == "after_undo" and after.data["undone"] == ["car", "hotel"]
    events = instance.drain_events()
    started = next(e for e in events if e.kind == "compensation_started")
    assert started.detail["activities"] == ["book_car", "book_hotel"]


def test_a_compensation_end_event_for_one_activity(library, runtime):
    throw = ('<bpmn:endEvent id="undo"><bpmn:compensateEventDefinition activityRef="book_hotel" />'
             '</bpmn:endEvent>')
    instance = runtime.start(library.spec("trip", 1, _compensation(throw)), {"done": [], "undone": []})
    instance.complete_task(instance.user_tasks()[0].id, {"confirmed": False}, actor="ann")
    assert instance.status == "completed", instance.failure
    assert instance.data["undone"] == ["hotel"]


def test_nothing_is_compensated_on_the_happy_path(library, runtime):
    throw = '<bpmn:endEvent id="undo"><bpmn:compensateEventDefinition /></bpmn:endEvent>'
    instance = runtime.start(library.spec("trip", 1, _compensation(throw)), {"done": [], "undone": []})
    instance.complete_task(instance.user_tasks()[0].id, {"confirmed": True}, actor="ann")
    assert instance.status == "completed" and instance.data["undone"] == []
    assert instance.data["done"] == ["hotel", "car"]


def test_a_compensation_boundary_without_a_handler_is_refused():
    body = ('<bpmn:startEvent id="s" /><bpmn:task id="t" /><bpmn:boundaryEvent id="b" attachedToRef="t">'
            '<bpmn:compensateEventDefinition /></bpmn:boundaryEvent><bpmn:endEvent id="e" />'
            + chain("s", "t", "e"))
    with pytest.raises(DefinitionInvalid) as info:
        parse_definitions(_files("nohandler", body))
    assert info.value.extra["element"] == "b" and "isForCompensation" in info.value.detail


def _timer_event_subprocess(interrupting: str) -> dict[str, bytes]:
    body = "\n".join([
        '<bpmn:startEvent id="s" />', '<bpmn:userTask id="work" />', '<bpmn:endEvent id="e" />',
        chain("s", "work", "e"),
        '<bpmn:subProcess id="reminder" triggeredByEvent="true">'
        f'<bpmn:startEvent id="rs" isInterrupting="{interrupting}"><bpmn:timerEventDefinition>'
        '<bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:startEvent>'
        '<bpmn:userTask id="chase" /><bpmn:endEvent id="re" />' + chain("rs", "chase", "re")
        + '</bpmn:subProcess>'])
    return _files("remind", body)


def test_a_process_ends_with_its_main_path_though_a_timer_event_subprocess_waits(library, runtime):
    instance = runtime.start(library.spec("remind", 1, _timer_event_subprocess("false")), {})
    assert instance.next_due_at() is not None
    instance.complete_task(instance.user_tasks()[0].id, {}, actor="ann")
    assert instance.status == "completed", instance.failure     # Camunda ends the scope too


@pytest.mark.parametrize("interrupting, left", [("false", {"work", "chase"}), ("true", {"chase"})])
def test_a_timer_event_subprocess_fires_while_the_main_path_runs(library, runtime, clock,
                                                                 interrupting, left):
    instance = runtime.start(library.spec("remind", 1, _timer_event_subprocess(interrupting)), {})
    clock.advance(hours=1, seconds=1)
    instance.fire_due_timers()
    assert {t.element_id for t in instance.user_tasks()} == left
    for task in instance.user_tasks():
        instance.complete_task(task.id, {}, actor="ann")
    assert instance.status == "completed", instance.failure
