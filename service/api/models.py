"""/api/v1/models: the risk models, their versions and metrics, ad-hoc scoring, drift.

Reading and scoring need any authenticated caller; changing which version routes cases
(activation, shadow) needs ``admin`` and is governed by :mod:`scoring.registry`.
"""
from __future__ import annotations

from flask import current_app
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from scoring import monitoring, registry
from scoring.catalog import SPECS, spec

from .. import audit
from ..errors import ValidationFailed
from ..store import DecisionRecord, ModelVersion, atomic, to_jsonable
from .auth import current, require
from .limits import MAX_ID

blp = Blueprint("models", __name__, url_prefix="/api/v1/models",
                description="Risk models: versions, metrics, scoring and drift")


class ScoreRequest(Schema):
    features = fields.Dict(required=True, keys=fields.String(),
                           metadata={"description": "feature name -> value, by name"})
    version = fields.Integer(load_default=None, validate=validate.Range(1, MAX_ID),
                             metadata={"description": "a validated version; default the active"})


class Contribution(Schema):
    feature = fields.String()
    value = fields.Raw()
    contribution = fields.Float(metadata={"description": "SHAP value, log-odds"})


class ScoreResponse(Schema):
    probability = fields.Float()
    model = fields.String()
    version = fields.Integer()
    contributions = fields.List(fields.Nested(Contribution))
    shadow = fields.Dict(allow_none=True)


class FeatureSpec(Schema):
    name = fields.String()
    type = fields.String()
    unit = fields.String()
    min = fields.Float(allow_none=True)
    max = fields.Float(allow_none=True)
    levels = fields.List(fields.String(), allow_none=True)
    description = fields.String()


class ModelSchema(Schema):
    name = fields.String()
    outcome = fields.String()
    floor = fields.Dict()
    active_version = fields.Integer(allow_none=True)
    shadow_version = fields.Integer(allow_none=True)
    versions = fields.List(fields.Dict())
    metrics = fields.Dict(allow_none=True, metadata={
        "description": "active version's test metrics: roc_auc, pr_auc, brier, ece, calibration"})
    feature_schema = fields.List(fields.Nested(FeatureSpec))
    data_sha256 = fields.String()
    created_at = fields.String()


class VersionChange(Schema):
    version = fields.Integer(required=True, allow_none=True, validate=validate.Range(1, MAX_ID))
    reason = fields.String(load_default=None, validate=validate.Length(max=2000))


class DriftQuery(Schema):
    window = fields.Integer(load_default=monitoring.WINDOW, validate=validate.Range(10, 50_000))


def _models_dir() -> str:
    return current_app.extensions["omniflow"].models_dir


@blp.before_request
def _registered():
    """Register the shipped artifacts on first use if startup has not (idempotent)."""
    if not ModelVersion.select().exists():
        registry.sync_shipped(_models_dir())


@blp.route("", methods=["GET"])
@blp.response(200)
def listing():
    """Every model with its versions and its active version's metrics."""
    return {"items": [registry.describe(name, _models_dir()) for name in sorted(SPECS)],
            "next": None}


@blp.route("/<name>", methods=["GET"])
@blp.response(200, ModelSchema)
def show(name):
    """One model: versions, the active version's metrics and feature schema."""
    return registry.describe(name, _models_dir())


@blp.route("/<name>/versions/<int:version>", methods=["GET"])
def show_version(name, version):
    """One version's registry row with its recorded metrics."""
    return registry.version(name, version).to_json(with_metrics=True)


@blp.route("/<name>/score", methods=["POST"])
@blp.arguments(ScoreRequest, location="json")
@blp.response(200, ScoreResponse)
def score(body, name):
    """Score features ad hoc; recorded (without a case) and audited, never routes anything."""
    who = current()
    spec(name)
    result = registry.scorer(_models_dir()).score(name, body["features"],
                                                  version=body["version"])
    answer = to_jsonable(result.to_json())
    with atomic():
        DecisionRecord.create(kind="score", inputs=to_jsonable(body["features"]),
                              outputs={"probability": result.probability}, model_name=name,
                              model_version=result.version, score=result.probability,
                              contributions=answer["contributions"], shadow=answer.get("shadow"),
                              actor=who.name)
        audit.record("model.scored", actor=who.name, model=name, version=result.version,
                     probability=result.probability, contributions=answer["contributions"])
    return answer


@blp.route("/<name>/drift", methods=["GET"])
@blp.arguments(DriftQuery, location="query")
def drift(query, name):
    """PSI per feature and for the score: recent scored cases vs the training baseline."""
    spec(name)
    return monitoring.check(name, _models_dir(), window=query["window"]).to_json()


@blp.route("/<name>/activation", methods=["POST"])
@require(lambda who: who.is_admin, "activating a model version needs the admin role")
@blp.arguments(VersionChange, location="json")
def activation(body, name):
    """Make a validated version the one that routes cases (audited)."""
    spec(name)
    if body["version"] is None:
        raise ValidationFailed("version is required", field="version")
    info = registry.activate(name, body["version"], actor=current().name, reason=body["reason"])
    return info.to_json(with_metrics=True)


@blp.route("/<name>/shadow", methods=["POST"])
@require(lambda who: who.is_admin, "changing the shadow version needs the admin role")
@blp.arguments(VersionChange, location="json")
def shadow(body, name):
    """Score a validated candidate beside the active version (``version: null`` stops it)."""
    spec(name)
    info = registry.set_shadow(name, body["version"], actor=current().name, reason=body["reason"])
    return {"name": name, "shadow_version": info.version if info else None}
