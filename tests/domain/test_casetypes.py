"""Case-type schemas are analysts' content: their regular expressions are bounded."""
import pytest

from service.domain.casetypes import validate
from service.errors import ValidationFailed

CATASTROPHIC = r"^(a|aa)+$"        # exponential backtracking, in `re` and in `regex` alike


def _schema(pattern):
    return {"type": "object", "properties": {"code": {"type": "string", "pattern": pattern}},
            "patternProperties": {pattern: {"type": "number"}}}


def test_a_backtracking_pattern_is_stopped_with_a_reason():
    with pytest.raises(ValidationFailed) as caught:
        validate(_schema(CATASTROPHIC), {"code": "a" * 40 + "!"})
    # The message says the match was stopped (it would run for minutes), not that it failed.
    assert "took too long" in caught.value.detail and caught.value.extra["field"] == "code"


def test_pattern_properties_are_bounded_too():
    with pytest.raises(ValidationFailed) as caught:
        validate(_schema(CATASTROPHIC), {"a" * 40 + "!": 1})
    assert "took too long" in caught.value.detail


def test_ordinary_patterns_still_validate():
    schema = {"type": "object", "properties": {"sku": {"type": "string",
                                                       "pattern": "^SKU-[0-9]+$"}}}
    validate(schema, {"sku": "SKU-12"})
    with pytest.raises(ValidationFailed) as caught:
        validate(schema, {"sku": "12"})
    assert caught.value.extra["field"] == "sku" and "does not match" in caught.value.detail


@pytest.mark.parametrize("number", ["1e309", "-1e400", "1" + "0" * 30])
def test_analysts_json_with_numbers_no_float_can_hold_is_refused(number):
    """A rules file with ``"keep": 1e309`` was a 500 at deploy (found by the deploy fuzz)."""
    from service.domain.casetypes import load_json
    from service.errors import DefinitionInvalid
    with pytest.raises(DefinitionInvalid) as caught:
        load_json("rules.json", f'{{"keep": {number}}}'.encode())
    assert "too large" in caught.value.detail and caught.value.extra["file"] == "rules.json"
