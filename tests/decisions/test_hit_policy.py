"""Every hit policy, on real DMN decision tables."""
from decimal import Decimal

import pytest

from service.decisions import DecisionModel

from .dmn_factory import table_model

SCORES = [  # (score range, grade, points)
    ([">= 90"], ['"A"', "3"]),
    ([">= 80"], ['"B"', "2"]),
    ([">= 50"], ['"C"', "1"]),
    (["< 50"], ['"F"', "0"]),
]


def grades(policy: str, aggregation: str | None = None, single: bool = False) -> DecisionModel:
    outputs = [("grade", "string"), ("points", "number")]
    rules = SCORES
    if single:
        outputs = [("points", "number")]
        rules = [(ins, outs[1:]) for ins, outs in SCORES]
    return DecisionModel.parse(table_model(
        rules, inputs=[("score", "number")], outputs=outputs, hit_policy=policy,
        aggregation=aggregation,
        output_values={"grade": '"F","C","B","A"', "points": "0,1,2,3"}))


def test_unique_single_match_and_overlap_is_null_with_warning():
    model = DecisionModel.parse(table_model(
        [(["< 10"], ['"small"']), (["[10..20]"], ['"medium"']), (["> 15"], ['"large"'])],
        inputs=[("size", "number")], outputs=[("label", "string")], hit_policy="UNIQUE"))
    assert model.evaluate("d", {"size": 5}).value == "small"
    overlap = model.evaluate("d", {"size": 18})
    assert overlap.value is None
    assert any("UNIQUE" in w for w in overlap.warnings)
    assert [r["row"] for r in overlap.matched_rules["t"]] == [2, 3]


def test_any_agreeing_rules_and_disagreeing_rules():
    model = DecisionModel.parse(table_model(
        [(["> 0"], ['"ok"']), (["> 5"], ['"ok"']), (["> 10"], ['"no"'])],
        inputs=[("n", "number")], outputs=[("r", "string")], hit_policy="ANY"))
    assert model.evaluate("d", {"n": 7}).value == "ok"
    assert model.evaluate("d", {"n": 11}).value is None


def test_first_returns_first_matching_rule_in_order():
    result = grades("FIRST").evaluate("d", {"score": 95})
    assert result.value == {"grade": "A", "points": Decimal(3)}
    assert result.matched_rules == {"t": [{"rule_id": "r1", "row": 1}]}


def test_priority_picks_highest_output_value_order():
    # outputValues list F first, so F outranks everything that matches
    assert grades("PRIORITY").evaluate("d", {"score": 95}).value["grade"] == "C"


def test_output_order_sorts_by_output_values():
    value = grades("OUTPUT ORDER").evaluate("d", {"score": 95}).value
    assert [v["grade"] for v in value] == ["C", "B", "A"]


def test_rule_order_and_collect_list_all_matches():
    assert [v["grade"] for v in grades("RULE ORDER").evaluate("d", {"score": 95}).value] == \
        ["A", "B", "C"]
    assert grades("COLLECT", single=True).evaluate("d", {"score": 85}).value == \
        [Decimal(2), Decimal(1)]


@pytest.mark.parametrize("policy, expected", [
    ("C+", Decimal(6)), ("C<", Decimal(1)), ("C>", Decimal(3)), ("C#", Decimal(3)),
])
def test_collect_shorthand_aggregations(policy, expected):
    assert grades(policy, single=True).evaluate("d", {"score": 99}).value == expected


@pytest.mark.parametrize("aggregation, expected", [
    ("SUM", Decimal(3)), ("MIN", Decimal(1)), ("MAX", Decimal(2)), ("COUNT", Decimal(2)),
])
def test_collect_aggregation_attribute(aggregation, expected):
    model = grades("COLLECT", aggregation=aggregation, single=True)
    assert model.evaluate("d", {"score": 85}).value == expected


def test_no_match_gives_null_for_single_hit_and_empty_list_for_collect():
    model = DecisionModel.parse(table_model(
        [(["> 100"], ["1"])], inputs=[("n", "number")], outputs=[("r", "number")],
        hit_policy="COLLECT"))
    assert model.evaluate("d", {"n": 1}).value == []
    assert grades("FIRST").evaluate("d", {"score": None}).value is None
