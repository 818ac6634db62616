"""The registry of model versions: every version trained, which one is active, which shadows.

This is the database side of the :mod:`scoring` library, which itself knows no database.

The version folders on disk (:mod:`scoring.artifacts`) say what a version *is*; the
``model_version`` table records its lifecycle — ``candidate`` when registered, ``active`` when
it routes cases, ``shadow`` when it is scored beside the active one without effect, ``retired``
when replaced. At most one version per model is active and at most one shadows.

Governance lives here: a version is ``validated`` only if its recorded test metrics pass the
floor the catalog declares for its model, and :func:`activate` and :func:`set_shadow` refuse
anything else. Each change of status is an audit event in the same transaction.

:class:`DatabaseVersions` is the :class:`~scoring.serving.VersionSource` the service's
:class:`~scoring.serving.Scorer` uses, so an activation by any process applies to all at once.
"""
from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import peewee

from scoring.artifacts import MODEL_FILE, ArtifactStore, ModelMeta
from scoring.catalog import SPECS, spec
from scoring.serving import Scorer, ShippedVersions, VersionSource

from .. import audit
from ..errors import Conflict, NotFound
from ..store import ModelVersion, atomic, for_update, utcnow
from ..store import rows as store_rows

log = logging.getLogger(__name__)

CANDIDATE, ACTIVE, SHADOW, RETIRED = "candidate", "active", "shadow", "retired"
SYSTEM_ACTOR = "scoring"


@dataclass(frozen=True)
class VersionInfo:
    """One registry row, decoded."""

    name: str
    version: int
    status: str
    validated: bool
    artifact_sha256: str
    artifact_path: str
    metrics: dict
    feature_schema: list
    params: dict
    created_at: str
    activated_at: str | None

    @classmethod
    def of(cls, row: ModelVersion) -> "VersionInfo":
        return cls(row.name, row.version, row.status, row.validated, row.artifact_sha256,
                   row.artifact_path, json.loads(row.metrics or "{}"),
                   json.loads(row.feature_schema or "[]"), json.loads(row.params or "{}"),
                   row.created_at.isoformat() if row.created_at else None,
                   row.activated_at.isoformat() if row.activated_at else None)

    def to_json(self, *, with_metrics: bool = False) -> dict:
        doc = {"version": self.version, "status": self.status, "validated": self.validated,
               "created_at": self.created_at, "activated_at": self.activated_at,
               "artifact_sha256": self.artifact_sha256}
        if with_metrics:
            doc["metrics"] = self.metrics
        return doc


def _failures(name: str, metrics: dict) -> list[str]:
    return spec(name).floor.failures(metrics)


def register(meta: ModelMeta) -> VersionInfo:
    """Record a version written by :class:`ArtifactStore` as a candidate (idempotent).

    Registering the same version twice is a no-op; the same number with another artifact hash
    is a conflict — someone replaced files the registry already vouched for.
    """
    where = (ModelVersion.name == meta.name) & (ModelVersion.version == meta.version)
    with atomic():
        row = ModelVersion.get_or_none(where)
        if row is None:
            try:
                with atomic():   # a savepoint: another process starting now may insert it first
                    row = ModelVersion.create(
                        name=meta.name, version=meta.version,
                        artifact_sha256=meta.artifact_sha256,
                        artifact_path=f"{meta.name}/{meta.version}/{MODEL_FILE}",
                        metrics=json.dumps(meta.metrics),
                        feature_schema=json.dumps(meta.feature_schema.to_json()),
                        params=json.dumps(meta.params), status=CANDIDATE,
                        validated=not _failures(meta.name, meta.metrics), created_at=utcnow())
            except peewee.IntegrityError:
                row = ModelVersion.get(where)
            else:
                _audit_registered(meta, row.validated)
                return VersionInfo.of(row)
        if row.artifact_sha256 != meta.artifact_sha256:
            raise Conflict(f"model '{meta.name}' version {meta.version} is registered with "
                           f"another artifact hash", model=meta.name, version=meta.version)
        return VersionInfo.of(row)


def _audit_registered(meta: ModelMeta, validated: bool) -> None:
    audit.record("model.registered", actor=SYSTEM_ACTOR, model=meta.name,
                 version=meta.version, validated=validated,
                 artifact_sha256=meta.artifact_sha256, data_sha256=meta.data_sha256,
                 metrics={k: meta.metrics.get(k) for k in ("roc_auc", "pr_auc", "brier", "ece")})


def sync_shipped(models_dir: str | Path) -> list[VersionInfo]:
    """Register every version on disk; activate the newest validated one where none is active.

    Called at service start. It never replaces an active version: an operator's activation
    survives restarts and new shipped files alike.
    """
    store = ArtifactStore(models_dir)
    activated = []
    with atomic():
        for name in store.names():
            if name not in SPECS:
                log.warning("unknown model folder ignored", extra={"model": name})
                continue
            for version in store.versions(name):
                register(store.meta(name, version))
            if _row(name, ACTIVE) is None:
                candidates = (ModelVersion.select()
                              .where((ModelVersion.name == name)
                                     & (ModelVersion.validated == True)  # noqa: E712
                                     & (ModelVersion.status != RETIRED))
                              .order_by(ModelVersion.version.desc()))
                best = candidates.first()
                if best is not None:
                    activated.append(activate(name, best.version, actor=SYSTEM_ACTOR,
                                              reason="shipped default at start"))
    return activated


def _row(name: str, status: str) -> ModelVersion | None:
    return (ModelVersion.select()
            .where((ModelVersion.name == name) & (ModelVersion.status == status)).first())


def _get(name: str, version: int, lock: bool = False) -> ModelVersion:
    spec(name)
    query = ModelVersion.select().where((ModelVersion.name == name)
                                        & (ModelVersion.version == int(version)))
    row = (for_update(query) if lock else query).first()
    if row is None:
        raise NotFound(f"model '{name}' has no registered version {version}", model=name,
                       version=int(version))
    return row


def _require_validated(row: ModelVersion) -> None:
    failures = _failures(row.name, json.loads(row.metrics or "{}"))
    if failures or not row.validated:
        raise Conflict(f"model '{row.name}' version {row.version} is not validated: "
                       f"{'; '.join(failures) or 'marked unvalidated'}", model=row.name,
                       version=row.version, failures=failures)


def activate(name: str, version: int, *, actor: str, reason: str | None = None) -> VersionInfo:
    """Make ``version`` the one that routes cases; the previous active one is retired."""
    with atomic():
        row = _get(name, version, lock=True)
        _require_validated(row)
        if row.status == ACTIVE:
            return VersionInfo.of(row)
        previous = _row(name, ACTIVE)
        if previous is not None:
            ModelVersion.update(status=RETIRED).where(ModelVersion.id == previous.id).execute()
        ModelVersion.update(status=ACTIVE, activated_at=utcnow()).where(
            ModelVersion.id == row.id).execute()
        audit.record("model.activated", actor=actor, model=name, version=row.version,
                     before={"active": previous.version if previous else None,
                             "status": row.status},
                     after={"active": row.version}, reason=reason)
        return VersionInfo.of(_get(name, version))


def set_shadow(name: str, version: int | None, *, actor: str,
               reason: str | None = None) -> VersionInfo | None:
    """Score ``version`` beside the active one (``None`` stops shadowing)."""
    with atomic():
        previous = _row(name, SHADOW)
        row = None
        if version is not None:
            row = _get(name, version, lock=True)
            _require_validated(row)
            if row.status == ACTIVE:
                raise Conflict(f"model '{name}' version {version} is active; it cannot also "
                               f"shadow", model=name, version=int(version))
        if previous is not None and (row is None or previous.id != row.id):
            ModelVersion.update(status=CANDIDATE).where(ModelVersion.id == previous.id).execute()
        if row is not None:
            ModelVersion.update(status=SHADOW).where(ModelVersion.id == row.id).execute()
        audit.record("model.shadow", actor=actor, model=name,
                     before={"shadow": previous.version if previous else None},
                     after={"shadow": row.version if row else None}, reason=reason)
        return VersionInfo.of(_get(name, version)) if version is not None else None


def versions(name: str) -> list[VersionInfo]:
    spec(name)
    return [VersionInfo.of(r) for r in ModelVersion.select().where(ModelVersion.name == name)
            .order_by(ModelVersion.version.desc())]


def version(name: str, number: int) -> VersionInfo:
    return VersionInfo.of(_get(name, number))


def active(name: str) -> VersionInfo | None:
    row = _row(name, ACTIVE)
    return VersionInfo.of(row) if row else None


# Read at every score: built once.
_SERVING = store_rows.Prepared(
    lambda name, *statuses: (ModelVersion.select(ModelVersion.status, ModelVersion.version)
                             .where((ModelVersion.name == name)
                                    & ModelVersion.status.in_(statuses)).tuples()),
    "?", ACTIVE, SHADOW)


class DatabaseVersions:
    """The registry as a :class:`~scoring.serving.VersionSource`: one indexed query per score.

    ``active()`` reads the active and shadow versions of the model together and keeps the
    shadow for the ``shadow()`` call the scorer makes right after, in the same thread.

    A model with no registry row at all (the service started before :func:`sync_shipped` ran)
    falls back to ``fallback`` — the newest validated version on disk — so intake keeps
    working; once a model is registered, only its ``active`` row counts.
    """

    def __init__(self, fallback: VersionSource | None = None):
        self.fallback = fallback
        self._last = threading.local()

    def _statuses(self, name: str) -> dict[str, int]:
        return {status: version for status, version in _SERVING.all(name, ACTIVE, SHADOW)}

    def active(self, name: str) -> int | None:
        found = self._statuses(name)
        self._last.pair = (name, found)
        if ACTIVE in found:
            return found[ACTIVE]
        if self.fallback is not None and not ModelVersion.select().where(
                ModelVersion.name == name).exists():
            return self.fallback.active(name)
        return None

    def shadow(self, name: str) -> int | None:
        last = getattr(self._last, "pair", None)
        self._last.pair = None
        found = last[1] if last is not None and last[0] == name else self._statuses(name)
        return found.get(SHADOW)


_scorers: dict[str, Scorer] = {}
_scorers_lock = threading.Lock()


def scorer(models_dir: str | Path) -> Scorer:
    """The process-wide :class:`Scorer` for ``models_dir``, governed by the registry table.

    Boosters are cached inside it (artifacts are immutable); which version is active is asked
    of the database on every score, so all processes follow an activation at once.
    """
    key = str(models_dir)
    with _scorers_lock:
        if key not in _scorers:
            store = ArtifactStore(models_dir)
            _scorers[key] = Scorer(models_dir,
                                   versions=DatabaseVersions(fallback=ShippedVersions(store)))
        return _scorers[key]


def describe(name: str, models_dir: str | Path) -> dict:
    """The model as the API and ``models show`` present it: versions, active metrics, schema.

    ``metrics`` and ``feature_schema`` are the active version's (from its metadata on disk, so
    they are exactly what was recorded at training); with no active version they are null and
    the catalog's schema is shown.
    """
    model = spec(name)
    rows = versions(name)
    current = next((v for v in rows if v.status == ACTIVE), None)
    shadow = next((v for v in rows if v.status == SHADOW), None)
    doc = {"name": name, "outcome": model.outcome, "floor": model.floor.to_json(),
           "active_version": current.version if current else None,
           "shadow_version": shadow.version if shadow else None,
           "versions": [v.to_json() for v in rows], "metrics": None,
           "feature_schema": model.schema.to_json()}
    if current is not None:
        meta = ArtifactStore(models_dir).meta(name, current.version)
        doc["metrics"] = meta.metrics
        doc["feature_schema"] = meta.feature_schema.to_json()
        doc["data_sha256"] = meta.data_sha256
        doc["created_at"] = meta.created_at
    return doc
