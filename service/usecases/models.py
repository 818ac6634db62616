"""The risk models: versions, metrics, ad-hoc scoring, drift, activation, shadow, training.

Reading and scoring need any authenticated caller except auditors for scoring (a score writes a
record); changing which version routes cases (activation, shadow) needs ``admin`` and is
governed by :mod:`service.domain.model_registry`.
"""
from __future__ import annotations

from scoring.artifacts import ArtifactStore
from scoring.catalog import SPECS, spec
from scoring.dataset import read_csv
from scoring.synthetic import generate
from scoring.training import train as fit

from ..domain import model_monitoring, model_registry
from ..errors import Forbidden, ValidationFailed
from ..policy import Identity
from ..store import DecisionRecord, ModelVersion, to_jsonable
from ..telemetry import SCORING_LATENCY, timed
from .unit_of_work import UnitOfWork

DRIFT_WINDOW = model_monitoring.WINDOW


def ensure_registered(models_dir: str) -> None:
    """Register the shipped artifacts if startup has not (idempotent)."""
    if not ModelVersion.select().exists():
        model_registry.sync_shipped(models_dir)


def sync_shipped(models_dir: str) -> list:
    return model_registry.sync_shipped(models_dir)


def listing(models_dir: str) -> dict:
    ensure_registered(models_dir)
    return {"items": [model_registry.describe(name, models_dir) for name in sorted(SPECS)],
            "next": None}


def show(name: str, models_dir: str) -> dict:
    ensure_registered(models_dir)
    return model_registry.describe(name, models_dir)


def version(name: str, number: int, models_dir: str) -> dict:
    ensure_registered(models_dir)
    return model_registry.version(name, number).to_json(with_metrics=True)


def versions(name: str) -> list:
    return model_registry.versions(name)


def version_meta(name: str, number: int, models_dir: str):
    """The version's registry row and its metadata on disk (for ``models show``)."""
    return model_registry.version(name, number), ArtifactStore(models_dir).meta(name, number)


def floor_failures(name: str, metrics: dict) -> list[str]:
    """Why ``metrics`` do not pass the model's floor (empty: validated)."""
    return spec(name).floor.failures(metrics)


def score(who: Identity, name: str, features: dict, *, version: int | None, models_dir: str
          ) -> dict:
    """Score features ad hoc; recorded (without a case) and audited, never routes anything."""
    if who.is_auditor and not who.is_admin:
        raise Forbidden("auditors read models; scoring writes a decision record")
    ensure_registered(models_dir)
    spec(name)
    with timed(SCORING_LATENCY, name):
        result = model_registry.scorer(models_dir).score(name, features, version=version)
    answer = to_jsonable(result.to_json())
    uow = UnitOfWork(who.name)
    with uow.writing():
        DecisionRecord.create(kind="score", inputs=to_jsonable(features),
                              outputs={"probability": result.probability}, model_name=name,
                              model_version=result.version, score=result.probability,
                              contributions=answer["contributions"], shadow=answer.get("shadow"),
                              actor=who.name)
        uow.record("model.scored", model=name, version=result.version,
                   probability=result.probability, contributions=answer["contributions"])
    return answer


def drift(name: str, models_dir: str, *, window: int = DRIFT_WINDOW) -> dict:
    """PSI per feature and for the score: recent scored cases vs the training baseline."""
    ensure_registered(models_dir)
    spec(name)
    return model_monitoring.check(name, models_dir, window=window).to_json()


def activate(who_name: str, name: str, number: int | None, *, reason: str | None,
             models_dir: str) -> dict:
    """Make a validated version the one that routes cases (audited)."""
    ensure_registered(models_dir)
    spec(name)
    if number is None:
        raise ValidationFailed("version is required", field="version")
    info = model_registry.activate(name, number, actor=who_name, reason=reason)
    return info.to_json(with_metrics=True)


def set_shadow(who_name: str, name: str, number: int | None, *, reason: str | None,
               models_dir: str) -> dict:
    """Score a validated candidate beside the active version (``None`` stops it)."""
    ensure_registered(models_dir)
    spec(name)
    info = model_registry.set_shadow(name, number, actor=who_name, reason=reason)
    return {"name": name, "shadow_version": info.version if info else None}


def train(name: str, *, models_dir: str, data_path: str | None, rows: int, seed: int,
          progress=None, on_data=None):
    """Train a new version of ``name`` and register it as a candidate; returns (meta, info,
    floor failures). ``on_data(data)`` is told what is about to be trained on."""
    # Register what is already on disk first, so the new version joins as a candidate
    # rather than being taken for a shipped default at the next start.
    model_registry.sync_shipped(models_dir)
    model_spec = spec(name)
    data = read_csv(data_path, name, model_spec.schema) if data_path else generate(name, rows, seed)
    if on_data is not None:
        on_data(data)
    trained = fit(model_spec, data, progress=progress)
    meta = ArtifactStore(models_dir).save(trained)
    info = model_registry.register(meta)
    return trained, meta, info, model_spec.floor.failures(meta.metrics)


__all__ = ["activate", "drift", "ensure_registered", "floor_failures", "listing", "score", "set_shadow", "show",
           "sync_shipped", "train", "version", "version_meta", "versions"]
