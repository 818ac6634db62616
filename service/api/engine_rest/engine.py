"""/engine-rest: version, deployment create, start by key, message, evaluate decision by key.

Each call maps to the use case our own API calls (``service.usecases.camunda``), so Camunda
Modeler's deploy button, the Python clients' ``EngineClient`` and other tools work unchanged.
"""
from __future__ import annotations

from flask import request
from flask_smorest import Blueprint

from ...errors import ValidationFailed
from ...usecases import camunda
from ..context import clock_of, config
from ..deployments import MAX_FILE_NAME
from . import auth, errors
from .schemas import (DeploymentAnswer, EvaluateBody, MessageBody, ProcessInstanceAnswer,
                      StartBody, VersionAnswer)
from .values import from_camunda, to_camunda

blp = Blueprint("engine-rest", __name__, url_prefix="/engine-rest",
                description="The Camunda 7 REST subset tools use first (Camunda's shapes and "
                            "error body {type, message})")
blp.before_request(auth.authenticate)
errors.install(blp)

ERRORS = {400: "Invalid request (names the field)", 401: "Authentication required",
          403: "Not allowed for this account", 404: "Unknown key or id"}


_errors = errors.documented(blp, ERRORS)


@blp.route("/version", methods=["GET"])
@blp.response(200, VersionAnswer)
def version():
    """The Camunda REST API level these endpoints follow (no authentication needed)."""
    return camunda.version()


@blp.route("/deployment/create", methods=["POST"])
@blp.doc(requestBody={"content": {"multipart/form-data": {"schema": {
    "type": "object", "properties": {
        "deployment-name": {"type": "string"}, "deployment-source": {"type": "string"},
        "deploy-changed-only": {"type": "boolean"},
        "enable-duplicate-filtering": {"type": "boolean"},
        "data": {"type": "string", "format": "binary",
                 "description": "each file in its own part; any part name"}}}}}})
@blp.response(200, DeploymentAnswer)
@_errors(400, 401, 403)
def deployment_create():
    """Deploy the files of a multipart form (Camunda Modeler's deploy button): all or nothing;
    unchanged files keep their version (``deploy-changed-only`` semantics)."""
    who = auth.current()
    camunda.require_deployer(who)       # before reading what may be megabytes of files
    files = {}
    for _, storage in request.files.items(multi=True):
        name = (storage.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
        if not name or len(name) > MAX_FILE_NAME or not name.isprintable():
            raise ValidationFailed("every file part needs a printable file name of at most "
                                   f"{MAX_FILE_NAME} characters", field="data")
        if name in files:
            raise ValidationFailed(f"{name}: sent twice in one deployment", field="data",
                                   file=name)
        files[name] = storage.read()
    if not files:
        raise ValidationFailed("send at least one file part", field="data")
    name = request.form.get("deployment-name") or None
    source = request.form.get("deployment-source") or None
    return camunda.deploy(who, files, name=name and name[:200], source=source and source[:200],
                          config=config())


@blp.route("/process-definition/key/<key>/start", methods=["POST"])
@blp.arguments(StartBody, location="json", error_status_code=400)
@blp.response(200, ProcessInstanceAnswer)
@_errors(400, 401, 403, 404)
def start(body, key):
    """Start a process (open a case of type ``key``) with typed variables and a business key
    (the case's external reference). ``Idempotency-Key`` replays the first answer."""
    cfg = config()
    status, answer = camunda.start(auth.current(), key, from_camunda(body["variables"]),
                                   business_key=body.get("businessKey"),
                                   idempotency_key=request.headers.get("Idempotency-Key"),
                                   config=cfg, **clock_of(cfg))
    return answer, status


@blp.route("/message", methods=["POST"])
@blp.arguments(MessageBody, location="json", error_status_code=400)
@blp.response(204)
@blp.alt_response(200, description="resultEnabled: the correlation results")
@_errors(400, 401, 403, 404)
def message(body):
    """Correlate a message to the instance waiting for it (or a message start event);
    ``Idempotency-Key`` makes a repeated send a no-op."""
    cfg = config()
    result = camunda.correlate(
        auth.current(), body["messageName"],
        correlation=from_camunda(body["correlationKeys"], where="correlationKeys"),
        variables=from_camunda(body["processVariables"], where="processVariables"),
        business_key=body.get("businessKey"), instance_id=body.get("processInstanceId"),
        message_id=request.headers.get("Idempotency-Key"), config=cfg, **clock_of(cfg))
    if body.get("resultEnabled"):
        return [result], 200
    return "", 204


@blp.route("/decision-definition/key/<key>/evaluate", methods=["POST"])
@blp.arguments(EvaluateBody, location="json", error_status_code=400)
@blp.response(200)
@_errors(400, 401, 403, 404)
def evaluate(body, key):
    """Evaluate a deployed decision: a list with one map of typed outputs per matched rule."""
    results = camunda.evaluate(auth.current(), key, from_camunda(body["variables"]))
    return [to_camunda(r) for r in results]
