"""The registry table, activation governance, shadow scoring and drift alerts, on a real db."""
import shutil

import pytest

from service.domain import model_monitoring as monitoring
from service.domain import model_registry as registry
from scoring.artifacts import ArtifactStore
from scoring.serving import Scorer
from service import audit
from service.errors import Conflict, NotFound
from service.store import AuditEvent, Case, DecisionRecord

NAME = "escalation_risk"


@pytest.fixture
def models(tmp_path, models_dir, trained):
    """A private copy of the small models, plus an escalation v2 (good) and v3 (below floor)."""
    root = tmp_path / "models"
    shutil.copytree(models_dir, root)
    store = ArtifactStore(root)
    good = trained[NAME]
    store.save(good)
    store.save(type(good)(**{**good.__dict__, "metrics": {**good.metrics, "roc_auc": 0.5}}))
    return root


def _kinds():
    return [e.kind for e in AuditEvent.select().order_by(AuditEvent.seq)]


def test_sync_registers_everything_and_activates_the_newest_validated(db, models):
    activated = registry.sync_shipped(models)
    assert {(v.name, v.version) for v in activated} == {
        (NAME, 2), ("phantom_inventory_risk", 1), ("promo_stockout_risk", 1),
        ("return_abuse_risk", 1)}
    rows = {v.version: v for v in registry.versions(NAME)}
    assert rows[3].validated is False and rows[3].status == registry.CANDIDATE
    assert registry.sync_shipped(models) == []                     # idempotent
    assert _kinds().count("model.registered") == 6
    assert audit.verify().ok


def test_activation_is_governed_and_audited(db, models, escalation_features):
    registry.sync_shipped(models)
    with pytest.raises(Conflict, match="not validated"):
        registry.activate(NAME, 3, actor="ana")
    with pytest.raises(NotFound):
        registry.activate(NAME, 42, actor="ana")
    info = registry.activate(NAME, 1, actor="ana", reason="roll back")
    assert info.status == registry.ACTIVE
    assert {v.version: v.status for v in registry.versions(NAME)}[2] == registry.RETIRED
    event = AuditEvent.select().where(AuditEvent.kind == "model.activated").order_by(
        AuditEvent.seq.desc()).first()
    assert event.actor == "ana" and event.detail["before"]["active"] == 2
    scorer = Scorer(models, versions=registry.DatabaseVersions())
    assert scorer.score(NAME, escalation_features).version == 1


def test_shadow_is_scored_and_recorded_without_routing(db, models, escalation_features):
    registry.sync_shipped(models)
    registry.activate(NAME, 1, actor="ana")
    with pytest.raises(Conflict):
        registry.set_shadow(NAME, 3, actor="ana")
    registry.set_shadow(NAME, 2, actor="ana")
    score = Scorer(models, versions=registry.DatabaseVersions()).score(NAME, escalation_features)
    assert score.version == 1 and score.shadow.version == 2
    registry.set_shadow(NAME, None, actor="ana")
    assert Scorer(models, versions=registry.DatabaseVersions()).score(
        NAME, escalation_features).shadow is None


def test_a_replaced_artifact_is_a_conflict(db, models, trained):
    registry.sync_shipped(models)
    meta = ArtifactStore(models).meta(NAME, 1)
    with pytest.raises(Conflict):
        registry.register(type(meta)(**{**meta.__dict__, "artifact_sha256": "0" * 64}))


def _record(features, score):
    case = Case.create(type="order_exception", submitted_by="oms")
    DecisionRecord.create(case=case, kind="score", inputs=features, model_name=NAME,
                          model_version=2, score=score)


def test_drift_alert_is_audited_once_per_window(db, models, histories, escalation_features):
    registry.sync_shipped(models)
    data = histories[NAME]
    for i in range(120):
        row = {k: (v[i].item() if hasattr(v[i], "item") else v[i])
               for k, v in data.columns.items()}
        _record(row, 0.3)
    report = monitoring.check(NAME, models)
    assert report.rows == 120 and report.features["order_value"] < 0.2
    assert "score" in report.alerts     # every score 0.3: one bin holds the whole window
    for i in range(200):
        _record({**escalation_features, "order_value": 9000.0 + i}, 0.95)
    report = monitoring.check(NAME, models)
    assert "order_value" in report.alerts
    monitoring.check(NAME, models)
    alerts = list(AuditEvent.select().where(AuditEvent.kind == monitoring.ALERT_KIND))
    assert len(alerts) == 2 and alerts[-1].detail["psi"]["order_value"] > 0.2
    DecisionRecord.create(kind="score", inputs=escalation_features, model_name=NAME,
                          model_version=2, score=0.1)         # ad hoc: not in the window
    assert monitoring.check(NAME, models).rows == 320


def test_the_service_scorer_falls_back_to_files_until_models_are_registered(
        db, models, escalation_features):
    scorer = registry.scorer(models)
    assert scorer.score(NAME, escalation_features).version == 2     # newest validated on disk
    registry.sync_shipped(models)
    registry.activate(NAME, 1, actor="ana")
    assert scorer.score(NAME, escalation_features).version == 1
