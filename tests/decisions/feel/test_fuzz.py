"""Fuzz the FEEL parser and evaluator with generated text (Hypothesis).

Whatever the text, compiling raises only ``FeelSyntaxError`` and evaluating returns a value (a
fault is null plus a warning) or raises ``BudgetExceeded``: never a crash, a ``RecursionError``
or any other exception. The evaluator's last-resort handlers ("evaluation of ... failed",
"function ... failed") turn an unexpected Python exception into null; the fuzz also fails when
one of them fires, because that is a bug of ours hidden as a warning, not a fault of the text.

Two generators: any text at all, and sequences of FEEL tokens (keywords, operators, literals,
built-in names, names in scope), which reach much deeper into the parser and the built-ins.
Examples are derandomized so that a run in CI is repeatable; the evaluation budget is small so
that the run stays short.
"""
from __future__ import annotations

import datetime
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.decisions.feel import (FeelSyntaxError, compile_expression, compile_unary_tests,
                                    to_feel)
from service.sandbox import BudgetExceeded, Limits, bounded

LIMITS = Limits(cpu_seconds=0.5, steps=200_000, max_items=20_000, max_string=200_000)
SCOPE = to_feel({"x": 5, "y": "abc", "l": [1, 2, 3], "ctx": {"a": 1, "b": [True, None]},
                 "d": datetime.date(2024, 2, 29), "s": "a" * 30 + "!"})

TOKENS = [
    "1", "0", "-1", "1.5", "1e3", ".5", "100000", '"a"', '""', '"x\\n"', '"\\u00e9"', "null",
    "true", "false", "x", "y", "l", "ctx", "d", "s", "item", "partial", "?", "a", "b",
    '@"2020-01-01"', '@"10:00:00"', '@"P1D"', '@"P1Y2M"', '@"2020-01-01T10:00:00@Europe/Paris"',
    "(", ")", "[", "]", "{", "}", ",", ":", ".", "..", "+", "-", "*", "/", "**", "=", "!=",
    "<", "<=", ">", ">=", "and", "or", "not", "in", "for", "return", "some", "every",
    "satisfies", "if", "then", "else", "between", "instance of", "function", "external",
    "number", "string", "list<number>", "context<a: number>", "date", "time", "duration",
    "date and time", "years and months duration", "count", "sum", "min", "max", "mean",
    "matches", "replace", "split", "substring", "string length", "upper case", "list contains",
    "sort", "flatten", "concatenate", "append", "distinct values", "union", "index of",
    "range", "string join", "get value", "get entries", "context put", "context merge",
    "is", "abs", "decimal", "floor", "ceiling", "round up", "modulo", "sqrt", "log", "exp",
    "median", "mode", "stddev", "product", "all", "any", "sublist", "insert before", "remove",
    "reverse", "now", "today", "day of week", "week of year", "before", "after", "overlaps",
    "includes", "coincides", "starts", "finishes", "met by", "string", "number", "not",
    '"^(a+)+$"', '"(a|aa)*b"', '"[a-z]"', '"$1$1$1"', '"i"', '"x"',
]

token_text = st.lists(st.sampled_from(TOKENS), min_size=1, max_size=40).map(" ".join)
any_text = st.text(max_size=120)
FUZZ = settings(max_examples=600, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])


def check_warnings(warnings: list, text: str) -> None:
    hidden = [w for w in warnings
              if str(w).startswith("evaluation of ") or " failed: " in str(w)
              and str(w).startswith("function ")]
    assert not hidden, f"an unexpected exception was hidden as a warning for {text!r}: {hidden}"


def compile_and_evaluate(text: str) -> None:
    try:
        expression = compile_expression(text)
    except FeelSyntaxError:
        return
    warnings: list = []
    try:
        with bounded(LIMITS):
            expression.evaluate(SCOPE, warnings=warnings)
    except BudgetExceeded:
        return
    check_warnings(warnings, text)


def compile_and_match(text: str) -> None:
    try:
        tests = compile_unary_tests(text)
    except FeelSyntaxError:
        return
    warnings: list = []
    try:
        with bounded(LIMITS):
            for value in (Decimal(5), "abc", None, [Decimal(1)], True):
                assert tests.matches(value, SCOPE, warnings=warnings) in (True, False)
    except BudgetExceeded:
        return
    check_warnings(warnings, text)


@FUZZ
@given(token_text)
def test_feel_token_sequences_compile_and_evaluate_safely(text):
    compile_and_evaluate(text)


@FUZZ
@given(any_text)
def test_any_text_compiles_and_evaluates_safely(text):
    compile_and_evaluate(text)


@FUZZ
@given(token_text)
def test_unary_tests_from_token_sequences_match_safely(text):
    compile_and_match(text)


@FUZZ
@given(st.integers(min_value=1, max_value=3000), st.sampled_from(["(", "[", "{a:", "-", "not(",
                                                                  "if x then", "x in ("]))
def test_deep_nesting_is_a_syntax_error_or_a_value(depth, opener):
    closer = {"(": ")", "[": "]", "{a:": "}", "-": "", "not(": ")", "if x then": " else 1",
              "x in (": ")"}[opener]
    compile_and_evaluate(opener * depth + "1" + closer * depth)
