"""/engine-rest/external-task: Camunda 7's external-task API for workers.

fetchAndLock (with long polling), complete, failure, bpmnError, extendLock, unlock, and the
queries. Each view calls ``service.usecases.external_tasks``; variables are Camunda's typed
values and errors Camunda's ``{type, message}`` (a lock the worker does not hold is a 400
``BadUserRequestException``, as in Camunda).
"""
from __future__ import annotations

from flask_smorest import Blueprint

from ...errors import BadRequest
from ...usecases import external_tasks
from ..context import clock_of, config
from . import auth, errors
from .schemas import (BpmnErrorBody, CompleteExternalBody, CountAnswer, ExtendLockBody,
                      ExternalTaskAnswer, ExternalTaskQuery, FailureBody, FetchAndLockBody,
                      LockedExternalTaskAnswer)
from .values import from_camunda, to_camunda

blp = Blueprint("engine-rest-external-task", __name__, url_prefix="/engine-rest/external-task",
                description="Camunda's external-task API: workers fetch and lock tasks of the "
                            "topics their account may work (group topic:<name>), then "
                            "complete, fail or report a BPMN error")
blp.before_request(auth.authenticate)
errors.install(blp)

TEXTS = {400: "Invalid request, or a lock the worker does not hold (BadUserRequestException)",
         401: "Authentication required", 403: "Not allowed for this account",
         404: "No such external task visible to you", 409: "Changed by another request"}


_errors = errors.documented(blp, TEXTS)


def _task_id(task_id: str) -> int:
    return errors.task_id(task_id, "external task {!r} does not exist")


def _unsupported_filters(topic: dict) -> None:
    for name in ("businessKey", "processDefinitionKey"):
        if topic.get(name):
            raise BadRequest(f"topics: the {name} filter is not supported here",
                             field=f"topics.{name}")
    if topic.get("processVariables"):
        raise BadRequest("topics: the processVariables filter is not supported here",
                         field="topics.processVariables")


@blp.route("/fetchAndLock", methods=["POST"])
@blp.arguments(FetchAndLockBody, location="json", error_status_code=400)
@blp.response(200, LockedExternalTaskAnswer(many=True))
@_errors(400, 401, 403)
def fetch_and_lock(body):
    """Lock up to ``maxTasks`` tasks of the topics for ``workerId``; with
    ``asyncResponseTimeout`` (ms) wait for work when there is none (long polling)."""
    cfg = config()
    timeout = body.get("asyncResponseTimeout")
    if timeout is not None and timeout > cfg.max_long_poll_ms:
        raise BadRequest(f"asyncResponseTimeout: at most {cfg.max_long_poll_ms} ms here",
                         field="asyncResponseTimeout")
    for topic in body["topics"]:
        _unsupported_filters(topic)
    tasks = external_tasks.fetch_and_lock(
        auth.current(), worker_id=body["workerId"], topics=body["topics"],
        max_tasks=body["maxTasks"], use_priority=bool(body.get("usePriority")),
        async_response_timeout_ms=timeout, config=cfg, **clock_of(cfg))
    for task in tasks:
        task["variables"] = to_camunda(task["variables"])
    return tasks


def _filters(query) -> dict:
    return dict(topic=query.get("topicName"), worker_id=query.get("workerId"),
                locked=query["locked"], not_locked=query["notLocked"],
                with_retries_left=query["withRetriesLeft"],
                no_retries_left=query["noRetriesLeft"],
                process_instance_id=query.get("processInstanceId"),
                activity_id=query.get("activityId"))


@blp.route("", methods=["GET"])
@blp.arguments(ExternalTaskQuery, location="query", error_status_code=400)
@blp.response(200, ExternalTaskAnswer(many=True))
@_errors(400, 401)
def listing(query):
    """Open external tasks of the topics the caller may see, by id."""
    cfg = config()
    return external_tasks.listing(auth.current(), first=query["firstResult"],
                                  limit=query["maxResults"], **_filters(query),
                                  **clock_of(cfg))


@blp.route("/count", methods=["GET"])
@blp.arguments(ExternalTaskQuery, location="query", error_status_code=400)
@blp.response(200, CountAnswer)
@_errors(400, 401)
def count(query):
    """How many open external tasks of the caller's topics match (``{"count": n}``)."""
    cfg = config()
    return {"count": external_tasks.count(auth.current(), **_filters(query), **clock_of(cfg))}


@blp.route("/<task_id>", methods=["GET"])
@blp.response(200, ExternalTaskAnswer)
@_errors(401, 404)
def read(task_id):
    return external_tasks.get(auth.current(), _task_id(task_id))


@blp.route("/<task_id>/complete", methods=["POST"])
@blp.arguments(CompleteExternalBody, location="json", error_status_code=400)
@blp.response(204)
@_errors(400, 401, 403, 404, 409)
def complete(body, task_id):
    """Complete a task the worker holds, with typed ``variables`` (and ``localVariables``)."""
    cfg = config()
    external_tasks.complete(
        auth.current(), _task_id(task_id), worker_id=body["workerId"],
        variables=from_camunda(body["variables"]),
        local_variables=from_camunda(body["localVariables"], where="localVariables"),
        config=cfg, **clock_of(cfg))
    return ""


@blp.route("/<task_id>/failure", methods=["POST"])
@blp.arguments(FailureBody, location="json", error_status_code=400)
@blp.response(204)
@_errors(400, 401, 403, 404, 409)
def failure(body, task_id):
    """Report a failure: with ``retries`` left the task is offered again after
    ``retryTimeout`` ms; at 0 an incident opens naming the element."""
    cfg = config()
    external_tasks.failure(
        auth.current(), _task_id(task_id), worker_id=body["workerId"],
        error_message=body.get("errorMessage"), error_details=body.get("errorDetails"),
        retries=body["retries"], retry_timeout_ms=body.get("retryTimeout") or 0, config=cfg,
        **clock_of(cfg))
    return ""


@blp.route("/<task_id>/bpmnError", methods=["POST"])
@blp.arguments(BpmnErrorBody, location="json", error_status_code=400)
@blp.response(204)
@_errors(400, 401, 403, 404, 409)
def bpmn_error(body, task_id):
    """Report business error ``errorCode``: the error boundary event or error event
    sub-process takes the path; uncaught, an incident opens."""
    cfg = config()
    external_tasks.bpmn_error(
        auth.current(), _task_id(task_id), worker_id=body["workerId"],
        error_code=body["errorCode"], error_message=body.get("errorMessage"),
        variables=from_camunda(body["variables"]), config=cfg, **clock_of(cfg))
    return ""


@blp.route("/<task_id>/extendLock", methods=["POST"])
@blp.arguments(ExtendLockBody, location="json", error_status_code=400)
@blp.response(204)
@_errors(400, 401, 403, 404, 409)
def extend_lock(body, task_id):
    """The worker holding the lock keeps it ``newDuration`` ms from now."""
    cfg = config()
    external_tasks.extend_lock(auth.current(), _task_id(task_id), worker_id=body["workerId"],
                               new_duration_ms=body["newDuration"], config=cfg,
                               **clock_of(cfg))
    return ""


@blp.route("/<task_id>/unlock", methods=["POST"])
@blp.response(204)
@_errors(401, 403, 404, 409)
def unlock(task_id):
    """Release the lock, whoever holds it."""
    cfg = config()
    external_tasks.unlock(auth.current(), _task_id(task_id), config=cfg, **clock_of(cfg))
    return ""
