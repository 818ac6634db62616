"""/api/v1/models: the risk models, their versions and metrics, ad-hoc scoring, drift.

Reading needs any authenticated caller, scoring any but an auditor; changing which version routes cases
(activation, shadow) needs ``admin`` and is governed by the model registry (``service/domain/model_registry.py``).
"""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..usecases import models
from ..usecases import what_if as what_if_usecase
from .answers import answered
from .auth import current, require
from .context import config
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
    window = fields.Integer(load_default=models.DRIFT_WINDOW, validate=validate.Range(10, 50_000))


def _models_dir() -> str:
    return config().models_dir


@blp.route("", methods=["GET"])
@blp.response(200)
def listing():
    """Every model with its versions and its active version's metrics."""
    current()
    return models.listing(_models_dir())


@blp.route("/<name>", methods=["GET"])
@blp.response(200, ModelSchema)
def show(name):
    """One model: versions, the active version's metrics and feature schema."""
    current()
    return models.show(name, _models_dir())


@blp.route("/<name>/versions/<int:version>", methods=["GET"])
def show_version(name, version):
    """One version's registry row with its recorded metrics."""
    current()
    return models.version(name, version, _models_dir())


@blp.route("/<name>/score", methods=["POST"])
@blp.arguments(ScoreRequest, location="json")
@blp.response(200, ScoreResponse)
def score(body, name):
    """Score features ad hoc; recorded (without a case) and audited, never routes anything."""
    return models.score(current(), name, body["features"], version=body["version"],
                        models_dir=_models_dir())


@blp.route("/<name>/drift", methods=["GET"])
@blp.arguments(DriftQuery, location="query")
def drift(query, name):
    """PSI per feature and for the score: recent scored cases vs the training baseline."""
    current()
    return models.drift(name, _models_dir(), window=query["window"])


@blp.route("/<name>/activation", methods=["POST"])
@require(lambda who: who.is_admin, "activating a model version needs the admin role")
@blp.arguments(VersionChange, location="json")
def activation(body, name):
    """Make a validated version the one that routes cases (audited)."""
    return models.activate(current().name, name, body["version"], reason=body["reason"],
                           models_dir=_models_dir())


@blp.route("/<name>/shadow", methods=["POST"])
@require(lambda who: who.is_admin, "changing the shadow version needs the admin role")
@blp.arguments(VersionChange, location="json")
def shadow(body, name):
    """Score a validated candidate beside the active version (``version: null`` stops it)."""
    return models.set_shadow(current().name, name, body["version"], reason=body["reason"],
                             models_dir=_models_dir())


class WhatIfRequest(Schema):
    version = fields.Integer(required=True, validate=validate.Range(1, MAX_ID),
                             metadata={"description": "the candidate version (registered)"})
    since = fields.String(load_default=None)
    until = fields.String(load_default=None)
    case_type = fields.String(load_default=None, validate=validate.Length(1, 200))
    limit = fields.Integer(load_default=None, validate=validate.Range(1, 1_000_000))


@blp.route("/<name>/what-if", methods=["POST"])
@blp.doc(**answered(200, "How many cases change risk band with the candidate"))
@blp.arguments(WhatIfRequest)
def what_if(body, name):
    """Rescore the recorded features of past cases with a candidate version, changing
    nothing: how many cases change risk band (low < 0.3 <= medium < 0.7 <= high)."""
    version = body.pop("version")
    return what_if_usecase.model(current(), name, version, config=config(), **body)
