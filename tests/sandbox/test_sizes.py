"""Sizing a value's text without writing it: shared parts count as often as they are written,
are walked once, and the walk stops at the limit."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from service.sandbox import BudgetExceeded, Limits, bounded
from service.sandbox.sizes import MAX_DEPTH, check_storable, text_size


def test_the_estimate_follows_the_json_length_of_ordinary_data():
    value = {"order_id": "A-1", "lines": [{"sku": f"S{i}", "qty": i, "price": 9.5} for i in range(50)],
             "when": dt.date(2024, 5, 1), "ok": True, "note": None}
    estimate = text_size(value, 10**6)
    actual = len(json.dumps(value, default=str))
    assert actual * 0.5 < estimate < actual * 1.5


def test_shared_parts_are_counted_as_written_but_walked_once():
    a = list(range(1000))
    b = [a] * 100
    assert text_size(b, 10**7) >= 100 * text_size(a, 10**7)
    huge = [[a] * 1000] * 1000                     # a billion numbers written out
    with bounded(Limits(steps=10_000)):            # a few thousand nodes walked, not a billion
        with pytest.raises(BudgetExceeded) as info:
            text_size(huge, 1_000_000, "variable 'huge'")
    assert info.value.kind == "size" and "variable 'huge'" in info.value.message


def test_depth_cycles_and_non_json_values_are_refused():
    deep: list = []
    for _ in range(MAX_DEPTH + 1):
        deep = [deep]
    with pytest.raises(BudgetExceeded, match="nested more than"):
        text_size(deep, 10**6)
    loop: list = []
    loop.append(loop)
    with pytest.raises(ValueError, match="contains itself"):
        text_size(loop, 10**6)
    for value in (b"raw", float("nan"), {1, 2}, 10**5000):
        with pytest.raises(ValueError, match="cannot be stored"):
            check_storable("x", value, 10**6)
    assert check_storable("x", {"at": dt.datetime(2024, 1, 1)}, 100) > 0


def test_the_walk_is_charged_to_the_budget():
    with bounded(Limits(steps=1000)):
        with pytest.raises(BudgetExceeded) as info:
            text_size([[0] * 600, [1] * 600], 10**7)
    assert info.value.kind == "steps"
