"""Train one model on its history: time-ordered split, early stopping, test-split report.

The split is by event time — the oldest 70 % trains, the next 15 % stops training early
(validation log loss), the newest 15 % is the test split whose figures are recorded and judged
against the model's floor. A random split would leak seasonality and repeat customers from the
future into training and flatter the figures.

The returned :class:`TrainedModel` carries everything :mod:`scoring.artifacts` writes: the
booster, the parameters, the test metrics, the top features by mean absolute contribution (the
same SHAP values served per case), the drift baseline and the hash of the training data.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

import numpy as np
import xgboost as xgb

from service.errors import OmniflowError, ValidationFailed

from . import drift, metrics
from .catalog import EARLY_STOPPING_ROUNDS, ModelSpec
from .dataset import Dataset
from .schema import FeatureSchema

log = logging.getLogger(__name__)

SPLIT = (0.70, 0.15, 0.15)


@dataclass(frozen=True)
class Progress:
    """One boosting round, as shown to whoever watches training."""

    round: int
    rounds: int
    train_logloss: float
    validation_logloss: float
    best_round: int


@dataclass(frozen=True)
class Split:
    train: Dataset
    validation: Dataset
    test: Dataset


@dataclass(frozen=True)
class TrainedModel:
    name: str
    schema: FeatureSchema
    booster: xgb.Booster
    params: dict
    metrics: dict
    baseline: dict
    data_sha256: str
    data_source: str
    best_iteration: int
    splits: dict           # name -> {"rows", "from", "to"}


def split_by_time(data: Dataset, shares=SPLIT) -> Split:
    ordered = data.in_time_order()
    n = len(ordered)
    a = int(n * shares[0])
    b = int(n * (shares[0] + shares[1]))
    index = np.arange(n)
    parts = Split(ordered.take(index[:a]), ordered.take(index[a:b]), ordered.take(index[b:]))
    for name in ("train", "validation", "test"):
        label = getattr(parts, name).label
        if len(label) == 0 or label.min() == label.max():
            raise ValidationFailed(f"the {name} split needs both outcomes (0 and 1); "
                                   f"it has {len(label)} rows with label(s) {sorted(set(label))}")
    return parts


class _Reporter(xgb.callback.TrainingCallback):
    """Forward each round's validation loss to a progress function."""

    def __init__(self, progress: Callable[[Progress], None], rounds: int):
        super().__init__()
        self.progress, self.rounds = progress, rounds
        self.best, self.best_round = float("inf"), 0

    def after_iteration(self, model, epoch, evals_log):
        val = evals_log["validation"]["logloss"][-1]
        if val < self.best:
            self.best, self.best_round = val, epoch
        self.progress(Progress(epoch + 1, self.rounds, evals_log["train"]["logloss"][-1], val,
                               self.best_round + 1))
        return False


def _dmatrix(schema: FeatureSchema, data: Dataset) -> xgb.DMatrix:
    return xgb.DMatrix(schema.matrix(data.columns), label=data.label,
                       feature_names=list(schema.names), nthread=1)


def contributions(booster: xgb.Booster, schema: FeatureSchema, matrix: np.ndarray) -> np.ndarray:
    """SHAP contributions per row and feature (log-odds), without the bias column."""
    dm = xgb.DMatrix(matrix, feature_names=list(schema.names), nthread=1)
    return booster.predict(dm, pred_contribs=True, validate_features=True)[:, :-1]


def top_features(booster: xgb.Booster, schema: FeatureSchema, matrix: np.ndarray,
                 k: int | None = None) -> list[dict]:
    """Features ranked by mean |contribution| on ``matrix``, with their share of the total."""
    mean_abs = np.abs(contributions(booster, schema, matrix)).mean(axis=0)
    total = float(mean_abs.sum()) or 1.0
    ranked = sorted(zip(schema.names, mean_abs), key=lambda t: -t[1])
    return [{"feature": n, "mean_abs_contribution": round(float(v), 5),
             "share": round(float(v) / total, 4)} for n, v in ranked[:k]]


def train(spec: ModelSpec, data: Dataset, *, params: dict | None = None,
          rounds: int | None = None, progress: Callable[[Progress], None] | None = None
          ) -> TrainedModel:
    """Fit ``spec``'s booster on ``data`` and measure it on the newest 15 % of rows."""
    schema = spec.schema
    params = {**spec.params, **(params or {})}
    rounds = rounds or spec.rounds
    parts = split_by_time(data)
    dtrain, dval = _dmatrix(schema, parts.train), _dmatrix(schema, parts.validation)
    callbacks = [_Reporter(progress, rounds)] if progress else []
    try:
        booster = xgb.train(params, dtrain, num_boost_round=rounds,
                            evals=[(dtrain, "train"), (dval, "validation")],
                            early_stopping_rounds=EARLY_STOPPING_ROUNDS, verbose_eval=False,
                            callbacks=callbacks)
    except xgb.core.XGBoostError as exc:
        raise OmniflowError(f"training {spec.name} failed: {exc}", model=spec.name) from exc
    # Keep only the trees up to the best validation round: smaller artifact, same predictions
    # as predicting with the best iteration range.
    best = int(booster.best_iteration)
    booster = booster[: best + 1]
    test_matrix = schema.matrix(parts.test.columns)
    test_dm = xgb.DMatrix(test_matrix, feature_names=list(schema.names), nthread=1)
    probability = booster.predict(test_dm)
    report = metrics.evaluate(parts.test.label, probability)
    report["top_features"] = top_features(booster, schema, test_matrix, k=len(schema))
    report["best_iteration"] = best
    # The score histogram comes from the test split: out-of-sample, like live scores.
    base = drift.baseline(schema, parts.train.columns, probability)
    splits = {name: {"rows": len(part), "from": str(part.at[0]), "to": str(part.at[-1])}
              for name, part in (("train", parts.train), ("validation", parts.validation),
                                 ("test", parts.test))}
    log.info("trained", extra={"model": spec.name, "roc_auc": report["roc_auc"],
                               "best_iteration": best})
    return TrainedModel(name=spec.name, schema=schema, booster=booster, params=params,
                        metrics=report, baseline=base, data_sha256=data.sha256(schema),
                        data_source=data.source, best_iteration=best, splits=splits)
