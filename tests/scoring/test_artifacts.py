import hashlib
import json

import numpy as np
import pytest
import xgboost as xgb

from scoring.artifacts import META_FILE, MODEL_FILE, ArtifactStore
from scoring.catalog import SPECS
from service.errors import Conflict, FeatureInvalid, NotFound


def test_metadata_records_what_an_auditor_needs(models_dir):
    meta = ArtifactStore(models_dir).meta("escalation_risk", 1)
    doc = json.loads((models_dir / "escalation_risk" / "1" / META_FILE).read_text())
    assert {"name", "version", "created_at", "feature_schema", "data_sha256", "params",
            "metrics", "artifact_sha256", "baseline"} <= set(doc)
    assert meta.feature_schema == SPECS["escalation_risk"].schema
    assert {"roc_auc", "pr_auc", "brier", "calibration", "top_features"} <= set(meta.metrics)
    assert len(meta.metrics["calibration"]) == 10


def test_a_reloaded_model_gives_identical_scores(models_dir, trained, histories):
    store = ArtifactStore(models_dir)
    name = "promo_stockout_risk"
    booster = store.load_booster(store.meta(name, 1))
    matrix = SPECS[name].schema.matrix(histories[name].columns)
    assert np.array_equal(booster.inplace_predict(matrix),
                          trained[name].booster.inplace_predict(matrix))


def test_versions_are_numbered_and_immutable(tmp_path, trained):
    store = ArtifactStore(tmp_path)
    model = trained["return_abuse_risk"]
    assert [store.save(model).version for _ in range(2)] == [1, 2]
    assert store.versions("return_abuse_risk") == [1, 2]
    with pytest.raises(Conflict):
        store.save(model, version=1)
    with pytest.raises(NotFound):
        store.meta("return_abuse_risk", 9)


def test_a_tampered_artifact_is_refused(tmp_path, trained):
    store = ArtifactStore(tmp_path)
    meta = store.save(trained["return_abuse_risk"])
    path = tmp_path / "return_abuse_risk" / "1" / MODEL_FILE
    path.write_bytes(path.read_bytes()[:-1] + b"\x00")
    with pytest.raises(Conflict, match="hash"):
        store.load_booster(meta)


def test_a_booster_with_reordered_columns_is_refused(tmp_path, trained):
    store = ArtifactStore(tmp_path)
    meta = store.save(trained["return_abuse_risk"])
    booster = xgb.Booster()
    booster.load_model(bytearray((tmp_path / "return_abuse_risk/1" / MODEL_FILE).read_bytes()))
    names = list(booster.feature_names)
    booster.feature_names = names[1:2] + names[:1] + names[2:]
    raw = bytes(booster.save_raw("ubj"))
    (tmp_path / "return_abuse_risk/1" / MODEL_FILE).write_bytes(raw)
    meta = type(meta)(**{**meta.__dict__, "artifact_sha256": hashlib.sha256(raw).hexdigest()})
    with pytest.raises(FeatureInvalid):
        store.load_booster(meta)
