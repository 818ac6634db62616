"""The FEEL language: literals, operators, three-valued logic, control flow and names."""
from decimal import Decimal as D

import pytest

from service.decisions.feel import (FeelFunction, FeelSyntaxError, Range, Scope,
                                    compile_expression)


@pytest.mark.parametrize("text, expected", [
    ("1 + 2 * 3", D(7)),
    ("(1 + 2) * 3", D(9)),
    ("2 ** 3", D(8)),
    ("-2 + 5", D(3)),
    ("10 / 4", D("2.5")),
    ("1 / 3", D("0.3333333333333333333333333333333333")),
    (".5 + 1.", D("1.5")),
    ('"a" + "b"', "ab"),
    ('"\\u00e9\\t\\"q\\""', 'é\t"q"'),
    ('"\\uD83D\\uDCA9"', "\U0001F4A9"),
    ("true and null", None),
    ("false and null", False),
    ("true or null", True),
    ("null or false", None),
    ("1 = 1.0", True),
    ("1 = true", None),
    ("null = null", True),
    ('1 != "1"', None),
    ("[1, 2] = [1, 2]", True),
    ("{a: 1} = {a: 1}", True),
    ("3 between 1 and 5", True),
    ("if 1 > 2 then \"a\" else \"b\"", "b"),
    ("if null then 1 else 2", D(2)),
    ("for i in 1..3 return i * i", [D(1), D(4), D(9)]),
    ("for i in 3..1 return i", [D(3), D(2), D(1)]),
    ("for a in [1, 2], b in [10, 20] return a + b", [D(11), D(21), D(12), D(22)]),
    ("for i in 1..4 return if i = 1 then 1 else i * partial[-1]", [D(1), D(2), D(6), D(24)]),
    ("some x in [1, 5] satisfies x > 3", True),
    ("every x in [1, 5] satisfies x > 3", False),
    ("5 in (1, 5, 9)", True),
    ("5 in (< 3, > 4)", True),
    ("5 in [1..5)", False),
    ("5 in ]1..10[", True),
    ("2 in [1, 2, 3]", True),
    ("[1, 2, 3, 4][item > 2]", [D(3), D(4)]),
    ("[1, 2, 3][-1]", D(3)),
    ("[1, 2, 3][0]", None),
    ("[{a: 1}, {a: 2}][a > 1].a", [D(2)]),
    ("{a: 1, b: a + 1}.b", D(2)),
    ('{"b c": 2}.b c', D(2)),
    ("[{a: 1}, {a: 2}].a", [D(1), D(2)]),
    ("(function(a, b) a - b)(b: 1, a: 5)", D(4)),
    ("{f: function(n) if n <= 1 then 1 else n * f(n - 1), r: f(5)}.r", D(120)),
    ("[1..10].start included", True),
    ("(< 10).end", D(10)),
    ("1 instance of number", True),
    ('"a" instance of number', False),
    ("[1, 2] instance of list<number>", True),
    ("{a: 1} instance of context<a: number>", True),
    ("null instance of Null", True),
    ("/* note */ 1 // trailing\n + 1", D(2)),
])
def test_expression_values(value, text, expected):
    assert value(text) == expected


def test_multi_word_names_without_and_with_known_names(value):
    scope = {"Monthly Salary": D(1000), "Date-Time": D(2), "decision A 1": D(3)}
    assert value("Monthly Salary * 12", scope) == D(12000)
    assert value("Date-Time + 1", scope, known_names=["Date-Time"]) == D(3)
    assert value("decision A 1 + 1", scope, known_names=scope) == D(4)


def test_unknown_name_is_null_with_a_warning(feel):
    result, warnings = feel("missing + 1")
    assert result is None
    assert any("missing" in w for w in warnings)


def test_runtime_faults_are_null_with_warnings(feel):
    for text in ("1 / 0", '1 + "a"', "date(\"2018-13-01\")", "[1, 2][5]", "abs(\"x\")"):
        result, warnings = feel(text)
        assert result is None, text
        assert warnings, text


def test_python_functions_are_invocable_by_position_and_name(value):
    add = FeelFunction(["a", "b"], lambda a, b: a + b, name="add")
    assert value("add(1, 2)", {"add": add}) == D(3)
    assert value("add(b: 2, a: 5)", {"add": add}) == D(7)
    assert value("add(c: 1)", {"add": add}) is None


def test_feel_functions_are_callable_from_python(value):
    fn = value("function(x) x * 2")
    assert fn(D(4)) == D(8)


def test_scope_chains_and_type_resolver(value):
    root = Scope({"a": D(1)}, type_resolver=lambda name: (lambda v: v == D(1)) if name == "tOne" else None)
    child = root.child({"b": D(2)})
    assert compile_expression("a + b").evaluate(child) == D(3)
    assert compile_expression("a instance of tOne").evaluate(child) is True
    assert compile_expression("b instance of tOne").evaluate(child) is False
    assert compile_expression("b instance of tUnknown").evaluate(child) is False


def test_ranges_are_values():
    r = compile_expression("[1..10)").evaluate({})
    assert r == Range(D(1), D(10), True, False)
    assert compile_expression("> 5").evaluate({}) == Range(D(5), None, False, False)
    assert compile_expression("5 in (null..10]").evaluate({}) is None


def test_external_functions_are_refused_when_compiled():
    with pytest.raises(FeelSyntaxError, match="external functions"):
        compile_expression('function(x) external {java: {class: "java.lang.Math"}}')


@pytest.mark.parametrize("text, expected", [
    ("(=10) = [10..10]", False), ("(=10) = (=10)", True), ("(!=10) = (!=10)", True),
    ("(=10) = (!=10)", False), ("(=10).start included", True), ("(=10).start", D(10)),
    ("(=10).end", D(10)), ("(=10).end included", True), ("10 in (=10)", True),
    ("10 in (!=10)", False), ("[1, 2] in (=[1, 2])", True), ('string((=10))', "=10"),
    ("(< 10) = (< 10)", True),
])
def test_unary_test_ranges_as_values(value, text, expected):
    """DMN 1.5 writes a range as a unary test in parentheses: ``(=10)``, ``(!=10)``."""
    assert value(text) == expected
