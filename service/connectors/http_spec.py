"""HTTP connector files: what an analyst declares about a system that takes calls.

A connector file (``<name>.connector.json``) is deployed like a rules file, versioned like every
definition, and says how one connector name (a service task's connector, an external task's
topic) becomes one HTTP request::

    {"connector": "oms.reship",
     "method": "POST",
     "url": "{env.OMNIFLOW_CONNECTOR_OMS_URL}/orders/{order_id}/reship",
     "headers": {"X-Channel": "omniflow"},
     "auth": {"bearer": "OMNIFLOW_CONNECTOR_OMS_TOKEN"},
     "body": {"order": "{order_id}", "reason": "{reason}"},
     "timeout_seconds": 5,
     "retry": {"max_attempts": 5, "backoff_seconds": 10, "factor": 2,
               "max_backoff_seconds": 3600, "on_status": [429, 500, 502, 503, 504]},
     "response": {"shipment_id": "shipment.id", "http_status": "$status"},
     "errors": {"409": "ALREADY_SHIPPED", "4xx": "OMS_REJECTED"}}

* Templates: ``{name}`` (or ``{a.b}``) is a task variable, URL-quoted in the URL; a body string
  that is exactly one ``{name}`` keeps the variable's JSON type. ``{env.NAME}`` is an environment
  variable (URL, headers and auth only), and only ``OMNIFLOW_CONNECTOR_*`` ones: the analyst's
  file is untrusted and must not read the database password. ``{{`` and ``}}`` are braces.
* No ``body``: the task's variables are the body. ``GET`` and ``DELETE`` send none.
* ``auth``: ``{"bearer": ENV}``, ``{"basic": {"username": ENV, "password": ENV}}`` or
  ``{"header": "X-Api-Key", "value": ENV}``; values name environment variables.
* ``response``: task variable -> a dotted path into the JSON answer (``"."`` the whole answer,
  ``"$status"`` the HTTP status).
* ``errors``: HTTP status (``"409"``) or class (``"4xx"``) -> BPMN error code; the exact status
  wins. Such an answer is a business error: it is not retried, and an error boundary event with
  that code takes it.
* Everything else that is not 2xx: retried when its status is in ``retry.on_status`` (and on
  timeouts and network errors), else a failure no retry can fix (an incident).

Parsing checks the whole file at deploy and names the file and field at fault; nothing here
does I/O (see :mod:`service.connectors.http_transport`).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from ..config import CONNECTOR_ENV_PREFIX
from ..errors import DefinitionInvalid

__all__ = ["CONNECTOR_SUFFIX", "ConnectorSpec", "RetryPolicy", "Template", "parse_connector"]

CONNECTOR_SUFFIX = ".connector.json"
MAX_FILE_BYTES = 64 * 1024
MAX_TIMEOUT_SECONDS = 60.0
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
DEFAULT_RETRY_STATUS = (408, 429, 500, 502, 503, 504)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,199}$")
_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")
_ENV = re.compile(r"^[A-Z][A-Z0-9_]*$")
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
_KEYS = {"connector", "description", "method", "url", "headers", "auth", "body",
         "timeout_seconds", "retry", "response", "errors"}


@dataclass(frozen=True)
class Template:
    """A text with ``{variable}`` and ``{env.NAME}`` holes, split once at deploy.

    ``parts`` alternates literal text and ``("var", path)`` / ``("env", name)`` pairs.
    """
    parts: tuple

    @property
    def env_names(self) -> set[str]:
        return {p[1] for p in self.parts if isinstance(p, tuple) and p[0] == "env"}

    @property
    def single_variable(self) -> str | None:
        """The variable path when the template is exactly one ``{name}`` (keeps its type)."""
        if len(self.parts) == 1 and isinstance(self.parts[0], tuple) and self.parts[0][0] == "var":
            return self.parts[0][1]
        return None


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    backoff_seconds: float = 10.0
    factor: float = 2.0
    max_backoff_seconds: float = 3600.0
    on_status: tuple[int, ...] = DEFAULT_RETRY_STATUS


@dataclass(frozen=True)
class ConnectorSpec:
    """One parsed connector file (immutable; cached per definition row)."""
    name: str
    method: str
    url: Template
    file: str = ""
    description: str = ""
    headers: tuple[tuple[str, Template], ...] = ()
    auth: dict = field(default_factory=dict)         # kind -> env names
    body: Any = None                                 # JSON with Template leaves; None: variables
    timeout_seconds: float = 10.0
    retry: RetryPolicy = RetryPolicy()
    response: tuple[tuple[str, str], ...] = ()       # variable -> path
    errors: tuple[tuple[str, str], ...] = ()         # "409" | "4xx" -> BPMN error code

    @property
    def env_names(self) -> set[str]:
        names = set(self.url.env_names)
        for _, value in self.headers:
            names |= value.env_names
        for value in self.auth.values():
            names |= set(value.values()) if isinstance(value, dict) else {value}
        return names

    def error_code(self, status: int) -> str | None:
        """The BPMN error code an answer with ``status`` means, if any (exact status first)."""
        table = dict(self.errors)
        return table.get(str(status)) or table.get(f"{status // 100}xx")


def _invalid(file: str, where: str, message: str) -> DefinitionInvalid:
    return DefinitionInvalid(f"{file}: {where}: {message}", file=file, field=where)


def parse_template(file: str, where: str, text: Any, *, env: bool) -> Template:
    if not isinstance(text, str):
        raise _invalid(file, where, "must be text")
    parts: list = []
    pos = 0
    for match in _PLACEHOLDER.finditer(text):
        if match.start() > pos:
            parts.append(text[pos:match.start()])
        pos = match.end()
        token = match.group(0)
        if token in ("{{", "}}"):
            parts.append(token[0])
            continue
        inner = match.group(1).strip()
        if inner.startswith("env."):
            name = inner[4:]
            if not env:
                raise _invalid(file, where, "environment variables may only be used in the "
                                            "url, headers and auth")
            if not _ENV.match(name) or not name.startswith(CONNECTOR_ENV_PREFIX):
                raise _invalid(file, where, f"environment variable {name!r} must be named "
                                            f"{CONNECTOR_ENV_PREFIX}...")
            parts.append(("env", name))
        elif _PATH.match(inner):
            parts.append(("var", inner))
        else:
            raise _invalid(file, where, f"{{{inner}}} is neither a variable name nor "
                                        "env.OMNIFLOW_CONNECTOR_...")
    if pos < len(text):
        parts.append(text[pos:])
    if any(isinstance(p, str) and ("{" in p or "}" in p) and p not in ("{", "}") for p in parts):
        raise _invalid(file, where, "unbalanced { or } (write {{ or }} for a brace)")
    return Template(tuple(parts))


def _env_name(file: str, where: str, value: Any) -> str:
    if not isinstance(value, str) or not _ENV.match(value) \
            or not value.startswith(CONNECTOR_ENV_PREFIX):
        raise _invalid(file, where, f"must name an environment variable {CONNECTOR_ENV_PREFIX}...")
    return value


def _auth(file: str, doc: Any) -> dict:
    if doc is None:
        return {}
    if not isinstance(doc, dict) or len(doc) != 1 and set(doc) != {"header", "value"}:
        raise _invalid(file, "auth", "one of {\"bearer\": ENV}, {\"basic\": {\"username\": ENV, "
                                     "\"password\": ENV}}, {\"header\": NAME, \"value\": ENV}")
    if "bearer" in doc:
        return {"bearer": _env_name(file, "auth.bearer", doc["bearer"])}
    if "basic" in doc:
        basic = doc["basic"]
        if not isinstance(basic, dict) or set(basic) != {"username", "password"}:
            raise _invalid(file, "auth.basic", "needs username and password (environment "
                                               "variable names)")
        return {"basic": {k: _env_name(file, f"auth.basic.{k}", v) for k, v in basic.items()}}
    if set(doc) == {"header", "value"}:
        if not isinstance(doc["header"], str) or not re.match(r"^[A-Za-z0-9-]{1,100}$",
                                                               doc["header"]):
            raise _invalid(file, "auth.header", "must be an HTTP header name")
        return {"header": {"name": doc["header"],
                           "value": _env_name(file, "auth.value", doc["value"])}}
    raise _invalid(file, "auth", f"unknown kind {next(iter(doc))!r} (bearer, basic or header)")


def _body(file: str, where: str, value: Any, depth: int = 0):
    if depth > 20:
        raise _invalid(file, where, "nested too deeply")
    if isinstance(value, str):
        return parse_template(file, where, value, env=False)
    if isinstance(value, dict):
        return {str(k): _body(file, f"{where}.{k}", v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_body(file, f"{where}[{i}]", v, depth + 1) for i, v in enumerate(value)]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    raise _invalid(file, where, "must be JSON")


def _number(file: str, where: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise _invalid(file, where, f"must be a number from {low:g} to {high:g}")
    return value


def _retry(file: str, doc: Any) -> RetryPolicy:
    if doc is None:
        return RetryPolicy()
    if not isinstance(doc, dict):
        raise _invalid(file, "retry", "must be an object")
    unknown = set(doc) - {"max_attempts", "backoff_seconds", "factor", "max_backoff_seconds",
                          "on_status"}
    if unknown:
        raise _invalid(file, f"retry.{sorted(unknown)[0]}", "unknown field")
    base = RetryPolicy()
    statuses = doc.get("on_status", list(base.on_status))
    if not isinstance(statuses, list) or not all(
            isinstance(s, int) and not isinstance(s, bool) and 100 <= s <= 599 for s in statuses):
        raise _invalid(file, "retry.on_status", "must be a list of HTTP status codes")
    return RetryPolicy(
        max_attempts=int(_number(file, "retry.max_attempts", doc.get("max_attempts",
                                                                     base.max_attempts), 1, 100)),
        backoff_seconds=_number(file, "retry.backoff_seconds",
                                doc.get("backoff_seconds", base.backoff_seconds), 0, 86400),
        factor=_number(file, "retry.factor", doc.get("factor", base.factor), 1, 10),
        max_backoff_seconds=_number(file, "retry.max_backoff_seconds",
                                    doc.get("max_backoff_seconds", base.max_backoff_seconds),
                                    0, 7 * 86400),
        on_status=tuple(statuses))


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def parse_connector(file: str, data: bytes | str) -> ConnectorSpec:
    """Parse and check a connector file; raises ``DefinitionInvalid`` naming the field."""
    if len(data) > MAX_FILE_BYTES:
        raise DefinitionInvalid(f"{file}: {len(data)} bytes; a connector file is limited to "
                                f"{MAX_FILE_BYTES}", file=file)
    try:
        doc = json.loads(data, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise DefinitionInvalid(f"{file}: not valid JSON: {exc}", file=file) from exc
    if not isinstance(doc, dict):
        raise DefinitionInvalid(f"{file}: a connector file is a JSON object", file=file)
    unknown = set(doc) - _KEYS
    if unknown:
        raise _invalid(file, sorted(unknown)[0], f"unknown field (known: {', '.join(sorted(_KEYS))})")
    name = doc.get("connector")
    if not isinstance(name, str) or not _NAME.match(name):
        raise _invalid(file, "connector", "the connector name (the topic or connector a task "
                                          "names) is required: letters, digits, _ . -")
    method = doc.get("method", "POST")
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise _invalid(file, "method", f"one of {', '.join(METHODS)}")
    url = parse_template(file, "url", doc.get("url"), env=True)
    first = url.parts[0] if url.parts else ""
    if not (isinstance(first, tuple) and first[0] == "env") and not (
            isinstance(first, str) and re.match(r"^https?://[^/{}]+", first)):
        raise _invalid(file, "url", "must start with http(s)://host or {env.OMNIFLOW_CONNECTOR_...}")
    headers = doc.get("headers") or {}
    if not isinstance(headers, dict) or not all(
            isinstance(k, str) and re.match(r"^[A-Za-z0-9-]{1,100}$", k) for k in headers):
        raise _invalid(file, "headers", "must map HTTP header names to text")
    if any(k.lower() in ("idempotency-key", "authorization", "host", "content-length")
           for k in headers):
        raise _invalid(file, "headers", "Idempotency-Key, Authorization, Host and Content-Length "
                                        "are set by the service (use auth for credentials)")
    response = doc.get("response") or {}
    if not isinstance(response, dict) or not all(
            isinstance(k, str) and _PATH.match(k) and isinstance(v, str)
            and (v in (".", "$status") or _PATH.match(v)) for k, v in response.items()):
        raise _invalid(file, "response", "must map variable names to a dotted path of the "
                                         "answer, \".\" or \"$status\"")
    errors = doc.get("errors") or {}
    if not isinstance(errors, dict) or not all(
            isinstance(k, str) and re.match(r"^([1-5][0-9][0-9]|[1-5]xx)$", k)
            and isinstance(v, str) and v.strip() and len(v) <= 200 for k, v in errors.items()):
        raise _invalid(file, "errors", "must map an HTTP status (\"409\") or class (\"4xx\") to a "
                                       "BPMN error code")
    if any(k.startswith("2") for k in errors):
        raise _invalid(file, "errors", "a 2xx answer is a success, not a BPMN error")
    description = doc.get("description", "")
    if not isinstance(description, str):
        raise _invalid(file, "description", "must be text")
    return ConnectorSpec(
        name=name, method=method.upper(), url=url, file=file, description=description[:500],
        headers=tuple((k, parse_template(file, f"headers.{k}", v, env=True))
                      for k, v in headers.items()),
        auth=_auth(file, doc.get("auth")),
        body=None if doc.get("body") is None else _body(file, "body", doc["body"]),
        timeout_seconds=_number(file, "timeout_seconds", doc.get("timeout_seconds", 10.0),
                                0.1, MAX_TIMEOUT_SECONDS),
        retry=_retry(file, doc.get("retry")),
        response=tuple(response.items()), errors=tuple(errors.items()))
