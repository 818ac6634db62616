"""/engine-rest/task: list, read, claim, unclaim and complete user tasks (the inbox's rules)."""
from __future__ import annotations

from flask_smorest import Blueprint

from ...usecases import camunda
from ..context import clock_of, config
from . import auth, errors
from .schemas import ClaimBody, CompleteTaskBody, TaskAnswer, TaskQuery
from .values import from_camunda, to_camunda

blp = Blueprint("engine-rest-task", __name__, url_prefix="/engine-rest/task",
                description="Camunda's user task calls on the inbox: same visibility, four-eyes "
                            "and authority checks as /api/v1/tasks")
blp.before_request(auth.authenticate)
errors.install(blp)


TEXTS = {400: "Invalid request", 401: "Authentication required", 403: "Not allowed",
         404: "No such task visible to you", 409: "Changed by another request"}
_errors = errors.documented(blp, TEXTS)


def _task_id(task_id: str) -> int:
    return errors.task_id(task_id, "task {!r} not found")


@blp.route("", methods=["GET"])
@blp.arguments(TaskQuery, location="query", error_status_code=400)
@blp.response(200, TaskAnswer(many=True))
@_errors(400, 401, 403, 404, 409)
def listing(query):
    """Open tasks the caller may see, by id (``firstResult``/``maxResults`` paging)."""
    return camunda.task_list(
        auth.current(), process_instance_id=query.get("processInstanceId"),
        process_definition_key=query.get("processDefinitionKey"),
        task_definition_key=query.get("taskDefinitionKey"), assignee=query.get("assignee"),
        candidate_group=query.get("candidateGroup"), unassigned=query["unassigned"],
        first=query["firstResult"], limit=query["maxResults"])


@blp.route("/<task_id>", methods=["GET"])
@blp.response(200, TaskAnswer)
@_errors(400, 401, 403, 404, 409)
def read(task_id):
    return camunda.task_get(auth.current(), _task_id(task_id))


@blp.route("/<task_id>/claim", methods=["POST"])
@blp.arguments(ClaimBody, location="json", error_status_code=400)
@blp.response(204)
@_errors(400, 401, 403, 404, 409)
def claim(body, task_id):
    """Claim a task for yourself (``userId`` must be you)."""
    camunda.task_claim(auth.current(), _task_id(task_id), body.get("userId"))
    return ""


@blp.route("/<task_id>/unclaim", methods=["POST"])
@blp.response(204)
@_errors(400, 401, 403, 404, 409)
def unclaim(task_id):
    camunda.task_unclaim(auth.current(), _task_id(task_id))
    return ""


@blp.route("/<task_id>/complete", methods=["POST"])
@blp.arguments(CompleteTaskBody, location="json", error_status_code=400)
@blp.response(204)
@blp.alt_response(200, description="withVariablesInReturn: the submitted variables")
@_errors(400, 401, 403, 404, 409)
def complete(body, task_id):
    """Complete a task with typed variables (only the form's fields, as in the inbox)."""
    cfg = config()
    variables = from_camunda(body["variables"])
    camunda.task_complete(auth.current(), _task_id(task_id), variables, config=cfg,
                          **clock_of(cfg))
    if body.get("withVariablesInReturn"):
        return to_camunda(variables), 200
    return ""
