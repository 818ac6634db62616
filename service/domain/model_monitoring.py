"""Drift of a model in service: recent scored cases against the training baseline.

Reads the last ``window`` case score records of the model's active version from
``decision_record`` (the features the intake scored with are its ``inputs``; ad-hoc scores, which
have no case, are what-if questions and do not count), computes the population stability
index per feature and for the score (:mod:`scoring.drift`), and writes a ``model.drift_alert``
audit event when any PSI is above 0.2. The alert is written once per window: asking again with
no newer scored case does not repeat it, so a dashboard polling the endpoint does not flood the
audit trail.
"""
from __future__ import annotations

from scoring import drift
from scoring.artifacts import ArtifactStore

from .. import audit
from ..errors import Conflict
from ..store import AuditEvent, DecisionRecord, atomic
from . import model_registry as registry

WINDOW = 500
ALERT_KIND = "model.drift_alert"


def _recent(name: str, version: int, window: int):
    rows = list(DecisionRecord.select(DecisionRecord.id, DecisionRecord.inputs,
                                      DecisionRecord.score)
                .where((DecisionRecord.kind == "score") & (DecisionRecord.model_name == name)
                       & (DecisionRecord.model_version == version)
                       & DecisionRecord.case.is_null(False))
                .order_by(DecisionRecord.id.desc()).limit(window))
    features = [r.inputs.get("features", r.inputs) if isinstance(r.inputs, dict) else {}
                for r in rows]
    return features, [r.score for r in rows if r.score is not None], (rows[0].id if rows else None)


def _already_alerted(name: str, version: int, through: int) -> bool:
    recent = (AuditEvent.select(AuditEvent.detail).where(AuditEvent.kind == ALERT_KIND)
              .order_by(AuditEvent.seq.desc()).limit(50))
    return any(e.detail.get("model") == name and e.detail.get("version") == version
               and e.detail.get("through_record") == through for e in recent)


def check(name: str, models_dir, *, window: int = WINDOW, actor: str = "scoring"
          ) -> drift.DriftReport:
    """PSI report for ``name``'s active version; alerts go to the audit trail."""
    info = registry.active(name)
    if info is None:
        raise Conflict(f"model '{name}' has no active version", model=name)
    meta = ArtifactStore(models_dir).meta(name, info.version)
    features, scores, through = _recent(name, info.version, window)
    report = drift.report(name, info.version, meta.baseline, features, scores)
    if report.alerts:
        with atomic():
            if not _already_alerted(name, info.version, through):
                audit.record(ALERT_KIND, actor=actor, model=name, version=info.version,
                             alerts=report.alerts, threshold=report.threshold,
                             psi={k: report.features.get(k, report.score)
                                  for k in report.alerts},
                             rows=report.rows, through_record=through)
    return report
