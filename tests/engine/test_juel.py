"""The JUEL subset: EL semantics on process data, refusal at deploy, and the processes using it."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from service.engine import parse_definitions
from service.engine.juel import JuelError, JuelEvaluationError, compile_juel
from service.errors import DefinitionInvalid
from service.sandbox import BudgetExceeded, Limits, bounded

from bpmn_text import chain, definitions, flow, process

NOW = datetime(2024, 1, 31, 9, 0, tzinfo=timezone.utc)


def value(text, **variables):
    return compile_juel(text).evaluate(variables, now=lambda: NOW)


@pytest.mark.parametrize("text, variables, expected", [
    ("${approved == true}", {"approved": True}, True),
    ("${approved eq true}", {"approved": False}, False),
    ("${!clarified}", {"clarified": False}, True),
    ("${not clarified}", {"clarified": "TRUE"}, False),          # EL: "true" in any case
    ("${approvals >= 3 && !veto}", {"approvals": 3, "veto": False}, True),
    ("${approvals ge 3 and veto}", {"approvals": 4, "veto": False}, False),
    ("${approvals >= 3 || veto}", {"approvals": 1, "veto": True}, True),
    ("${a lt b or a gt b}", {"a": 1, "b": 1}, False),
    ("${a le b and a ne c}", {"a": 1, "b": 1, "c": 2}, True),
    ("${empty items}", {"items": []}, True),
    ("${empty name}", {"name": ""}, True),
    ("${empty missing}", {"missing": None}, True),
    ("${not empty items}", {"items": [1]}, True),
    ("${1 + 2 * 3}", {}, 7),
    ("${(1 + 2) * 3}", {}, 9),
    ("${7 / 2}", {}, 3.5),                                      # always a decimal division
    ("${8 div 2}", {}, 4.0),
    ("${7 % 3}", {}, 1),
    ("${-7 mod 3}", {}, -1),                                    # Java: the dividend's sign
    ("${7.5 % 2}", {}, 1.5),
    ("${amount + 1}", {"amount": "41"}, 42),                    # text meets number: a number
    ("${amount * 2}", {"amount": None}, 0),                     # null is 0 in arithmetic
    ("${'5' < 10}", {}, True),
    ("${'abc' < 'abd'}", {}, True),
    ("${x > 1 ? 'big' : 'small'}", {"x": 2}, "big"),
    ("${null == null}", {}, True),
    ("${missing == null}", {"missing": None}, True),
    ("${missing < 3}", {"missing": None}, False),               # comparisons with null are false
    ("${1 == 1.0}", {}, True),
    ("${'1' == 1}", {}, True),
    ("${'true' == true}", {}, True),
    ("${order.lines[1].sku}", {"order": {"lines": [{"sku": "a"}, {"sku": "b"}]}}, "b"),
    ("${order['id']}", {"order": {"id": 7}}, 7),
    ("${order.missing}", {"order": {}}, None),                  # a missing map key is null
    ("${lines[5]}", {"lines": [1]}, None),
    ("${nothing.at.all}", {"nothing": None}, None),
    ("#{device == 'fail'}", {"device": "ok"}, False),
    ("${ 'elValue' }", {}, "elValue"),
    ("${\"it\\\"s\"}", {}, 'it"s'),
    ("Order ${id} for ${customer.name}", {"id": 12, "customer": {"name": "Ann"}},
     "Order 12 for Ann"),
    ("${true}", {}, True),
    ("${1.5e3}", {}, 1500.0),
])
def test_el_semantics(text, variables, expected):
    result = value(text, **variables)
    assert result == expected and type(result) is type(expected)


def test_date_built_ins_read_the_runtime_clock():
    assert value("${now()}") == NOW
    assert value("${dateTime().plusDays(2).toDate()}") == NOW + timedelta(days=2)
    assert value("${dateTime().plusWeeks(1).toDate()}") == NOW + timedelta(weeks=1)
    assert value("${dateTime().plusHours(3).plusMinutes(30).toDate()}") == NOW + timedelta(hours=3.5)
    assert value("${dateTime().plusMonths(1).toDate()}") == datetime(2024, 2, 29, 9, tzinfo=timezone.utc)
    assert value("${dateTime().minusDays(n).toDate()}", n=1) == NOW - timedelta(days=1)
    assert value("${dateTime()}") == NOW                        # handed out as a datetime


def test_names_are_the_variables_read():
    assert compile_juel("${a.b > c ? d : e['f']}").names == {"a", "c", "d", "e"}
    assert compile_juel("${dateTime().plusDays(n).toDate()}").names == {"n"}


@pytest.mark.parametrize("text, fragment", [
    ("${sentiment.toLowerCase() == 'negative'}", "method call sentiment.toLowerCase"),
    ("${RULE_RESULT.get('x')}", "method call RULE_RESULT.get"),
    ("${S(response).prop('id').stringValue()}", "function S()"),
    ("${currentUser()}", "function currentUser()"),
    ("${execution.getVariable('x')}", "'execution' object"),
    ("${task.assignee}", "'task' object"),
    ("${photoService.processPhoto(photo.id)}", "method call photoService.processPhoto"),
    ("${x = 1}", "assignment"),
    ("${a -> a + 1}", "lambdas"),
    ("${a instanceof b}", "'instanceof'"),
    ("${now().plusDays(1)}", "now().plusDays"),
    ("${dateTime().plusFortnights(1).toDate()}", "plusFortnights"),
    ("${dateTime().toDate().plusDays(1)}", "toDate().plusDays"),
    ("${1 +}", "ends too early"),
    ("${a b}", "unexpected 'b'"),
    ("${unclosed", "not closed"),
    ("${}", "empty expression"),
    ("${x @ y}", "unexpected character '@'"),
])
def test_everything_else_is_refused_at_compile_time(text, fragment):
    with pytest.raises(JuelError, match=None) as info:
        compile_juel(text)
    assert fragment in str(info.value)


@pytest.mark.parametrize("text, variables, fragment", [
    ("${missing}", {}, "cannot resolve identifier 'missing'"),
    ("${'abc' == 1}", {}, "'abc' as a number"),
    ("${flag + 1}", {"flag": True}, "boolean true as a number"),
    ("${1 / 0}", {}, "division by zero"),
    ("${n % 0}", {"n": 3}, "modulo by zero"),
    ("${items.size}", {"items": "text"}, "cannot read property"),
    ("${!amount}", {"amount": 5}, "as a boolean"),
    ("${9223372036854775807 + 1}", {}, "overflows"),
])
def test_data_that_does_not_fit_fails_clearly(text, variables, fragment):
    with pytest.raises(JuelEvaluationError) as info:
        value(text, **variables)
    assert fragment in str(info.value)


def test_evaluation_runs_under_the_shared_budget():
    expression = compile_juel("${a + a + a + a + a + a + a + a}")
    with pytest.raises(BudgetExceeded):
        with bounded(Limits(steps=5)):
            expression.evaluate({"a": 1})


def test_composite_text_is_size_checked():
    big = "x" * 600_000
    with pytest.raises(BudgetExceeded):
        value("${a}${a}", a=big)


# -- in processes ---------------------------------------------------------------------------------

def _approval(condition_yes: str, condition_no: str, task_attrs: str = "") -> dict[str, bytes]:
    body = "\n".join([
        '<bpmn:startEvent id="start" />',
        f'<bpmn:userTask id="approve" name="Approve" {task_attrs} />',
        '<bpmn:exclusiveGateway id="gw" />',
        '<bpmn:endEvent id="yes" />', '<bpmn:endEvent id="no" />',
        chain("start", "approve", "gw"),
        flow("f_yes", "gw", "yes", condition_yes), flow("f_no", "gw", "no", condition_no),
    ])
    return {"approval.bpmn": definitions(process("approval", body))}


def _run(library, runtime, files, data, completion):
    spec = library.spec("approval", 1, files)
    instance = runtime.start(spec, data)
    task = instance.user_tasks()[0]
    instance.complete_task(task.id, completion, actor="ann")
    return task, instance


@pytest.mark.parametrize("approved, end", [(True, "yes"), (False, "no")])
def test_conditions_true_false_and_negation(library, runtime, approved, end):
    files = _approval("${approved == true}", "${!approved}")
    _, instance = _run(library, runtime, files, {}, {"approved": approved})
    assert instance.status == "completed", instance.failure
    taken = [e.detail["target"] for e in instance.drain_events() if e.kind == "gateway_taken"]
    assert taken == [end]


def test_due_date_groups_users_and_assignee_are_evaluated_when_ready(library, runtime, clock):
    attrs = ('camunda:dueDate="${dateTime().plusDays(2).toDate()}" '
             'camunda:followUpDate="${dateTime().plusHours(4).toDate()}" '
             'camunda:candidateGroups="${approverGroups}, auditors" '
             'camunda:candidateUsers="${backup}" camunda:assignee="${reviewer}"')
    files = _approval("${approved}", "${not approved}", attrs)
    spec = library.spec("approval", 1, files)
    instance = runtime.start(spec, {"approverGroups": ["management", "accounting"],
                                    "backup": "carol, dave", "reviewer": "bob"})
    [task] = instance.user_tasks()
    assert task.due_at == clock.now + timedelta(days=2)
    assert task.follow_up_at == clock.now + timedelta(hours=4)
    assert task.candidate_groups == ("management", "accounting", "auditors")
    assert task.candidate_users == ("carol", "dave") and task.assignee == "bob"
    ready = next(e for e in instance.drain_events() if e.kind == "task_ready")
    assert ready.detail["candidate_groups"] == ["management", "accounting", "auditors"]
    # The values are fixed when the task was created: a reload a day later shows the same.
    clock.advance(days=1)
    reloaded = runtime.load(spec, instance.dumps())
    assert reloaded.user_tasks()[0].due_at == task.due_at


def test_a_missing_variable_fails_naming_the_element_and_expression(library, runtime):
    files = _approval("${approved}", "${!approved}", 'camunda:assignee="${reviewer}"')
    instance = runtime.start(library.spec("approval", 1, files), {})
    assert instance.status == "failed"
    failure = instance.failure
    assert failure.extra["element"] == "approve"
    assert "${reviewer}" in failure.detail and "reviewer" in failure.detail


@pytest.mark.parametrize("attrs, condition, element, fragment", [
    ('camunda:assignee="${execution.getVariable(\'x\')}"', "${ok}", "approve", "'execution'"),
    ('camunda:dueDate="${now().plusDays(1)}"', "${ok}", "approve", "now().plusDays"),
    ('camunda:dueDate="tomorrow"', "${ok}", "approve", "ISO date"),
    ("", "${sentiment.toLowerCase() == 'negative'}", "f_yes", "toLowerCase"),
    ('camunda:candidateGroups="${S(x)}"', "${ok}", "approve", "function S()"),
])
def test_unsupported_expressions_are_refused_at_deploy(attrs, condition, element, fragment):
    with pytest.raises(DefinitionInvalid) as info:
        parse_definitions(_approval(condition, "${!ok}", attrs))
    assert info.value.extra["element"] == element and info.value.extra["line"]
    assert fragment in info.value.detail
