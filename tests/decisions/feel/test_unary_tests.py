"""Decision-table input entries: positive tests, negation, ranges and the ``?`` input."""
from datetime import date
from decimal import Decimal as D

import pytest

from service.decisions.feel import compile_unary_tests


@pytest.mark.parametrize("entry, value, expected", [
    ("-", D(5), True),
    ("-", None, True),
    ("< 100", D(99), True),
    ("< 100", D(100), False),
    ("< 100", "x", False),
    ("< 100", None, False),
    ('"gold"', "gold", True),
    ('"gold", "silver"', "silver", True),
    ('"gold"', "bronze", False),
    ("[1..10]", D(10), True),
    ("(1..10]", D(1), False),
    (">= 5", D(5), True),
    ('not("gold", "silver")', "bronze", True),
    ('not("gold", "silver")', "gold", False),
    ("not(< 5)", None, False),
    ("? > 3 and ? < 6", D(4), True),
    ("? > 3 and ? < 6", D(8), False),
    ("[1, 2, 3]", D(2), True),
    ("null", None, True),
    ("true", True, True),
    ("false", True, False),
    ('>= date("2020-01-01")', date(2020, 5, 1), True),
    ("x", D(3), True),
    ("> x", D(3), False),
])
def test_matches(entry, value, expected):
    assert compile_unary_tests(entry).matches(value, {"x": D(3)}) is expected


def test_boolean_expression_counts_as_the_result_for_non_boolean_input():
    entry = compile_unary_tests("x > 2")
    assert entry.matches(D(100), {"x": D(3)}) is True
    assert entry.matches(D(100), {"x": D(1)}) is False


def test_warnings_are_collected():
    warnings: list = []
    assert compile_unary_tests("> missing").matches(D(1), {}, warnings=warnings) is False
    assert warnings
