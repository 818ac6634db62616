"""Send one connector call over HTTP (httpx) and say what its answer means.

:func:`send` renders a :class:`~.http_spec.ConnectorSpec` with the task's variables, sends it
with the outbox job's id as ``Idempotency-Key`` (at-least-once delivery: a receiver that honours
the key sees one effect however often a crash or a timeout makes us send again), and returns
the variables the answer maps to. Every way it can go wrong becomes one
:class:`~service.engine.ports.ConnectorError`, translated here once:

* a status the file maps to a BPMN error code -> ``bpmn_error_code`` set, not retryable;
* a timeout, a refused or dropped connection, a status in ``retry.on_status`` -> retryable;
* anything else (a 400, a missing variable, an environment variable that is not set, a host
  nobody allowed, an answer over the size limit) -> not retryable: an incident for a person.

httpx rather than ``urllib``: per-request timeouts that cover connect, read and pool waits,
connection pooling across deliveries, and one exception tree to translate; it is also what the
style guide holds up as the model of that tree.
"""
from __future__ import annotations

import json
from typing import Any, Mapping
from urllib.parse import quote, urlsplit

import httpx

from ..engine.ports import ConnectorError
from .http_spec import ConnectorSpec, Template

__all__ = ["MAX_RESPONSE_BYTES", "Outcome", "render", "send"]

MAX_RESPONSE_BYTES = 1024 * 1024
_client: httpx.Client | None = None


def _shared_client() -> httpx.Client:
    # One pooled client per process (httpx clients are thread-safe); timeouts are per request.
    global _client
    if _client is None:
        _client = httpx.Client(follow_redirects=False, trust_env=False,
                               limits=httpx.Limits(max_connections=50))
    return _client


class Outcome(dict):
    """The variables an answer maps to, with the HTTP status in :attr:`status`."""
    status: int = 0


def _lookup(variables: Mapping, path: str):
    value: Any = variables
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise ConnectorError(f"the connector needs variable {path!r}, which the task does "
                                 "not have", retryable=False)
    return value


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _fill(template: Template, variables: Mapping, env: Mapping[str, str], *,
          url: bool = False) -> str:
    out = []
    for part in template.parts:
        if isinstance(part, str):
            out.append(part)
        elif part[0] == "env":
            out.append(_env(env, part[1]))
        else:
            text = _text(_lookup(variables, part[1]))
            out.append(quote(text, safe="") if url else text)
    return "".join(out)


def _env(env: Mapping[str, str], name: str) -> str:
    value = env.get(name)
    if value is None:
        raise ConnectorError(f"environment variable {name} is not set for this service",
                             retryable=False)
    return value


def _body(node, variables: Mapping):
    if isinstance(node, Template):
        single = node.single_variable
        return _lookup(variables, single) if single else _fill(node, variables, {})
    if isinstance(node, dict):
        return {k: _body(v, variables) for k, v in node.items()}
    if isinstance(node, list):
        return [_body(v, variables) for v in node]
    return node


def render(spec: ConnectorSpec, variables: Mapping, *, env: Mapping[str, str],
           idempotency_key: str) -> httpx.Request:
    """The request ``spec`` makes for ``variables`` (no I/O)."""
    url = _fill(spec.url, variables, env, url=True)
    headers = {name: _fill(value, variables, env) for name, value in spec.headers}
    headers["Idempotency-Key"] = idempotency_key
    auth = spec.auth
    if "bearer" in auth:
        headers["Authorization"] = f"Bearer {_env(env, auth['bearer'])}"
    elif "header" in auth:
        headers[auth["header"]["name"]] = _env(env, auth["header"]["value"])
    kwargs: dict = {}
    if "basic" in auth:
        basic = httpx.BasicAuth(_env(env, auth["basic"]["username"]),
                                _env(env, auth["basic"]["password"]))
        request = httpx.Request(spec.method, url, headers=headers)
        headers["Authorization"] = next(basic.auth_flow(request)).headers["Authorization"]
    if spec.method not in ("GET", "DELETE"):
        body = dict(variables) if spec.body is None else _body(spec.body, variables)
        kwargs["content"] = json.dumps(body, separators=(",", ":"), default=str).encode()
        headers["Content-Type"] = "application/json"
    return httpx.Request(spec.method, url, headers=headers, **kwargs)


def _check_host(url: httpx.URL, spec: ConnectorSpec, env: Mapping[str, str],
                allowed_hosts: tuple[str, ...]) -> None:
    """The host comes from the operator: an ``{env.…}`` base URL or OMNIFLOW_CONNECTOR_HOSTS."""
    if url.scheme not in ("http", "https") or not url.host:
        raise ConnectorError(f"connector {spec.name}: {url} is not an http(s) URL",
                             retryable=False)
    first = spec.url.parts[0] if spec.url.parts else ""
    if isinstance(first, tuple) and first[0] == "env":
        base = urlsplit(env.get(first[1], ""))
        if base.hostname and base.hostname.lower() == url.host.lower():
            return
    if url.host.lower() in allowed_hosts:
        return
    raise ConnectorError(f"connector {spec.name}: host {url.host} is neither the host of its "
                         "environment base URL nor in OMNIFLOW_CONNECTOR_HOSTS", retryable=False)


def _read(response: httpx.Response) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            raise ConnectorError(f"the answer is over {MAX_RESPONSE_BYTES} bytes",
                                 retryable=False)
        chunks.append(chunk)
    return b"".join(chunks)


def _mapped(spec: ConnectorSpec, status: int, raw: bytes) -> Outcome:
    answer: Any = None
    if raw.strip():
        try:
            answer = json.loads(raw)
        except ValueError:
            answer = raw.decode("utf-8", "replace")
    out = Outcome()
    out.status = status
    for variable, path in spec.response:
        if path == "$status":
            out[variable] = status
        elif path == ".":
            out[variable] = answer
        else:
            value: Any = answer
            for part in path.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            out[variable] = value
    return out


def send(spec: ConnectorSpec, variables: Mapping, *, idempotency_key: str,
         env: Mapping[str, str], allowed_hosts: tuple[str, ...] = (),
         client: httpx.Client | None = None) -> Outcome:
    """Send one call; the answer's variables, or a :class:`ConnectorError` (module docstring)."""
    request = render(spec, variables, env=env, idempotency_key=idempotency_key)
    _check_host(request.url, spec, env, allowed_hosts)
    client = client or _shared_client()
    # connect, read, write and pool waits each bounded by the file's timeout
    request.extensions["timeout"] = httpx.Timeout(spec.timeout_seconds).as_dict()
    try:
        response = client.send(request, stream=True)
    except httpx.TimeoutException as exc:
        raise ConnectorError(f"{spec.name}: no answer within {spec.timeout_seconds:g} s "
                             f"({type(exc).__name__})") from exc
    except httpx.TransportError as exc:
        raise ConnectorError(f"{spec.name}: {type(exc).__name__}: {exc}") from exc
    try:
        try:
            raw = _read(response)
        except httpx.TransportError as exc:
            raise ConnectorError(f"{spec.name}: the answer broke off: {exc}") from exc
    finally:
        response.close()
    status = response.status_code
    if 200 <= status < 300:
        return _mapped(spec, status, raw)
    snippet = raw[:300].decode("utf-8", "replace")
    code = spec.error_code(status)
    if code:
        raise ConnectorError(f"{spec.name} answered {status}: {snippet}", bpmn_error_code=code,
                             retryable=False)
    raise ConnectorError(f"{spec.name} answered {status}: {snippet}",
                         retryable=status in spec.retry.on_status)
