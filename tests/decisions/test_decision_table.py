"""Decision tables: defaults, allowed values, multiple outputs, type checks, audit trace."""
from decimal import Decimal

from service.decisions import DecisionModel

from .dmn_factory import table_model


def test_default_output_entry_when_no_rule_matches():
    model = DecisionModel.parse(table_model(
        [(['"gold"'], ['"fast"', "1"])], inputs=[("tier", "string")],
        outputs=[("lane", "string"), ("rank", "number")], hit_policy="FIRST",
        defaults={"lane": '"normal"'}))
    assert model.evaluate("d", {"tier": "gold"}).value == {"lane": "fast", "rank": Decimal(1)}
    result = model.evaluate("d", {"tier": "bronze"})
    assert result.value == {"lane": "normal", "rank": None}
    assert result.matched_rules == {"t": []}


def test_input_value_outside_input_values_is_null_with_warning():
    model = DecisionModel.parse(table_model(
        [(['"gold"'], ['"fast"']), (["-"], ['"slow"'])], inputs=[("tier", "string")],
        outputs=[("lane", "string")], hit_policy="FIRST",
        input_values={"tier": '"gold","silver"'}))
    assert model.evaluate("d", {"tier": "silver"}).value == "slow"
    result = model.evaluate("d", {"tier": "platinum"})
    assert result.value is None
    assert any("input values" in w for w in result.warnings)


def test_output_value_outside_output_values_is_null_with_warning():
    model = DecisionModel.parse(table_model(
        [(["-"], ['"maybe"'])], inputs=[("x", "number")], outputs=[("answer", "string")],
        output_values={"answer": '"yes","no"'}))
    result = model.evaluate("d", {"x": 1})
    assert result.value is None
    assert any("output values" in w for w in result.warnings)


def test_output_of_the_wrong_type_is_null_with_warning():
    model = DecisionModel.parse(table_model(
        [(["-"], ["42"])], inputs=[("x", "number")], outputs=[("label", "string")]))
    result = model.evaluate("d", {"x": 1})
    assert result.value is None
    assert any("does not conform" in w for w in result.warnings)


def test_input_data_type_coercion_singleton_list_to_element():
    model = DecisionModel.parse(table_model(
        [(["> 10"], ['"big"']), (["<= 10"], ['"small"'])], inputs=[("n", "number")],
        outputs=[("size", "string")]))
    assert model.evaluate("d", {"n": [Decimal(12)]}).value == "big"
    wrong = model.evaluate("d", {"n": "twelve"})
    assert wrong.value is None and wrong.inputs == {"n": None}


def test_cells_with_lists_ranges_negation_and_names():
    model = DecisionModel.parse(table_model(
        [(['"a","b"', "[1..5)"], ['"first"']),
         (['not("a","b")', "> limit"], ['"second"']),
         (["-", "-"], ['"other"'])],
        inputs=[("code", "string"), ("n", "number")], outputs=[("r", "string")],
        hit_policy="FIRST").replace(
            "</definitions>", '<inputData id="in_limit" name="limit">'
            '<variable name="limit" typeRef="number"/></inputData></definitions>').replace(
            '<decisionTable', '<informationRequirement><requiredInput href="#in_limit"/>'
            '</informationRequirement><decisionTable'))
    assert model.evaluate("d", {"code": "b", "n": 4, "limit": 9}).value == "first"
    assert model.evaluate("d", {"code": "b", "n": 5, "limit": 9}).value == "other"
    assert model.evaluate("d", {"code": "z", "n": 10, "limit": 9}).value == "second"
    assert model.evaluate("d", {"code": "z", "n": 10, "limit": 11}).value == "other"


def test_matched_rules_carry_rule_id_and_row():
    model = DecisionModel.parse(table_model(
        [(["< 0"], ['"neg"']), ([">= 0"], ['"pos"'])], inputs=[("n", "number")],
        outputs=[("sign", "string")]))
    result = model.evaluate("d", {"n": 3})
    assert result.matched_rules == {"t": [{"rule_id": "r2", "row": 2}]}
    assert result.inputs == {"n": Decimal(3)}
