"""The decision-table shortcuts answer exactly what FEEL answers for the same cell."""
import datetime
from decimal import Decimal

import pytest

from service.decisions import DecisionModel
from service.decisions.feel import Scope, compile_expression, compile_unary_tests
from service.decisions.table_cells import (IntervalIndex, NameRef, NumericTest, free_names,
                                           index_key, literal_values)

from .dmn_factory import table_model

VALUES = [Decimal(-1), Decimal(0), Decimal("4.99"), Decimal(5), Decimal("5.0"), Decimal(10),
          Decimal("10.01"), None, "5", True, datetime.date(2024, 1, 1), [Decimal(5)]]
NUMERIC_CELLS = ["< 5", "<= 5", "> 5", ">= 5", "[0..10]", "(0..10)", "]0..10[", "[0..10)",
                 "(0..10]", "[-1..4.99]", ">= -1"]


@pytest.mark.parametrize("text", NUMERIC_CELLS)
def test_numeric_shortcut_agrees_with_feel(text):
    fast, feel = NumericTest.parse(text), compile_unary_tests(text)
    assert fast is not None
    for value in VALUES:
        assert fast.matches(value) == feel.matches(value, None), (text, value)


@pytest.mark.parametrize("text", ['"a"', '"a","b"', "5", "5, 6", "false", "-2.5", "true",
                                  '"a", true'])
def test_literal_column_agrees_with_feel(text):
    """A one-column table whose only rule is this cell matches exactly when FEEL does."""
    model = DecisionModel.parse(table_model([([text], ['"hit"'])], inputs=[("v", "Any")],
                                            outputs=[("r", "string")], hit_policy="FIRST"))
    feel = compile_unary_tests(text)
    for value in VALUES + ["a", "b", Decimal(6), False, Decimal("-2.50")]:
        matched = model.evaluate("d", {"v": value}).value == "hit"
        assert matched == feel.matches(value, None), (text, value)
    assert {index_key(v) for v in literal_values(text)}


def test_not_shortcut_cells():
    assert NumericTest.parse("not(5)") is None and literal_values("< 5") is None
    assert literal_values('"a\\"b"') is None  # escapes go through FEEL


def test_name_ref_falls_back_to_feel_for_names_not_in_scope():
    ref = NameRef.parse("count", compile_expression("count"))
    assert ref.evaluate(Scope({"count": Decimal(3)})) == Decimal(3)
    assert callable(ref.evaluate(Scope({}))) or ref.evaluate(Scope({})) is not None
    assert NameRef.parse("a + b", None) is None and NameRef.parse("true", None) is None


def test_free_names_of_input_expressions():
    assert free_names('abs(gap) * unit_cost + order.value + string length(sku) + "a b"') == \
        ["gap", "unit_cost", "order", "sku"]
    assert free_names("flag = true") == ["flag"]


def test_interval_index_agrees_with_each_numeric_test():
    tests = [(NumericTest.parse(text), 1 << i) for i, text in enumerate(NUMERIC_CELLS)]
    index = IntervalIndex.build(tests)
    probes = [Decimal(x) / 4 for x in range(-12, 60)] + [Decimal("4.99"), Decimal("-1"),
                                                         Decimal("Infinity"), Decimal("-1E+9")]
    for value in probes:
        expected = 0
        for test, bit in tests:
            if test.matches(value):
                expected |= bit
        assert index.lookup(value) == expected, value


SHIPPED_MAX_BITS = IntervalIndex.MAX_BITS


@pytest.mark.parametrize("max_bits", [SHIPPED_MAX_BITS, 64, 1])
def test_interval_index_with_sparse_masks_agrees_with_each_test(max_bits, monkeypatch):
    """A huge column keeps only every step-th slot's mask; lookups must not change."""
    monkeypatch.setattr(IntervalIndex, "MAX_BITS", max_bits)
    cells = [f"[{n}..{n + 7})" if n % 3 else f"> {n}" if n % 2 else f"<= {n}"
             for n in range(0, 120, 4)] + NUMERIC_CELLS
    tests = [(NumericTest.parse(text), 1 << i) for i, text in enumerate(cells)]
    index = IntervalIndex.build(tests)
    assert (index.step > 1) == (max_bits < SHIPPED_MAX_BITS)
    for value in [Decimal(x) / 2 for x in range(-10, 260)]:
        expected = 0
        for test, bit in tests:
            if test.matches(value):
                expected |= bit
        assert index.lookup(value) == expected, value
