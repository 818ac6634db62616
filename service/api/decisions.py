"""/api/v1/decisions/{key}/evaluate and /what-if: evaluate a deployed decision with typed JSON
inputs; replay past decisions against a candidate table."""
from __future__ import annotations

from flask import request
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..errors import ValidationFailed
from ..usecases import decisions
from ..usecases import shadow_decisions
from ..usecases import what_if as what_if_usecase
from .answers import answered
from .auth import current
from .context import config
from .deployments import uploaded_files
from .limits import MAX_ID


class EvaluateQuery(Schema):
    version = fields.Integer(validate=validate.Range(1, MAX_ID),
                             metadata={"description": "A version of the DMN definition"})


class WhatIfQuery(Schema):
    since = fields.String(metadata={"description": "ISO 8601: records from this time"})
    until = fields.String(metadata={"description": "ISO 8601: records before this time"})
    case_type = fields.String(validate=validate.Length(1, 200),
                              metadata={"description": "only records of cases of this type"})
    limit = fields.Integer(validate=validate.Range(1, 1_000_000),
                           metadata={"description": "the newest N records (default 100000)"})
    decision = fields.String(validate=validate.Length(1, 200), metadata={
        "description": "the decision of the file (default: its first; or the key itself)"})


blp = Blueprint("decisions", __name__, url_prefix="/api/v1/decisions",
                description="Evaluate deployed DMN decisions")


@blp.route("/<key>/evaluate", methods=["POST"])
@blp.arguments(EvaluateQuery, location="query")
def evaluate(args, key):
    """Evaluate decision `key` (newest version, or `?version=N` of its DMN definition).

    JSON has no dates or durations: `{"type": "date", "value": "2026-01-31"}` gives one (also
    `time`, `datetime`, `duration`, `number`).
    """
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationFailed("send {\"inputs\": {...}}", field="inputs")
    return decisions.evaluate(current(), key, body.get("inputs", {}), version=args.get("version"))


@blp.route("/<key>/what-if", methods=["POST"])
@blp.doc(**answered(200, "Replayed, changed, transitions by output, rules that start or "
                               "stop matching, examples"))
@blp.arguments(WhatIfQuery, location="query")
def what_if(args, key):
    """Replay past decisions of `key` against a candidate DMN file (multipart field `files`,
    as for a deployment), changing nothing.

    `key` is the DMN definition key or a decision id. Filters come as query parameters or
    form fields: `since`, `until`, `case_type`, `limit`. The answer counts the replayed and
    changed decisions, the changes by output and from -> to value (`transitions`), the rules
    that start or stop matching, and example cases. A candidate that does not parse or
    defines another key is a 422 naming the file and element.
    """
    who = current()
    form = {k: request.form.get(k) for k in ("since", "until", "case_type", "limit", "decision")
            if request.form.get(k)}
    chosen = {**form, **args}
    return what_if_usecase.decision(who, key, uploaded_files(), config=config(),
                                    decision_id=chosen.pop("decision", None), **chosen)


class ShadowReportQuery(Schema):
    since = fields.String()
    until = fields.String()
    limit = fields.Integer(validate=validate.Range(1, 1_000_000))


@blp.route("/<key>/shadow", methods=["POST"])
@blp.doc(**answered(201, "The shadow version set beside the live one"))
def set_shadow(key):
    """Set a candidate DMN file (multipart `files`) as the shadow of the deployed definition
    `key`: live evaluations also evaluate it and record its outcome beside theirs (the
    decision record's `shadow`), never acting on it. Checked as a what-if checks it (422
    naming the file and element)."""
    return shadow_decisions.set_shadow(current(), key, uploaded_files(), config=config()), 201


@blp.route("/<key>/shadow", methods=["DELETE"])
@blp.doc(**answered(200, "The shadow removed"))
def remove_shadow(key):
    """Stop evaluating the shadow of `key`."""
    return shadow_decisions.remove_shadow(current(), key)


@blp.route("/<key>/shadow", methods=["GET"])
@blp.doc(**answered(200, "The shadow against the live table over the records"))
@blp.arguments(ShadowReportQuery, location="query")
def shadow_report(args, key):
    """The shadow against the live table over the decision records that carry both:
    compared, differed, changes by output and from -> to value, rules that match in one and
    not the other, examples, shadow errors."""
    return shadow_decisions.report(current(), key, **args)
