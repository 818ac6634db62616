"""The scoring step of case intake: map case data to features and score with the active model.

The case type declares the model and the mapping; the probability becomes a process variable
(``scoring.variable``, default the model name) that the decision tables read.
"""
from __future__ import annotations

from dataclasses import dataclass

from .casetypes import CaseType
from .store import to_jsonable


@dataclass(frozen=True)
class CaseScore:
    variable: str
    probability: float
    model: str
    version: int
    contributions: list
    features: dict
    shadow: dict | None


def scorer(models_dir: str):
    # The registry-backed scorer: the active and shadow versions come from the model table.
    from scoring.registry import scorer as registry_scorer
    return registry_scorer(models_dir)


def score_case(ctype: CaseType, data: dict, *, models_dir: str) -> CaseScore:
    """Raises ``FeatureInvalid`` (422) naming a missing or out-of-range feature."""
    from scoring.features import features_from_case
    spec = ctype.scoring
    features = features_from_case(spec.get("features", {}), data)
    result = scorer(models_dir).score(spec["model"], features)
    shadow = result.shadow
    return CaseScore(spec.get("variable") or spec["model"], float(result.probability),
                     result.model, result.version,
                     to_jsonable(result.contributions), to_jsonable(features),
                     shadow.to_json() if shadow is not None else None)

