import pytest

from scoring import features_from_case
from service.errors import FeatureInvalid


def test_paths_constants_and_missing_values():
    data = {"order": {"value": 120.5, "lines": [{"sku": "A"}]}, "tier": "gold"}
    mapping = {"order_value": "order.value", "customer_tier": "tier", "sku": "order.lines.0.sku",
               "channel": {"const": "web"}, "order_weekday": 2,
               "prior_contacts_90d": {"path": "crm.contacts", "default": 0},
               "margin": {"path": "order.value", "default": 0}}
    assert features_from_case(mapping, data) == {
        "order_value": 120.5, "customer_tier": "gold", "sku": "A", "channel": "web",
        "order_weekday": 2, "prior_contacts_90d": 0, "margin": 120.5}
    with pytest.raises(FeatureInvalid) as err:
        features_from_case({"days_late": "order.days_late"}, data)
    assert err.value.status == 422 and err.value.extra["feature"] == "days_late"


def test_shipped_case_types_map_exactly_their_models_features():
    """A case type whose mapping drifts from its model's schema would 422 every intake."""
    import json

    from scoring.catalog import SPECS
    from service.config import ROOT
    found = 0
    for path in sorted((ROOT / "bpmn").glob("*.case.json")):
        scoring = json.loads(path.read_text()).get("scoring")
        if scoring:
            found += 1
            assert set(scoring["features"]) == set(SPECS[scoring["model"]].schema.names), path
    assert found >= 1
