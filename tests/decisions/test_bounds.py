"""Evaluation of analysts' FEEL and DMN is bounded by the shared budget of ``service.sandbox``.

A loop, a list, a string or a regular expression that goes beyond the budget raises
``BudgetExceeded`` out of the evaluator: never a null with a warning, which a caller would take
for an answer. Malformed tables are refused at parse, naming the rule and the cell.
"""
from __future__ import annotations

from decimal import Decimal

import pytest

from service.decisions import DecisionModel, DmnError
from service.decisions.feel import FeelSyntaxError, compile_expression
from service.sandbox import BudgetExceeded, Limits, bounded

from .dmn_factory import definitions, input_data, table_model

SMALL = Limits(cpu_seconds=1.0, steps=100_000, max_items=10_000, max_string=50_000)


def literal_decision(text: str, inputs: tuple[str, ...] = ()) -> DecisionModel:
    reqs = "".join(f'<informationRequirement><requiredInput href="#in_{name}"/>'
                   f'</informationRequirement>' for name in inputs)
    body = (f'<decision id="d" name="d">{reqs}<literalExpression><text>{text}</text>'
            f'</literalExpression></decision>' + "".join(input_data(n) for n in inputs))
    return DecisionModel.parse(definitions(body))


def test_the_million_by_million_loop_stops_with_budget_exceeded_from_the_decision():
    model = literal_decision("count(for i in 1..1000000, j in 1..1000000 return 1)")
    with pytest.raises(BudgetExceeded):
        model.evaluate("d", {})


def test_budget_exceeded_leaves_a_feel_expression_instead_of_a_null():
    expression = compile_expression("count(for i in 1..1000000, j in 1..1000000 return 1)")
    warnings: list = []
    with pytest.raises(BudgetExceeded):
        expression.evaluate({}, warnings=warnings)
    assert warnings == []


def test_a_callers_block_bounds_the_evaluation_with_its_own_limits():
    expression = compile_expression("for i in 1..5000 return i")
    assert len(expression.evaluate({})) == 5000
    with bounded(Limits(steps=1000)), pytest.raises(BudgetExceeded) as raised:
        expression.evaluate({})
    assert raised.value.kind == "steps"


@pytest.mark.parametrize("text, kind", [
    ("for i in 1..100000000 return i", "size"),
    ("flatten(for i in 1..1000 return l)", "size"),
    ('string join(for i in 1..100 return long)', "size"),
    ('replace(long, "a", "$0$0$0$0$0$0$0$0$0$0")', "size"),
    ('{a: long, b: a + a, c: b + b}.c', "size"),
    ("string(for i in 1..1000 return l)", None),
    ("(for i in 1..1000 return l) = (for i in 1..1000 return l)", None),
    ("count(distinct values(for i in 1..20000 return i))", None),
    ("for x in l return list contains(l, x)", None),
    ("{f: function(n) if n = 0 then 1 else f(n - 1) + f(n - 1), r: f(60)}.r", None),
])
def test_long_work_hidden_in_one_operation_is_charged(text, kind):
    """Shared sublists, joins, replacements and built-ins on long lists cannot escape."""
    scope = {"l": [Decimal(i) for i in range(2000)], "long": "a" * 40_000}
    with bounded(SMALL), pytest.raises(BudgetExceeded) as raised:
        compile_expression(text).evaluate(scope)
    if kind:
        assert raised.value.kind == kind


def test_catastrophic_backtracking_is_fast_or_bounded():
    expression = compile_expression('matches(s, "^(a+)+$")')
    try:
        assert expression.evaluate({"s": "a" * 30 + "!"}) is False
    except BudgetExceeded as exc:
        assert exc.kind == "cpu"


def test_a_regex_that_backtracks_without_end_raises_budget_exceeded():
    expression = compile_expression('matches(s, "(a|aa)+\\\\1c")')
    with bounded(Limits(cpu_seconds=0.2)), pytest.raises(BudgetExceeded) as raised:
        expression.evaluate({"s": "a" * 30})
    assert raised.value.kind == "cpu"


def test_regex_built_ins_still_follow_xpath():
    assert compile_expression('replace("abcd", "(ab)|(a)", "[1=$1][2=$2]")').evaluate({}) == \
        "[1=ab][2=]cd"
    assert compile_expression('split("a1b22c", "[0-9]+")').evaluate({}) == ["a", "b", "c"]
    assert compile_expression('matches("Hello", "^h", "i")').evaluate({}) is True


def test_partial_is_a_copy_so_no_list_contains_itself():
    value = compile_expression("for i in 1..3 return partial").evaluate({})
    assert value == [[], [[]], [[], [[]]]]
    assert compile_expression("for i in 0..4 return if i = 0 then 1 else i * partial[-1]"
                              ).evaluate({}) == [Decimal(n) for n in (1, 1, 2, 6, 24)]


def test_budget_exceeded_propagates_through_tables_bkms_and_services():
    body = (
        '<businessKnowledgeModel id="bkm" name="spin"><encapsulatedLogic>'
        '<formalParameter name="n"/><literalExpression><text>count(for i in 1..n, '
        'j in 1..n return 1)</text></literalExpression></encapsulatedLogic>'
        '</businessKnowledgeModel>'
        '<decision id="d" name="d"><knowledgeRequirement><requiredKnowledge href="#bkm"/>'
        '</knowledgeRequirement><informationRequirement><requiredInput href="#in_n"/>'
        '</informationRequirement><decisionTable id="t"><input id="i1"><inputExpression>'
        '<text>spin(n)</text></inputExpression></input><output id="o1" name="r"/>'
        '<rule id="r1"><inputEntry><text>-</text></inputEntry><outputEntry><text>1</text>'
        '</outputEntry></rule></decisionTable></decision>'
        '<decisionService id="s" name="svc"><outputDecision href="#d"/>'
        '<inputData href="#in_n"/></decisionService>' + input_data("n", "number"))
    model = DecisionModel.parse(definitions(body))
    assert model.evaluate("d", {"n": 3}).value == Decimal(1)
    with pytest.raises(BudgetExceeded):
        model.evaluate("d", {"n": 1_000_000})
    with pytest.raises(BudgetExceeded):
        model.decision_service("svc", {"n": 1_000_000})


def test_nested_text_in_a_cell_is_refused_naming_the_rule_and_cell():
    xml = table_model([(['"a"'], ['"A"']), (["PLACEHOLDER"], ['"B"'])],
                      inputs=[("v", "string")], outputs=[("r", "string")])
    xml = xml.replace("<inputEntry><text>PLACEHOLDER</text></inputEntry>",
                      "<inputEntry><text><text>x</text></text></inputEntry>")
    with pytest.raises(DmnError) as raised:
        DecisionModel.parse(xml)
    assert raised.value.element_id == "r2"
    assert "rule r2 (row 2), input column 1 (v)" in str(raised.value)
    assert "<text>" in str(raised.value)


def test_nested_text_in_a_literal_expression_is_refused():
    with pytest.raises(DmnError) as raised:
        literal_decision("<text>1</text>")
    assert "literalExpression" in str(raised.value)


def test_in_with_nested_parentheses_parses_in_linear_time():
    """Re-reading "(x in (...))[1]" as an expression would double the work per level."""
    text = "x in " + "(x in " * 30 + "1" + ")[1]" * 30
    assert compile_expression(text).evaluate({"x": Decimal(1)}) is True


@pytest.mark.parametrize("text", ["(" * 200 + "1" + ")" * 200, "-" * 5000 + "1",
                                  "1" + " + 1" * 3000, "[" * 300 + "]" * 300])
def test_absurd_nesting_is_a_syntax_error_not_a_recursion_error(text):
    with pytest.raises(FeelSyntaxError):
        compile_expression(text)
