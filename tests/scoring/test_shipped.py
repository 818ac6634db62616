"""The shipped defaults: present, small, validated, and rebuilt byte for byte by their command."""
import hashlib

import pytest

from scoring import shipped
from scoring.artifacts import MODEL_FILE, ArtifactStore
from scoring.catalog import SPECS

STORE = ArtifactStore(shipped.DEFAULT_DIR)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_shipped_model_is_small_validated_and_intact(name):
    assert STORE.versions(name) == [1]
    meta = STORE.meta(name, 1)
    path = STORE.path(name, 1) / MODEL_FILE
    assert path.stat().st_size < 300_000
    assert hashlib.sha256(path.read_bytes()).hexdigest() == meta.artifact_sha256
    assert not SPECS[name].floor.failures(meta.metrics)
    assert meta.feature_schema == SPECS[name].schema
    STORE.load_booster(meta)


def test_shipped_model_is_reproduced_by_its_command(tmp_path):
    name = "return_abuse_risk"      # the quickest to rebuild; the others use the same path
    rebuilt = shipped.build(name, tmp_path)
    original = STORE.meta(name, 1)
    assert rebuilt.artifact_sha256 == original.artifact_sha256
    assert rebuilt.data_sha256 == original.data_sha256
