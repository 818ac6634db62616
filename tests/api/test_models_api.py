"""/api/v1/models over HTTP, with real users, a real database and the shipped models."""
import shutil

import pytest

from scoring.artifacts import ArtifactStore
from scoring.catalog import SPECS
from scoring.synthetic import generate
from scoring.training import train
from service.config import ROOT
from service.domain.model_replay import band
from service.store import AuditEvent, Case, DecisionRecord

NAME = "escalation_risk"
FEATURES = {"reason": "late_shipment", "channel": "web", "order_value": 250.0, "margin": 0.3,
            "customer_tier": "gold", "days_late": 4.0, "prior_contacts_90d": 2,
            "prior_exceptions_90d": 0, "order_weekday": 3}


@pytest.fixture(scope="module")
def models_copy(tmp_path_factory):
    """The shipped models, escalation v2 (small, validated) and v3 (metrics under the floor)."""
    root = tmp_path_factory.mktemp("models")
    shutil.copytree(ROOT / "scoring" / "models", root, dirs_exist_ok=True)
    model = train(SPECS[NAME], generate(NAME, 12_000, 3))
    store = ArtifactStore(root)
    store.save(model)
    store.save(type(model)(**{**model.__dict__, "metrics": {**model.metrics, "roc_auc": 0.51}}))
    return root


@pytest.fixture
def config(config, models_copy):
    return config.with_(models_dir=str(models_copy))


@pytest.fixture
def ana(users):
    return users.make("ana", ["analyst"])


@pytest.fixture
def admin(users):
    return users.make("root", ["admin"])


def test_list_and_show_give_versions_metrics_and_schema(ana):
    listing = ana.get("/api/v1/models").get_json()
    assert [m["name"] for m in listing["items"]] == sorted(SPECS)
    doc = ana.get(f"/api/v1/models/{NAME}").get_json()
    # The first start activates the newest validated version on disk.
    assert doc["active_version"] == 2 and {v["version"] for v in doc["versions"]} == {1, 2, 3}
    assert {v["version"]: v["validated"] for v in doc["versions"]} == {1: True, 2: True, 3: False}
    assert {"roc_auc", "pr_auc", "brier", "calibration"} <= set(doc["metrics"])
    assert len(doc["metrics"]["calibration"]) == 10
    first = doc["feature_schema"][0]
    assert {"name", "type", "min", "max", "levels"} <= set(first)
    assert [f["name"] for f in doc["feature_schema"]] == list(SPECS[NAME].schema.names)
    assert ana.get("/api/v1/models/crystal_ball").status_code == 404


def test_ad_hoc_score_answers_with_contributions_and_is_audited(ana):
    r = ana.post(f"/api/v1/models/{NAME}/score", json={"features": FEATURES})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert set(body) >= {"probability", "model", "version", "contributions"}
    assert body["model"] == NAME and body["version"] == 2 and len(body["contributions"]) == 5
    assert set(body["contributions"][0]) == {"feature", "value", "contribution"}
    assert AuditEvent.select().where(AuditEvent.kind == "model.scored").count() == 1
    assert DecisionRecord.get(DecisionRecord.kind == "score").case is None


@pytest.mark.parametrize("features, feature", [
    ({k: v for k, v in FEATURES.items() if k != "days_late"}, "days_late"),
    ({**FEATURES, "margin": 7}, "margin"),
    ({**FEATURES, "channel": "pigeon"}, "channel"),
])
def test_a_bad_feature_is_a_422_naming_it(ana, features, feature):
    r = ana.post(f"/api/v1/models/{NAME}/score", json={"features": features})
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    assert r.get_json()["feature"] == feature and feature in r.get_json()["detail"]


def test_activation_needs_admin_and_a_validated_version(ana, admin):
    r = ana.post(f"/api/v1/models/{NAME}/activation", json={"version": 1})
    assert r.status_code == 403
    r = admin.post(f"/api/v1/models/{NAME}/activation", json={"version": 1, "reason": "roll back"})
    assert r.status_code == 200 and r.get_json()["status"] == "active"
    assert ana.post(f"/api/v1/models/{NAME}/score",
                    json={"features": FEATURES}).get_json()["version"] == 1
    r = admin.post(f"/api/v1/models/{NAME}/shadow", json={"version": 2})
    assert r.status_code == 200
    body = ana.post(f"/api/v1/models/{NAME}/score", json={"features": FEATURES}).get_json()
    assert body["version"] == 1 and body["shadow"]["version"] == 2
    assert admin.post(f"/api/v1/models/{NAME}/activation", json={"version": 9}).status_code == 404
    r = admin.post(f"/api/v1/models/{NAME}/activation", json={"version": 3})
    assert r.status_code == 409 and "roc_auc" in r.get_json()["detail"]
    r = ana.post(f"/api/v1/models/{NAME}/score", json={"features": FEATURES, "version": 3})
    assert r.status_code == 409 and "not validated" in r.get_json()["detail"]


def test_drift_reports_psi_and_alerts(ana):
    ana.get("/api/v1/models")
    for i in range(60):
        case = Case.create(type="order_exception", submitted_by="oms")
        DecisionRecord.create(case=case, kind="score", inputs={**FEATURES, "order_value": 5e3 + i},
                              model_name=NAME, model_version=2, score=0.9)
    r = ana.get(f"/api/v1/models/{NAME}/drift")
    assert r.status_code == 200
    body = r.get_json()
    assert body["rows"] == 60 and "order_value" in body["alerts"] and "score" in body["alerts"]
    assert body["features"]["order_value"] > 0.2
    assert AuditEvent.select().where(AuditEvent.kind == "model.drift_alert").count() == 1


def test_what_if_rescores_recorded_features_with_a_candidate_version(ana, users):
    """Score records of past cases (features and v1 probabilities from the real model) are
    rescored by v2; the answer counts the cases whose risk band moves, writing nothing."""
    variants = [{**FEATURES, "days_late": float(d), "prior_contacts_90d": c,
                 "reason": reason}
                for d in (0, 3, 9, 20) for c in (0, 4, 9)
                for reason in ("late_shipment", "customer_complaint")]
    expected = 0
    for features in variants:
        old = ana.post(f"/api/v1/models/{NAME}/score",
                       json={"features": features, "version": 1}).get_json()["probability"]
        new = ana.post(f"/api/v1/models/{NAME}/score",
                       json={"features": features, "version": 2}).get_json()["probability"]
        expected += band(old) != band(new)
        case = Case.create(type="order_exception", submitted_by="oms")
        DecisionRecord.create(case=case, kind="score", inputs=features, model_name=NAME,
                              model_version=1, score=old)
    before = (DecisionRecord.select().count(), AuditEvent.select().count())
    r = ana.post(f"/api/v1/models/{NAME}/what-if", json={"version": 2})
    body = r.get_json()
    assert r.status_code == 200, body
    assert body["replayed"] == len(variants) and body["failed"] == 0
    assert body["changed"] == expected == sum(t["count"] for t in body["transitions"])
    assert {t["from"] for t in body["transitions"]} <= {"low", "medium", "high"}
    assert (DecisionRecord.select().count(), AuditEvent.select().count()) == before
    assert ana.post(f"/api/v1/models/{NAME}/what-if", json={"version": 9}).status_code == 404
    r = ana.post(f"/api/v1/models/{NAME}/what-if", json={"version": 2, "since": "soon"})
    assert r.status_code == 400 and r.get_json()["field"] == "since"
    agent = users.make("agent", ["customer_service"])
    assert agent.post(f"/api/v1/models/{NAME}/what-if", json={"version": 2}).status_code == 403
