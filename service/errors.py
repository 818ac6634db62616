"""The one error hierarchy of Omniflow.

Every error a caller can see derives from :class:`OmniflowError`, carries its HTTP status and a
stable problem ``type`` (RFC 9457), and is rendered as ``application/problem+json`` at the API
edge. Engines raise these without knowing about HTTP; the status is just data.

    OmniflowError (500 internal)
    ├── BadRequest (400 bad-request)
    ├── Unauthorized (401 unauthorized)
    ├── Forbidden (403 forbidden)
    │   └── PolicyViolation (403 policy-violation)
    ├── NotFound (404 not-found)
    │   └── NoWaitingInstance (404 no-waiting-instance)   a message nobody waits for (not kept)
    ├── Conflict (409 conflict)
    │   └── StaleInstance (409 stale-instance)
    ├── PayloadTooLarge (413 payload-too-large)
    ├── ValidationFailed (422 validation-failed)
    │   ├── DefinitionInvalid (422 definition-invalid)   analysts' BPMN/DMN/rules at fault
    │   ├── IdempotencyMismatch (422 idempotency-mismatch)
    │   └── FeatureInvalid (422 feature-invalid)         a scoring feature missing or out of range
    ├── EngineFailure (500 engine-failure)               a process could not be run (becomes an incident)
    ├── SchemaOutdated (503 schema-outdated)             the database needs 'server.py migrate'
    └── AuditUnavailable (503 audit-unavailable)         the audit chain cannot be extended safely

Foreign errors (SpiffWorkflow, FEEL, peewee, durable-rules, XGBoost) are translated once, at the
adapter that calls them, with ``raise ... from exc``.
"""
from __future__ import annotations

from typing import Any


class OmniflowError(Exception):
    status = 500
    type = "internal"
    title = "Internal error"

    def __init__(self, detail: str, **extra: Any):
        super().__init__(detail)
        self.detail = detail
        # Machine-readable context: field, element, line, file, errors...
        self.extra = {k: v for k, v in extra.items() if v is not None}

    def to_problem(self) -> dict:
        body = {"type": f"/problems/{self.type}", "title": self.title,
                "status": self.status, "detail": self.detail}
        for key, value in self.extra.items():
            # The RFC 9457 members keep their meaning: a caller's ``status="completed"`` (the
            # state of the object at fault) goes under ``context``, never over the HTTP status.
            if key in body or key == "context":
                body.setdefault("context", {})[key] = value
            else:
                body[key] = value
        return body


class BadRequest(OmniflowError):
    status, type, title = 400, "bad-request", "Bad request"


class Unauthorized(OmniflowError):
    status, type, title = 401, "unauthorized", "Authentication required"


class Forbidden(OmniflowError):
    status, type, title = 403, "forbidden", "Forbidden"


class PolicyViolation(Forbidden):
    type, title = "policy-violation", "Policy violation"


class NotFound(OmniflowError):
    status, type, title = 404, "not-found", "Not found"


class NoWaitingInstance(NotFound):
    type, title = "no-waiting-instance", "No instance waits for this message"


class Conflict(OmniflowError):
    status, type, title = 409, "conflict", "Conflict"


class StaleInstance(Conflict):
    type, title = "stale-instance", "The instance was changed by another request"


class PayloadTooLarge(OmniflowError):
    status, type, title = 413, "payload-too-large", "Payload too large"


class ValidationFailed(OmniflowError):
    status, type, title = 422, "validation-failed", "Validation failed"


class DefinitionInvalid(ValidationFailed):
    type, title = "definition-invalid", "Definition is invalid"


class IdempotencyMismatch(ValidationFailed):
    type, title = "idempotency-mismatch", "Idempotency key reused with a different request"


class FeatureInvalid(ValidationFailed):
    type, title = "feature-invalid", "Scoring feature invalid"


class EngineFailure(OmniflowError):
    status, type, title = 500, "engine-failure", "Process engine failure"


class SchemaOutdated(OmniflowError):
    status, type, title = 503, "schema-outdated", "The database schema is not up to date"


class AuditUnavailable(OmniflowError):
    status, type, title = 503, "audit-unavailable", "The audit trail cannot be written"
