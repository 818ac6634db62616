"""Compare what a model sees in service with what it was trained on: population stability.

At training time each feature (and the score) is summarised as a histogram — ten quantile bins
for numbers, one bin per level for categories and booleans — stored in the model's metadata as
the *baseline*. In service, the same bins are filled from a recent window of scored cases and
the population stability index is computed per feature:

    PSI = sum over bins of (actual - expected) * ln(actual / expected)

Rule of thumb used by credit-risk teams and adopted here: below 0.1 stable, 0.1-0.2 drifting,
above 0.2 shifted (``ALERT_PSI``) — the caller writes an audit alert for each such feature.
Empty bins are floored at ``EPSILON`` so one unseen bin does not make the index infinite.
Pure numpy; reading the window from the database is the caller's job.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

import numpy as np

from .schema import BOOLEAN, CATEGORY, FeatureSchema

ALERT_PSI = 0.2
EPSILON = 1e-4
QUANTILE_BINS = 10
MIN_ROWS = 50          # fewer recent rows than this make PSI noise, not signal
SCORE = "score"        # the key of the score's own histogram


def numeric_histogram(values: np.ndarray, bins: int = QUANTILE_BINS) -> dict:
    """Quantile bin edges of ``values`` and the share of rows in each bin."""
    values = np.asarray(values, dtype=np.float64)
    edges = np.unique(np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1]))
    return {"kind": "numeric", "edges": [float(e) for e in edges],
            "proportions": _shares(np.searchsorted(edges, values, side="right"), len(edges) + 1)}


def level_histogram(values: Iterable, levels: Sequence) -> dict:
    index = {level: i for i, level in enumerate(levels)}
    codes = np.fromiter((index[v] for v in values), dtype=np.int64)
    return {"kind": "levels", "levels": list(levels), "proportions": _shares(codes, len(levels))}


def _shares(codes: np.ndarray, n: int) -> list[float]:
    counts = np.bincount(codes, minlength=n).astype(np.float64)
    return [float(c) for c in counts / max(counts.sum(), 1.0)]


def baseline(schema: FeatureSchema, columns: Mapping[str, np.ndarray], scores: np.ndarray) -> dict:
    """The training-time histograms of every feature and of the score, as JSON."""
    features = {}
    for f in schema.features:
        col = np.asarray(columns[f.name])
        if f.type == CATEGORY:
            features[f.name] = level_histogram(col, f.levels)
        elif f.type == BOOLEAN:
            features[f.name] = level_histogram(col.astype(bool).tolist(), [False, True])
        else:
            features[f.name] = numeric_histogram(col)
    return {"features": features, SCORE: numeric_histogram(scores), "rows": int(len(scores))}


def fill(histogram: Mapping, values: Sequence) -> list[float]:
    """Shares of ``values`` in the bins of a stored ``histogram``."""
    if histogram["kind"] == "levels":
        index = {level: i for i, level in enumerate(histogram["levels"])}
        # A level unknown to the baseline cannot reach here: validation refuses it at intake.
        codes = np.fromiter((index[v] for v in values if v in index), dtype=np.int64)
        return _shares(codes, len(histogram["levels"]))
    edges = np.asarray(histogram["edges"], dtype=np.float64)
    vals = np.asarray(values, dtype=np.float64)
    return _shares(np.searchsorted(edges, vals, side="right"), len(edges) + 1)


def psi(expected: Sequence[float], actual: Sequence[float]) -> float:
    e = np.maximum(np.asarray(expected, dtype=np.float64), EPSILON)
    a = np.maximum(np.asarray(actual, dtype=np.float64), EPSILON)
    return float(np.sum((a - e) * np.log(a / e)))


@dataclass(frozen=True)
class DriftReport:
    """PSI per feature and for the score over one window of scored cases."""

    model: str
    version: int
    rows: int
    features: dict = field(default_factory=dict)     # name -> PSI
    score: float | None = None
    threshold: float = ALERT_PSI
    enough_data: bool = True

    @property
    def alerts(self) -> list[str]:
        """Names (features, or ``score``) whose PSI is above the threshold."""
        if not self.enough_data:
            return []
        out = [name for name, value in self.features.items() if value > self.threshold]
        if self.score is not None and self.score > self.threshold:
            out.append(SCORE)
        return out

    def to_json(self) -> dict:
        return {"model": self.model, "version": self.version, "rows": self.rows,
                "threshold": self.threshold, "enough_data": self.enough_data,
                "score": self.score, "features": self.features, "alerts": self.alerts}


def report(model: str, version: int, base: Mapping, recent_features: Sequence[Mapping],
           recent_scores: Sequence[float], *, min_rows: int = MIN_ROWS) -> DriftReport:
    """Compare a window of scored cases (feature dicts and probabilities) with the baseline."""
    rows = len(recent_scores)
    if rows < min_rows:
        return DriftReport(model, version, rows, enough_data=False)
    features = {}
    for name, histogram in base["features"].items():
        values = [r[name] for r in recent_features if r.get(name) is not None]
        if values:
            features[name] = round(psi(histogram["proportions"], fill(histogram, values)), 4)
    score = round(psi(base[SCORE]["proportions"], fill(base[SCORE], recent_scores)), 4)
    return DriftReport(model, version, rows, features=features, score=score)
