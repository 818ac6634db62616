import numpy as np

from scoring import drift
from scoring.catalog import SPECS
from scoring.synthetic import generate

NAME = "escalation_risk"
SCHEMA = SPECS[NAME].schema


def _rows(data, n):
    return [{k: (v[i].item() if hasattr(v[i], "item") else v[i]) for k, v in data.columns.items()}
            for i in range(n)]


def test_psi_is_small_for_the_same_population_and_large_for_a_shifted_one():
    base_data = generate(NAME, 5000, 1)
    scores = np.random.default_rng(0).beta(2, 5, 5000)
    base = drift.baseline(SCHEMA, base_data.columns, scores)
    same = generate(NAME, 1000, 2)
    report = drift.report(NAME, 1, base, _rows(same, 1000),
                          np.random.default_rng(1).beta(2, 5, 1000))
    assert max(report.features.values()) < 0.1 and report.score < 0.1
    assert report.alerts == []
    shifted = _rows(same, 1000)
    for row in shifted:
        row["order_value"] *= 3
        row["reason"] = "damaged"
    report = drift.report(NAME, 1, base, shifted, np.random.default_rng(1).beta(5, 2, 1000))
    assert set(report.alerts) == {"order_value", "reason", "score"}
    assert report.features["order_value"] > drift.ALERT_PSI


def test_psi_basics_and_small_windows():
    assert drift.psi([0.5, 0.5], [0.5, 0.5]) == 0
    assert drift.psi([0.5, 0.5], [1.0, 0.0]) > 1      # an emptied bin is finite, and large
    base = drift.baseline(SCHEMA, generate(NAME, 500, 1).columns, np.linspace(0, 1, 500))
    thin = drift.report(NAME, 1, base, [], [0.9] * 10)
    assert not thin.enough_data and thin.alerts == []
