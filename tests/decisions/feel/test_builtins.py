"""The built-in function library, including named parameters and null results."""
from decimal import Decimal as D

import pytest

from service.decisions.feel import BUILTINS, Range


@pytest.mark.parametrize("text, expected", [
    ('substring(string: "abc", start position: 2)', "bc"),
    ('substring("foobar", -2, 1)', "a"),
    ('string length("tést")', D(4)),
    ('upper case("a")', "A"),
    ('substring before("foobar", "bar")', "foo"),
    ('substring after("foobar", "ob")', "ar"),
    ('replace("abcd", "(ab)|(a)", "[1=$1][2=$2]")', "[1=ab][2=]cd"),
    ('replace("Abc", "b", "X", "i")', "AXc"),
    ('matches("Mary\\u000DJones", "Mary.Jones")', False),
    ('matches("abc", "B", "i")', True),
    ('split("a1b22c", "[0-9]+")', ["a", "b", "c"]),
    ('string join(["a", null, "c"], "-")', "a-c"),
    ('contains("abc", "b") and starts with("abc", "a") and ends with("abc", "c")', True),
    ('list contains([1, null], null)', True),
    ("count([1, 2, 3])", D(3)),
    ("min(3, 1, 2)", D(1)),
    ("max([1, 3, 2])", D(3)),
    ("sum([1, 2, 3])", D(6)),
    ("mean(1, 2, 3)", D(2)),
    ("median([1, 2, 3, 4])", D("2.5")),
    ("mode([1, 2, 2, 3])", [D(2)]),
    ("product(2, 3)", D(6)),
    ("all([true, null])", None),
    ("any([false, true])", True),
    ("sublist([1, 2, 3], 2)", [D(2), D(3)]),
    ("append([1], 2, 3)", [D(1), D(2), D(3)]),
    ("concatenate([1], [2])", [D(1), D(2)]),
    ("insert before([1, 3], 2, 2)", [D(1), D(2), D(3)]),
    ("remove([1, 2], 1)", [D(2)]),
    ("reverse([1, 2])", [D(2), D(1)]),
    ("index of([1, 2, 1], 1)", [D(1), D(3)]),
    ("union([1, 2], [2, 3])", [D(1), D(2), D(3)]),
    ("distinct values([1, 1.0, 2])", [D(1), D(2)]),
    ("flatten([1, [2, [3]]])", [D(1), D(2), D(3)]),
    ("sort([3, 1, 2])", [D(1), D(2), D(3)]),
    ("sort(list: [1, 3, 2], precedes: function(x, y) x > y)", [D(3), D(2), D(1)]),
    ("list replace([1, 2, 3], 2, 9)", [D(1), D(9), D(3)]),
    ("decimal(2.5, 0)", D(2)),
    ("floor(-1.5)", D(-2)),
    ("ceiling(1.234, 2)", D("1.24")),
    ("round half up(2.5)", D(3)),
    ("round half down(2.5)", D(2)),
    ("round up(-1.1)", D(-2)),
    ("round down(-1.9)", D(-1)),
    ("floor(1.56, null)", None),
    ("abs(-2)", D(2)),
    ("modulo(-12, 5)", D(3)),
    ("sqrt(16)", D(4)),
    ("odd(3) and even(4)", True),
    ('number("1,000.5", ",", ".")', D("1000.5")),
    ("string(1.10)", "1.1"),
    ('string([1, "a"])', '[1, "a"]'),
    ("not(true)", False),
    ('get value({a: 1}, "a")', D(1)),
    ("get entries({a: 1})", [{"key": "a", "value": D(1)}]),
    ('context([{key: "a", value: 1}])', {"a": D(1)}),
    ('context put({a: 1}, "b", 2)', {"a": D(1), "b": D(2)}),
    ('context put({a: {b: 1}}, ["a", "b"], 2)', {"a": {"b": D(2)}}),
    ("context merge([{a: 1}, {a: 2, b: 3}])", {"a": D(2), "b": D(3)}),
    ("before(1, [2..3])", True),
    ("after([5..6], 4)", True),
    ("meets([1..5], [5..8])", True),
    ("overlaps([1..5], [4..8])", True),
    ("includes([1..10], [2..3])", True),
    ("during(5, [1..10])", True),
    ("starts(1, [1..5])", True),
    ("finishes(5, [1..5])", True),
    ("coincides([1..2], [1..2])", True),
    ('range("[1..3)")', Range(D(1), D(3), True, False)),
    ('range("[3..1]")', None),
    ("abs()", None),
    ("abs(1, 2)", None),
    ("abs(number: 1)", None),
])
def test_builtin_results(value, text, expected):
    assert value(text) == expected


def test_every_builtin_is_a_named_feel_function():
    for name, fn in BUILTINS.items():
        assert fn.name == name
    for name in ("date and time", "years and months duration", "string join", "week of year"):
        assert name in BUILTINS


def test_today_and_now(value):
    assert value("today() instance of date") is True
    assert value("now() instance of date and time") is True
