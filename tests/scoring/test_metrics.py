import numpy as np
import pytest

from scoring import metrics


def test_roc_auc_matches_hand_computed_values():
    assert metrics.roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
    assert metrics.roc_auc([0, 1], [0.5, 0.5]) == 0.5           # a tie counts half
    assert metrics.roc_auc([1, 0, 1], [0.9, 0.1, 0.8]) == 1.0
    assert np.isnan(metrics.roc_auc([1, 1], [0.2, 0.3]))


def test_pr_auc_is_average_precision():
    # Ranked: 1 (p=1), 0, 1 (p=2/3) -> AP = 0.5*1 + 0.5*2/3
    assert metrics.pr_auc([1, 0, 1], [0.9, 0.8, 0.7]) == pytest.approx(0.5 + 1 / 3)
    assert metrics.pr_auc([0, 1], [0.1, 0.9]) == 1.0


def test_brier_and_calibration_of_a_calibrated_forecaster():
    rng = np.random.default_rng(0)
    p = rng.random(50_000)
    y = (rng.random(50_000) < p).astype(int)
    assert metrics.brier(y, p) == pytest.approx(1 / 6, abs=0.01)   # E[p(1-p)] for uniform p
    table = metrics.calibration_table(y, p)
    assert len(table) == 10 and sum(b.count for b in table) == 50_000
    assert all(abs(b.mean_probability - b.observed_rate) < 0.02 for b in table)
    assert metrics.expected_calibration_error(table) < 0.01
    assert metrics.expected_calibration_error(metrics.calibration_table(y, p ** 2)) > 0.1


def test_evaluate_reports_every_recorded_figure():
    report = metrics.evaluate(np.array([0, 1, 0, 1] * 5), np.linspace(0.05, 0.95, 20))
    assert {"roc_auc", "pr_auc", "brier", "ece", "calibration", "rows"} <= set(report)
