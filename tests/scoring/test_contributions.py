"""TreeSHAP of one row through XGBoost's C API (``scoring.contributions``) gives the floats the
Python wrapper gives, on every shipped model, over rows of each model's own history."""
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

from scoring import contributions
from scoring.catalog import SPECS
from scoring.serving import Scorer
from scoring.synthetic import generate

SHIPPED = Path(__file__).resolve().parents[2] / "scoring" / "models"


@pytest.fixture
def shipped_models_dir():
    assert contributions.AVAILABLE, "the installed xgboost does not expose its C library"
    return SHIPPED


@pytest.mark.parametrize("name", sorted(SPECS))
def test_the_c_api_gives_the_wrappers_contributions_on_shipped_models(name, shipped_models_dir):
    model = Scorer(shipped_models_dir).load(name, 1)
    schema = model.meta.feature_schema
    history = generate(name, 200, seed=5)
    matrix = schema.matrix(history.columns)
    for row in matrix:
        one = row.reshape(1, -1)
        expected = model.booster.predict(xgb.DMatrix(one, nthread=1), pred_contribs=True,
                                         validate_features=False)[0]
        got = contributions.of_row(model.booster, one)
        assert got.dtype == expected.dtype and got.shape == (len(schema.names) + 1,)
        assert np.array_equal(got, expected)


def test_a_missing_value_is_treated_as_the_wrapper_treats_it(shipped_models_dir):
    model = Scorer(shipped_models_dir).load("escalation_risk", 1)
    row = np.full((1, len(model.meta.feature_schema.names)), np.nan, dtype=np.float32)
    expected = model.booster.predict(xgb.DMatrix(row, nthread=1), pred_contribs=True,
                                     validate_features=False)[0]
    assert np.array_equal(contributions.of_row(model.booster, row), expected)


def test_more_than_one_row_is_refused(shipped_models_dir):
    model = Scorer(shipped_models_dir).load("escalation_risk", 1)
    with pytest.raises(ValueError, match="one row"):
        contributions.of_row(model.booster, np.zeros((2, 9), dtype=np.float32))
