import math

import pytest

from scoring.artifacts import ArtifactStore
from scoring.serving import Scorer
from service.errors import Conflict, FeatureInvalid, NotFound


class Pinned:
    """A VersionSource fake, as the registry table would answer."""

    def __init__(self, active, shadow=None):
        self._active, self._shadow = active, shadow

    def active(self, name):
        return self._active

    def shadow(self, name):
        return self._shadow


def test_score_carries_probability_version_and_top_five_contributions(models_dir,
                                                                      escalation_features):
    scorer = Scorer(models_dir)
    score = scorer.score("escalation_risk", escalation_features)
    assert 0 < score.probability < 1 and score.model == "escalation_risk" and score.version == 1
    assert len(score.contributions) == 5
    sizes = [abs(c["contribution"]) for c in score.contributions]
    assert sizes == sorted(sizes, reverse=True)
    first = score.contributions[0]
    assert first["value"] == escalation_features[first["feature"]]
    assert score.to_json()["contributions"] == score.contributions


def test_contributions_add_up_to_the_score(models_dir, escalation_features):
    model = Scorer(models_dir).load("escalation_risk", 1)
    row = model.meta.feature_schema.vector(escalation_features)
    logit = float(model.contributions(row).sum())
    assert 1 / (1 + math.exp(-logit)) == pytest.approx(model.probability(row), abs=1e-5)


def test_scores_with_contributions_match_xgboost_predictions(models_dir, histories):
    """The production path reads the probability off the contributions (one prediction, not
    two); it must agree with XGBoost's own prediction for every row."""
    scorer = Scorer(models_dir)
    for name, data in histories.items():
        model = scorer.load(name, 1)
        matrix = model.meta.feature_schema.matrix(data.columns)[:200]
        for row in matrix:
            features = {f.name: f.decode(code)
                        for f, code in zip(model.meta.feature_schema.features, row.tolist())}
            scored = scorer.score(name, features, version=1)
            assert scored.probability == pytest.approx(model.probability(row[None, :]), abs=1e-6)


def test_scores_are_identical_after_a_reload(models_dir, escalation_features):
    a = Scorer(models_dir).score("escalation_risk", escalation_features)
    b = Scorer(models_dir).score("escalation_risk", escalation_features)
    assert a == b


def test_missing_or_out_of_range_features_are_422(models_dir, escalation_features):
    scorer = Scorer(models_dir)
    del escalation_features["days_late"]
    with pytest.raises(FeatureInvalid) as err:
        scorer.score("escalation_risk", escalation_features)
    assert err.value.extra["feature"] == "days_late"
    with pytest.raises(FeatureInvalid):
        scorer.score("escalation_risk", {**escalation_features, "days_late": 500.0})


def test_unknown_model_and_version(models_dir, escalation_features):
    with pytest.raises(NotFound):
        Scorer(models_dir).score("crystal_ball", escalation_features)
    with pytest.raises(NotFound):
        Scorer(models_dir).score("escalation_risk", escalation_features, version=7)


def test_an_unvalidated_version_never_scores(tmp_path, trained, escalation_features):
    store = ArtifactStore(tmp_path)
    good = trained["escalation_risk"]
    store.save(good)
    weak = type(good)(**{**good.__dict__, "metrics": {**good.metrics, "roc_auc": 0.55}})
    store.save(weak)
    scorer = Scorer(tmp_path)
    assert scorer.score("escalation_risk", escalation_features).version == 1   # 2 is skipped
    with pytest.raises(Conflict, match="not validated"):
        scorer.score("escalation_risk", escalation_features, version=2)
    with pytest.raises(Conflict, match="not validated"):
        Scorer(tmp_path, versions=Pinned(2)).score("escalation_risk", escalation_features)
    with pytest.raises(Conflict, match="no active"):
        Scorer(tmp_path, versions=Pinned(None)).score("escalation_risk", escalation_features)


def test_a_shadow_version_is_scored_beside_the_active_one(tmp_path, trained,
                                                          escalation_features):
    store = ArtifactStore(tmp_path)
    store.save(trained["escalation_risk"])
    store.save(trained["escalation_risk"])
    score = Scorer(tmp_path, versions=Pinned(1, 2)).score("escalation_risk", escalation_features)
    assert score.version == 1 and score.shadow.version == 2
    assert score.shadow.probability == score.probability   # same booster, same answer
    assert score.to_json()["shadow"]["version"] == 2
    # A broken shadow does not break scoring.
    assert Scorer(tmp_path, versions=Pinned(1, 9)).score(
        "escalation_risk", escalation_features).shadow is None
