"""Measure a probabilistic classifier on held-out rows: ranking, precision, calibration.

Plain numpy on purpose: these are a few lines each and pulling scikit-learn into the runtime
for them would add a large dependency to every deployment. Conventions follow scikit-learn's so
the figures compare: ROC AUC with tied scores counted as half (Mann-Whitney), PR AUC as average
precision (step-wise, no interpolation), Brier as the mean squared error of the probability.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


def roc_auc(label: np.ndarray, score: np.ndarray) -> float:
    """Probability that a random positive outranks a random negative (ties count half)."""
    label = np.asarray(label).astype(bool)
    score = np.asarray(score, dtype=np.float64)
    n_pos, n_neg = int(label.sum()), int((~label).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(score, kind="mergesort")
    sorted_scores = score[order]
    ranks = np.empty(len(score), dtype=np.float64)
    # Average ranks over runs of equal scores.
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_scores)) + 1]
    ends = np.r_[starts[1:], len(score)]
    avg = (starts + ends + 1) / 2.0
    ranks[order] = np.repeat(avg, ends - starts)
    return float((ranks[label].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def pr_auc(label: np.ndarray, score: np.ndarray) -> float:
    """Average precision: sum over thresholds of precision x recall gained."""
    label = np.asarray(label).astype(bool)
    score = np.asarray(score, dtype=np.float64)
    n_pos = int(label.sum())
    if n_pos == 0:
        return float("nan")
    order = np.argsort(-score, kind="mergesort")
    s, y = score[order], label[order]
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]     # last index of each distinct score
    tp = np.cumsum(y)[last]
    fp = (last + 1) - tp
    precision = tp / (tp + fp)
    recall = tp / n_pos
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def brier(label: np.ndarray, probability: np.ndarray) -> float:
    return float(np.mean((np.asarray(probability, dtype=np.float64) - np.asarray(label)) ** 2))


@dataclass(frozen=True)
class CalibrationBin:
    """One decile of predictions: how many rows, what was predicted, what happened."""

    decile: int
    count: int
    min_probability: float
    max_probability: float
    mean_probability: float
    observed_rate: float


def calibration_table(label: np.ndarray, probability: np.ndarray,
                      bins: int = 10) -> list[CalibrationBin]:
    """Split rows into equal-count deciles of predicted probability and compare with outcomes."""
    probability = np.asarray(probability, dtype=np.float64)
    label = np.asarray(label, dtype=np.float64)
    order = np.argsort(probability, kind="mergesort")
    table = []
    for i, idx in enumerate(np.array_split(order, bins), start=1):
        if len(idx) == 0:
            continue
        p = probability[idx]
        table.append(CalibrationBin(i, len(idx), round(float(p.min()), 4), round(float(p.max()), 4),
                                    round(float(p.mean()), 4), round(float(label[idx].mean()), 4)))
    return table


def expected_calibration_error(table: list[CalibrationBin]) -> float:
    """Count-weighted mean |predicted - observed| over the calibration bins."""
    total = sum(b.count for b in table)
    return float(sum(b.count * abs(b.mean_probability - b.observed_rate) for b in table) / total)


def evaluate(label: np.ndarray, probability: np.ndarray) -> dict:
    """All test-split figures recorded in a model's metadata, as plain JSON values."""
    table = calibration_table(label, probability)
    return {
        "roc_auc": round(roc_auc(label, probability), 4),
        "pr_auc": round(pr_auc(label, probability), 4),
        "brier": round(brier(label, probability), 4),
        "ece": round(expected_calibration_error(table), 4),
        "positive_rate": round(float(np.mean(label)), 4),
        "rows": int(len(label)),
        "calibration": [asdict(b) for b in table],
    }
