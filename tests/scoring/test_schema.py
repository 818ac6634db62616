import numpy as np
import pytest

from scoring.catalog import ESCALATION, SPECS
from service.errors import FeatureInvalid

SCHEMA = ESCALATION.schema


def test_vector_is_built_by_name_in_the_schema_order(escalation_features):
    reordered = dict(reversed(list(escalation_features.items())))
    a, b = SCHEMA.vector(escalation_features), SCHEMA.vector(reordered)
    assert np.array_equal(a, b)
    assert a.shape == (1, len(SCHEMA))
    assert a[0, SCHEMA.names.index("reason")] == SCHEMA["reason"].levels.index("late_shipment")
    assert a[0, SCHEMA.names.index("order_value")] == 250.0


@pytest.mark.parametrize("change, feature", [
    ({"days_late": None}, "days_late"),
    ({"order_value": -1.0}, "order_value"),
    ({"margin": 1.5}, "margin"),
    ({"reason": "lost_in_space"}, "reason"),
    ({"order_value": "250"}, "order_value"),
    ({"order_value": True}, "order_value"),
    ({"order_value": float("nan")}, "order_value"),
    ({"prior_contacts_90d": 1.5}, "prior_contacts_90d"),
    ({"surprise": 1}, "surprise"),
])
def test_invalid_features_are_422_naming_the_feature(escalation_features, change, feature):
    values = {**escalation_features, **change}
    if change.get(feature, 0) is None:
        del values[feature]
    with pytest.raises(FeatureInvalid) as err:
        SCHEMA.vector(values)
    assert err.value.status == 422
    assert err.value.extra["feature"] == feature
    assert feature in err.value.detail


def test_reordered_or_missing_columns_are_refused():
    names = list(SCHEMA.names)
    SCHEMA.require_names(names)
    swapped = names[:]
    swapped[0], swapped[1] = swapped[1], swapped[0]
    with pytest.raises(FeatureInvalid) as err:
        SCHEMA.require_names(swapped)
    assert err.value.extra["feature"] == names[0]
    with pytest.raises(FeatureInvalid) as err:
        SCHEMA.require_names(names[:-1])
    assert err.value.extra["feature"] == names[-1]
    with pytest.raises(FeatureInvalid):
        SCHEMA.require_names(names + ["extra"])


@pytest.mark.parametrize("name", sorted(SPECS))
def test_schema_round_trips_through_json(name):
    schema = SPECS[name].schema
    assert type(schema).from_json(schema.to_json()) == schema
    for doc in schema.to_json():
        assert {"name", "type", "min", "max", "levels", "unit"} <= set(doc)
