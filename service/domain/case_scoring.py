"""The scoring step of opening a case: map case data to features, score with the active model.

The case type declares the model and the mapping; the probability becomes a process variable
(``scoring.variable``, default the model name) that the decision tables read.
"""
from __future__ import annotations

from dataclasses import dataclass

from scoring.features import features_from_case

from ..store import to_jsonable
from ..telemetry import SCORING_LATENCY, timed
from .casetypes import CaseType
from .model_registry import scorer


@dataclass(frozen=True)
class CaseScore:
    variable: str
    probability: float
    model: str
    version: int
    contributions: list
    features: dict
    shadow: dict | None


def score_case(ctype: CaseType, data: dict, *, models_dir: str) -> CaseScore:
    """Raises ``FeatureInvalid`` (422) naming a missing or out-of-range feature."""
    spec = ctype.scoring
    features = features_from_case(spec.get("features", {}), data)
    with timed(SCORING_LATENCY, spec["model"]):
        result = scorer(models_dir).score(spec["model"], features)
    shadow = result.shadow
    return CaseScore(spec.get("variable") or spec["model"], float(result.probability),
                     result.model, result.version,
                     to_jsonable(result.contributions), to_jsonable(features),
                     shadow.to_json() if shadow is not None else None)
