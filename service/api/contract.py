"""The API contract, made true of every operation and enforced at the edge.

The OpenAPI document is generated from the views; this module adds what every operation shares
so no view can forget it (an apispec plugin, run as each path is documented):

- its **security**: ``bearer`` (or the pages' session cookie) under ``/api/v1``, ``bearer`` or
  ``basic`` under ``/engine-rest``, none for the public probes and ``/metrics``;
- its **error answers** as the real problem+json (:class:`~service.api.problems.ProblemSchema`,
  ``application/problem+json``): 400 (malformed, or an unknown query parameter), 401 when
  secured, 404 when the path names something, 413 when it takes a body, 422 for invalid input,
  and a ``default`` for the rest; flask-smorest's own ``Error`` schema never matched them;
- its **success answer**, for the views that return a plain dict: :data:`SUCCESS` says which
  status and what it is.

And :func:`init_app` refuses query parameters an operation does not declare (400 naming the
parameter and the known ones): ``/cases?q=2002`` used to answer every case.
"""
from __future__ import annotations

import re

from apispec import BasePlugin
from flask import Flask, request

from ..errors import BadRequest
from .problems import DESCRIPTIONS, PROBLEM, ProblemSchema

PROBLEM_REF = "Problem"
PUBLIC = ("/healthz", "/readyz", "/metrics", "/engine-rest/version")
CHECKED = ("/api/v1/", "/healthz", "/readyz", "/metrics")
METHODS = ("get", "put", "post", "delete", "patch")
ANY_OBJECT = {"type": "object", "additionalProperties": True}
PAGE = {"type": "object", "properties": {
    "items": {"type": "array", "items": ANY_OBJECT},
    "next": {"type": "string", "nullable": True,
             "description": "The cursor of the next page (null: the last page)"}}}

# (method, path) -> (status, description, schema) for views that answer a plain dict.
SUCCESS = {
    ("get", "/api/v1/cases"): (200, "A page of the cases the caller may see", PAGE),
    ("get", "/api/v1/cases/{case_id}"): (200, "The case with its tasks and decisions", ANY_OBJECT),
    ("get", "/api/v1/cases/{case_id}/timeline"): (200, "The case's audit events in words",
                                                   ANY_OBJECT),
    ("post", "/api/v1/cases/{case_id}/cancel"): (200, "The cancelled case", ANY_OBJECT),
    ("get", "/api/v1/tasks"): (200, "A page of the caller's inbox", PAGE),
    ("get", "/api/v1/tasks/{task_id}"): (200, "The task with its form and case", ANY_OBJECT),
    ("post", "/api/v1/tasks/{task_id}/claim"): (200, "The claimed task", ANY_OBJECT),
    ("post", "/api/v1/tasks/{task_id}/unclaim"): (200, "The task, back in the group's inbox",
                                                  ANY_OBJECT),
    ("post", "/api/v1/tasks/{task_id}/delegate"): (200, "The delegated task", ANY_OBJECT),
    ("post", "/api/v1/tasks/{task_id}/complete"): (200, "The completed task and what the case "
                                                        "did next", ANY_OBJECT),
    ("post", "/api/v1/deployments"): (201, "What was deployed (new versions) and what was "
                                           "unchanged", ANY_OBJECT),
    ("get", "/api/v1/definitions"): (200, "The newest version of every deployed definition",
                                     PAGE),
    ("get", "/api/v1/definitions/{key}"): (200, "The definition's versions and one source",
                                           ANY_OBJECT),
    ("post", "/api/v1/decisions/{key}/evaluate"): (200, "The decision's outputs, matched rules "
                                                        "and version", ANY_OBJECT),
    ("get", "/api/v1/audit"): (200, "A page of audit events", PAGE),
    ("get", "/api/v1/audit/verify"): (200, "Whether the chain verifies, and where it breaks",
                                      ANY_OBJECT),
    ("get", "/api/v1/audit/checkpoints"): (200, "The signed checkpoints of the chain's head",
                                           ANY_OBJECT),
    ("get", "/api/v1/models/{name}/versions/{version}"): (200, "One model version with its "
                                                               "metrics", ANY_OBJECT),
    ("get", "/api/v1/models/{name}/drift"): (200, "Population stability per feature and for "
                                                  "the score", ANY_OBJECT),
    ("post", "/api/v1/models/{name}/activation"): (200, "The activated version", ANY_OBJECT),
    ("post", "/api/v1/models/{name}/shadow"): (200, "The shadow version (or none)", ANY_OBJECT),
    ("get", "/api/v1/signals/{signal_id}"): (200, "The signal and its processing outcome",
                                             ANY_OBJECT),
    ("get", "/api/v1/incidents"): (200, "A page of incidents the caller may see", PAGE),
}
EXTRA_DESCRIPTIONS = {400: "Malformed: not JSON, a value the service cannot hold, or a query "
                           "parameter the operation does not declare",
                      "default": "Any other error, as problem+json"}


def _problem(code) -> dict:
    text = EXTRA_DESCRIPTIONS.get(code) or DESCRIPTIONS.get(code, "Error")
    return {"description": text, "content": {PROBLEM: {"schema": PROBLEM_REF}}}


class ContractPlugin(BasePlugin):
    """Security, problem+json errors and success answers on every operation."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for method, operation in (operations or {}).items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for code in [c for c in responses if not isinstance(c, str)]:
                responses[str(code)] = responses.pop(code)
            if path in PUBLIC:
                operation["security"] = []
            elif path.startswith("/engine-rest"):
                operation.setdefault("security", [{"bearer": []}, {"basic": []}])
                continue               # Camunda's own error shape, documented by its views
            elif path.startswith("/api/v1"):
                operation.setdefault("security", [{"bearer": []}, {"session": []}])
                responses.setdefault("401", _problem(401))
            if not any(str(code).startswith("2") for code in responses):
                status, text, schema = SUCCESS.get((method, path), (None, None, None))
                if status is not None:
                    responses[str(status)] = {"description": text,
                                              "content": {"application/json": {"schema": schema}}}
            for code in list(responses):
                if isinstance(responses[code], str):          # flask-smorest's Error schema
                    responses[code] = _problem(int(code) if code.isdigit() else code)
            if path.startswith("/api/v1"):
                for code, response in responses.items():
                    if code[:1] in ("4", "5") and isinstance(response, dict):
                        # Every error under /api/v1 is problem+json (service/api/errors.py),
                        # whatever a view's decorator said.
                        response["content"] = {PROBLEM: {"schema": PROBLEM_REF}}
                responses.setdefault("400", _problem(400))
                if "{" in path:
                    responses.setdefault("404", _problem(404))
                if method in ("post", "put", "patch"):
                    responses.setdefault("413", _problem(413))
            responses["default"] = _problem("default")


def document(spec) -> None:
    """Register the problem schema and the security schemes; call before any blueprint."""
    spec.components.schema(PROBLEM_REF, schema=ProblemSchema)
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.security_scheme("basic", {"type": "http", "scheme": "basic",
                                              "description": "/engine-rest: user name and token"})
    spec.components.security_scheme("session", {
        "type": "apiKey", "in": "cookie", "name": "omniflow_session",
        "description": "The pages' session; a change also needs the X-CSRF-Token header"})


_RULE_PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def init_app(app: Flask, api) -> None:
    """Refuse query parameters an operation does not declare (after authentication)."""
    known: dict[tuple[str, str], frozenset] = {}

    def declared(method: str, rule: str) -> frozenset | None:
        if not known:
            for path, operations in api.spec.to_dict()["paths"].items():
                for verb, operation in operations.items():
                    if verb in METHODS:
                        known[(verb, path)] = frozenset(
                            p["name"] for p in operation.get("parameters", [])
                            if isinstance(p, dict) and p.get("in") == "query")
        return known.get((method, _RULE_PARAM.sub(r"{\1}", rule)))

    @app.before_request
    def _known_query_parameters():
        if not request.args or request.url_rule is None:
            return
        if not request.path.startswith(CHECKED):
            return
        allowed = declared(request.method.lower(), request.url_rule.rule)
        if allowed is None:
            return
        for name in request.args:
            if name not in allowed:
                hint = (f"; this operation takes {', '.join(sorted(allowed))}" if allowed
                        else "; this operation takes none")
                raise BadRequest(f"unknown query parameter {name!r}{hint}", field=name,
                                 known=sorted(allowed))


__all__ = ["ContractPlugin", "SUCCESS", "document", "init_app"]
