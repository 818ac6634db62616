"""Write and read model versions on disk: the booster in UBJSON plus its metadata.

Layout, one immutable folder per version::

    <models_dir>/<name>/<version>/model.ubj    XGBoost's binary JSON model
    <models_dir>/<name>/<version>/meta.json    name, version, created_at, feature_schema,
                                               data hash, params, metrics, drift baseline

The files are the source of truth for *what* a version is; the registry table records *which*
version is active and mirrors the metadata for queries. ``meta.json`` stores the SHA-256 of
``model.ubj`` and every load checks it, so a swapped or corrupted model file is refused instead
of scored. A version folder is written under a temporary name and renamed into place, so a
reader never sees half a version.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import xgboost as xgb

from service.errors import Conflict, NotFound, OmniflowError

from .schema import FeatureSchema

MODEL_FILE, META_FILE = "model.ubj", "meta.json"
META_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class ModelMeta:
    """What a version is and how it was made; ``meta.json`` of one version folder."""

    name: str
    version: int
    created_at: str
    feature_schema: FeatureSchema
    artifact_sha256: str
    data_sha256: str
    data_source: str
    params: dict
    metrics: dict
    baseline: dict
    splits: dict
    xgboost_version: str
    schema_version: int = META_SCHEMA_VERSION

    def to_json(self) -> dict:
        return {"schema_version": self.schema_version, "name": self.name,
                "version": self.version, "created_at": self.created_at,
                "feature_schema": self.feature_schema.to_json(),
                "artifact_sha256": self.artifact_sha256, "data_sha256": self.data_sha256,
                "data_source": self.data_source, "params": self.params, "metrics": self.metrics,
                "splits": self.splits, "xgboost_version": self.xgboost_version,
                "baseline": self.baseline}

    @classmethod
    def from_json(cls, doc: dict) -> "ModelMeta":
        if doc.get("schema_version") != META_SCHEMA_VERSION:
            raise OmniflowError(f"model metadata schema {doc.get('schema_version')} is not "
                                f"supported (expected {META_SCHEMA_VERSION})")
        return cls(name=doc["name"], version=int(doc["version"]), created_at=doc["created_at"],
                   feature_schema=FeatureSchema.from_json(doc["feature_schema"]),
                   artifact_sha256=doc["artifact_sha256"], data_sha256=doc["data_sha256"],
                   data_source=doc.get("data_source", ""), params=doc["params"],
                   metrics=doc.get("metrics") or {}, baseline=doc.get("baseline") or {},
                   splits=doc.get("splits") or {}, xgboost_version=doc.get("xgboost_version", ""))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


class ArtifactStore:
    """The version folders under one models directory, or a search path of them.

    ``root`` may name several directories separated by ``os.pathsep`` (like ``PATH``): new
    versions are written under the first (the data directory's ``models``), and versions are
    read from all of them, the first that has a version winning. So the models shipped in the
    package stay read-only and training never writes into the source tree.
    """

    def __init__(self, root: str | Path):
        self.roots = [Path(part) for part in str(root).split(os.pathsep) if part]
        self.root = self.roots[0]
        # A version's files never change once renamed into place, so its metadata can be kept.
        self._metas: dict[tuple[str, int], ModelMeta] = {}

    def path(self, name: str, version: int) -> Path:
        for root in self.roots:
            folder = root / name / str(int(version))
            if (folder / META_FILE).is_file():
                return folder
        return self.root / name / str(int(version))

    def stamp(self, name: str) -> tuple:
        """Changes when a version of ``name`` is added (the folders' mtimes); raises
        FileNotFoundError when no directory has the model."""
        stamps = tuple((root / name).stat().st_mtime_ns if (root / name).is_dir() else None
                       for root in self.roots)
        if all(s is None for s in stamps):
            raise FileNotFoundError(name)
        return stamps

    def names(self) -> list[str]:
        found = set()
        for root in self.roots:
            if root.is_dir():
                found.update(p.name for p in root.iterdir() if p.is_dir())
        return sorted(name for name in found if self.versions(name))

    def versions(self, name: str) -> list[int]:
        found = set()
        for root in self.roots:
            folder = root / name
            if folder.is_dir():
                found.update(int(p.name) for p in folder.iterdir()
                             if p.name.isdigit() and (p / META_FILE).is_file())
        return sorted(found)

    def meta(self, name: str, version: int) -> ModelMeta:
        key = (name, int(version))
        if key not in self._metas:
            self._metas[key] = self._read_meta(name, version)
        return self._metas[key]

    def _read_meta(self, name: str, version: int) -> ModelMeta:
        path = self.path(name, version) / META_FILE
        try:
            doc = json.loads(path.read_text())
        except FileNotFoundError:
            raise NotFound(f"model '{name}' has no version {version}", model=name,
                           version=version) from None
        except (OSError, ValueError) as exc:
            raise OmniflowError(f"cannot read {path}: {exc}") from exc
        return ModelMeta.from_json(doc)

    def load_booster(self, meta: ModelMeta) -> xgb.Booster:
        """Load a version's booster after checking its hash and its column names."""
        path = self.path(meta.name, meta.version) / MODEL_FILE
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise OmniflowError(f"cannot read {path}: {exc.strerror}") from exc
        if hashlib.sha256(raw).hexdigest() != meta.artifact_sha256:
            raise Conflict(f"model '{meta.name}' version {meta.version}: artifact hash does not "
                           f"match its metadata; refusing to load", model=meta.name,
                           version=meta.version)
        booster = xgb.Booster()
        try:
            booster.load_model(bytearray(raw))
        except xgb.core.XGBoostError as exc:
            raise OmniflowError(f"cannot load {path}: {exc}") from exc
        # Serving scores one row at a time: threads cost more than they save.
        booster.set_param({"nthread": 1})
        meta.feature_schema.require_names(booster.feature_names)
        return booster

    def save(self, trained, *, version: int | None = None,
             created_at: datetime | None = None) -> ModelMeta:
        """Write a trained model as the next version (or ``version``) and return its metadata."""
        folder = self.root / trained.name
        folder.mkdir(parents=True, exist_ok=True)
        raw = bytes(trained.booster.save_raw("ubj"))
        while True:
            number = version or (max(self.versions(trained.name), default=0) + 1)
            meta = ModelMeta(
                name=trained.name, version=number,
                created_at=(created_at or datetime.now(timezone.utc)).isoformat(timespec="seconds"),
                feature_schema=trained.schema, artifact_sha256=hashlib.sha256(raw).hexdigest(),
                data_sha256=trained.data_sha256, data_source=trained.data_source,
                params=trained.params, metrics=trained.metrics, baseline=trained.baseline,
                splits=trained.splits, xgboost_version=xgb.__version__)
            tmp = folder / f"{number}.tmp{os.getpid()}"
            tmp.mkdir()
            (tmp / MODEL_FILE).write_bytes(raw)
            (tmp / META_FILE).write_text(json.dumps(meta.to_json(), indent=1) + "\n")
            try:
                # rename fails when the target exists and is not empty: a concurrent save won.
                os.rename(tmp, folder / str(number))
                return meta
            except OSError:
                shutil.rmtree(tmp, ignore_errors=True)
                if version is not None:
                    raise Conflict(f"model '{trained.name}' version {version} already exists",
                                   model=trained.name, version=version) from None
