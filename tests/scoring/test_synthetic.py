import numpy as np
import pytest

from scoring.catalog import SPECS
from scoring.synthetic import WorldParameters, generate


@pytest.mark.parametrize("name", sorted(SPECS))
def test_generator_is_reproducible_and_within_the_schema(name, histories):
    data = histories[name]
    again = generate(name, len(data), 11)
    schema = SPECS[name].schema
    assert data.sha256(schema) == again.sha256(schema)
    assert generate(name, 500, 12).sha256(schema) != generate(name, 500, 11).sha256(schema)
    assert np.all(np.diff(data.at.astype(np.int64)) >= 0)
    for feature in schema.features:
        for value in data.columns[feature.name][:500]:
            feature.check(value.item() if hasattr(value, "item") else value)
    assert 0.05 < data.label.mean() < 0.6


@pytest.mark.parametrize("name", sorted(SPECS))
def test_no_feature_leaks_the_label(name, histories):
    data = histories[name]
    matrix = SPECS[name].schema.matrix(data.columns)
    for j, feature in enumerate(SPECS[name].schema.names):
        corr = np.corrcoef(matrix[:, j], data.label)[0, 1]
        assert abs(corr) < 0.8, feature


def test_label_noise_is_a_parameter():
    clean = generate("escalation_risk", 3000, 1, WorldParameters(label_noise=0.0))
    noisy = generate("escalation_risk", 3000, 1, WorldParameters(label_noise=0.5))
    from scoring.metrics import roc_auc
    assert roc_auc(clean.label, clean.oracle) > 0.65
    assert abs(roc_auc(noisy.label, noisy.oracle) - 0.5) < 0.05
