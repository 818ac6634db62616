"""Score one case with a model's active version, explain it, and score the shadow beside it.

:class:`Scorer` is what case intake and the ad-hoc scoring endpoint call. It

* asks a :class:`VersionSource` which version is active (and which runs in shadow) on every
  call — the registry table answers in service, so an activation made by another process takes
  effect at once; boosters are cached per (name, version), which is safe because a version's
  files never change;
* refuses to score with a version whose recorded test metrics do not pass the model's floor
  (governance: an unvalidated model never routes a case);
* validates the features against the *version's own* schema and builds the vector by name in
  that schema's order;
* returns the probability, the model and version, and the five largest feature contributions
  (XGBoost TreeSHAP, in log-odds), which the decision record and the audit store.

A shadow score is computed with the same features and attached to the result; it never replaces
the active probability, and a failure in it is logged, not raised, so a bad candidate cannot
break intake.
"""
from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Protocol

import numpy as np
import xgboost as xgb

from service.errors import Conflict, OmniflowError

from . import contributions as treeshap
from .artifacts import ArtifactStore, ModelMeta
from .catalog import spec

log = logging.getLogger(__name__)

TOP_CONTRIBUTIONS = 5


@dataclass(frozen=True)
class Score:
    """One model's verdict on one case, with why."""

    probability: float
    model: str
    version: int
    contributions: list = field(default_factory=list)   # [{feature, value, contribution}]
    shadow: "Score | None" = None

    def to_json(self) -> dict:
        doc = {"probability": self.probability, "model": self.model, "version": self.version,
               "contributions": list(self.contributions)}
        if self.shadow is not None:
            doc["shadow"] = self.shadow.to_json()
        return doc


class VersionSource(Protocol):
    """Which version of a model is active, and which (if any) runs in shadow."""

    def active(self, name: str) -> int | None: ...

    def shadow(self, name: str) -> int | None: ...


class ShippedVersions:
    """Versions straight from the files: the newest version that passes its floor is active.

    Used when no registry table is at hand (tests, the bench, a bare ``Scorer(models_dir)``).
    """

    def __init__(self, store: ArtifactStore):
        self.store = store
        self._seen: dict[str, tuple[int, int | None]] = {}   # name -> (folder mtime, active)

    def active(self, name: str) -> int | None:
        # A new version is renamed into the model's folder, which changes the folder's mtime;
        # one stat is much cheaper than listing and reading every version on each score.
        try:
            stamp = self.store.stamp(name)
        except FileNotFoundError:
            return None
        seen = self._seen.get(name)
        if seen and seen[0] == stamp:
            return seen[1]
        floor = spec(name).floor
        active = next((v for v in reversed(self.store.versions(name))
                       if not floor.failures(self.store.meta(name, v).metrics)), None)
        self._seen[name] = (stamp, active)
        return active

    def shadow(self, name: str) -> int | None:
        return None


@dataclass(frozen=True)
class LoadedModel:
    meta: ModelMeta
    booster: xgb.Booster
    lock: threading.Lock = field(default_factory=threading.Lock, compare=False)

    def probability(self, row: np.ndarray) -> float:
        # inplace_predict is documented thread-safe and skips building a DMatrix.
        return float(self.booster.inplace_predict(row, validate_features=False)[0])

    def contributions(self, row: np.ndarray) -> np.ndarray:
        # ``row`` is built from the model's own feature schema (``FeatureSchema.vector``), in
        # its column order: naming the columns again and having XGBoost compare the names on
        # every call cost as much as the prediction.
        if treeshap.AVAILABLE:
            with self.lock:  # a booster's predictions are not safe to run concurrently
                return treeshap.of_row(self.booster, row)
        dm = xgb.DMatrix(row, nthread=1)
        with self.lock:
            return self.booster.predict(dm, pred_contribs=True, validate_features=False)[0]


def _sigmoid(margin: float) -> float:
    return 1.0 / (1.0 + math.exp(-margin))


class Scorer:
    """Score cases with the active (or a named) version of each model."""

    def __init__(self, models_dir: str | Path, *, versions: VersionSource | None = None):
        self.store = ArtifactStore(models_dir)
        self.versions = versions or ShippedVersions(self.store)
        self._cache: dict[tuple[str, int], LoadedModel] = {}
        self._cache_lock = threading.Lock()

    def load(self, name: str, version: int) -> LoadedModel:
        """The booster of ``name`` ``version``, refused unless it passes the model's floor."""
        key = (name, int(version))
        model = self._cache.get(key)
        if model is None:
            meta = self.store.meta(name, version)
            failures = spec(name).floor.failures(meta.metrics)
            if failures:
                raise Conflict(f"model '{name}' version {version} is not validated: "
                               f"{'; '.join(failures)}", model=name, version=int(version))
            booster = self.store.load_booster(meta)
            model = LoadedModel(meta, booster)
            with self._cache_lock:
                self._cache.setdefault(key, model)
        return model

    def active_version(self, name: str) -> int:
        spec(name)  # unknown model names are a 404 before anything else
        version = self.versions.active(name)
        if version is None:
            raise Conflict(f"model '{name}' has no active validated version", model=name)
        return version

    def score(self, model_name: str, features: Mapping[str, Any], *,
              version: int | None = None, contributions: bool = True) -> Score:
        """Score ``features`` (name -> value); a missing or out-of-range feature is a 422.

        With ``version=None`` the active version scores and the shadow version, if any, is
        scored beside it.
        """
        explicit = version is not None
        version = int(version) if explicit else self.active_version(model_name)
        result = self._score(model_name, version, features, contributions)
        if explicit:
            return result
        shadow_version = self.versions.shadow(model_name)
        if shadow_version is None or int(shadow_version) == version:
            return result
        try:
            shadow = self._score(model_name, int(shadow_version), features, contributions)
        except OmniflowError as exc:
            log.warning("shadow scoring failed", extra={"model": model_name,
                                                        "version": shadow_version,
                                                        "error": exc.detail})
            return result
        return Score(result.probability, result.model, result.version, result.contributions,
                     shadow=shadow)

    def _score(self, name: str, version: int, features: Mapping[str, Any],
               contributions: bool) -> Score:
        model = self.load(name, version)
        schema = model.meta.feature_schema
        row = schema.vector(features)
        try:
            if contributions:
                # TreeSHAP values and the bias add up to the margin (log-odds), so the
                # probability comes with them: one prediction instead of two.
                shap = model.contributions(row)
                probability = _sigmoid(float(np.sum(shap, dtype=np.float64)))
                values = shap[:-1]                       # drop the bias
            else:
                probability, values = model.probability(row), None
        except xgb.core.XGBoostError as exc:
            raise OmniflowError(f"model '{name}' version {version} failed to score: {exc}",
                                model=name, version=version) from exc
        top = []
        if values is not None:
            order = np.argsort(-np.abs(values), kind="stable")[:TOP_CONTRIBUTIONS]
            top = [{"feature": schema.names[i], "value": features[schema.names[i]],
                    "contribution": round(float(values[i]), 6)} for i in order]
        return Score(round(probability, 6), name, version, top)
