"""The shared budget: steps, sizes, CPU time, nesting, and regexes that cannot run away."""
from __future__ import annotations

import pytest

from service.sandbox import (BudgetExceeded, Limits, bounded, check_size, current, ensure,
                             regex, tick)


def test_steps_and_sizes_are_refused_past_the_limits():
    with bounded(Limits(steps=100, max_items=10, max_string=20)):
        check_size(10)
        check_size(20, "string")
        with pytest.raises(BudgetExceeded) as too_big:
            check_size(11)
        assert too_big.value.kind == "size"
        with pytest.raises(BudgetExceeded) as too_long:
            tick(200)
        assert too_long.value.kind == "steps"


def test_cpu_time_is_checked_as_steps_are_taken():
    with bounded(Limits(cpu_seconds=0.05, steps=10**12)), pytest.raises(BudgetExceeded) as spent:
        while True:
            sum(range(100))
            tick()
    assert spent.value.kind == "cpu"


def test_a_nested_block_never_extends_the_outer_budget():
    with bounded(Limits(steps=1000)) as outer:
        with bounded(Limits(steps=10**9)) as inner:
            assert inner.steps_left == 1000
            assert inner.deadline <= outer.deadline
            tick(600)
        assert outer.steps_left == 400
        with pytest.raises(BudgetExceeded):
            tick(500)


def test_ensure_joins_an_open_block_and_opens_one_otherwise():
    with bounded(Limits(steps=50)) as outer, ensure() as joined:
        assert joined is outer
    with ensure() as opened:
        assert current() is opened
        # the clock of a block ensure() opens starts at its first step: most evaluations
        # take none, and reading the thread's CPU clock is most of what opening one costs
        assert opened.deadline is None
        tick()
        assert opened.deadline is not None
    assert current() is not opened


def test_catastrophic_backtracking_times_out_within_the_budget():
    compiled = regex.compile(r"(a|aa)+\1c")  # the regex module's optimisations do not help here
    with bounded(Limits(cpu_seconds=0.1)), pytest.raises(BudgetExceeded) as slow:
        regex.search(compiled, "a" * 30)
    assert slow.value.kind == "cpu"


def test_a_replacement_cannot_outgrow_the_string_limit():
    compiled = regex.compile("a")
    with bounded(Limits(max_string=1000)):
        assert regex.sub(compiled, "bb", "a" * 400) == "b" * 800
        assert regex.sub(compiled, lambda m: "<" + m.group(0) + ">", "xa") == "x<a>"
        with pytest.raises(BudgetExceeded) as grown:
            regex.sub(compiled, r"\g<0>\g<0>\g<0>", "a" * 400)
    assert grown.value.kind == "size"
