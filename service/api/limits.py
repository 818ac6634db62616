"""Request limits checked once at the API edge, before any view or schema sees the input.

What a client sends must fit what the rest of the service can hold, whatever the endpoint:

- a JSON body is strict JSON (no ``NaN``/``Infinity``), nested at most ``MAX_DEPTH`` levels,
  with numbers Python can read and strings without NUL or lone surrogates (PostgreSQL refuses
  both, and a surrogate cannot be encoded to UTF-8 for SQLite or the audit hash);
- the path and query string carry no NUL;
- an integer id in the path fits a 64-bit column (a bigger one names nothing: 404).

Checking here, rather than in each schema, keeps the foreign failures (``RecursionError`` in
the JSON decoder, ``OverflowError`` in the SQLite driver, ``ValueError`` for NUL in psycopg2)
from ever reaching the views, which would otherwise answer 500.
"""
from __future__ import annotations

import io
import json

from flask import Flask, request

from ..errors import BadRequest, NotFound
from .observability import HEADER, request_id_from

MAX_DEPTH = 64
DRAIN_FACTOR = 4         # of the body limit: how much of an oversized body is read and dropped
MAX_ID = 2**63 - 1       # BIGINT / SQLite INTEGER


def init_app(app: Flask) -> None:
    # Registered after authentication's hook, so a caller without a token still gets 401 first.
    app.before_request(check_request)
    app.wsgi_app = ChunkedBodyLimit(app.wsgi_app, app.config["MAX_CONTENT_LENGTH"])


class ChunkedBodyLimit:
    """WSGI middleware: a body sent without a Content-Length (chunked) is read here, up to the
    limit, and refused with 413 beyond it.

    Werkzeug applies ``MAX_CONTENT_LENGTH`` to such a body by *stopping* at the limit: the
    view then saw the first 8 MiB of a larger body as if it were all of it (a truncated batch
    was stored). Reading it once here and handing on a body of known length keeps one rule for
    every request: over the limit is a 413, never a shorter request.
    """

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    def __call__(self, environ, start_response):
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not environ.get("CONTENT_LENGTH"):
            stream, parts, size = environ["wsgi.input"], [], 0
            while size <= self.limit:
                part = stream.read(min(1 << 16, self.limit + 1 - size))
                if not part:
                    break
                parts.append(part)
                size += len(part)
            if size > self.limit:
                # Read (and drop) a bounded rest so that a client still sending can read the
                # answer; a body longer than that gets the answer and a closed connection.
                rest = DRAIN_FACTOR * self.limit
                while rest > 0 and (part := stream.read(min(1 << 16, rest))):
                    rest -= len(part)
                rid = request_id_from(environ.get("HTTP_X_REQUEST_ID"))
                body = json.dumps({"type": "/problems/payload-too-large",
                                   "title": "Payload too large", "status": 413,
                                   "detail": f"the body is over the {self.limit}-byte limit",
                                   "field": "body", "limit": self.limit,
                                   "request_id": rid}).encode()
                start_response("413 Payload Too Large",
                               [("Content-Type", "application/problem+json"), (HEADER, rid),
                                ("Content-Length", str(len(body))), ("Connection", "close")])
                return [body]
            data = b"".join(parts)
            environ["wsgi.input"] = io.BytesIO(data)
            environ["CONTENT_LENGTH"] = str(len(data))
        return self.app(environ, start_response)


def check_request() -> None:
    if not request.path.startswith("/api/v1"):
        return
    if "\x00" in request.path:
        raise BadRequest("the path must not contain NUL characters", field="path")
    for key, value in request.args.items(multi=True):
        if "\x00" in key or "\x00" in value:
            raise BadRequest(f"query parameter {key!r} must not contain NUL characters",
                             field=key.replace("\x00", ""))
    for name, value in (request.view_args or {}).items():
        if isinstance(value, int) and not 0 <= value <= MAX_ID:
            raise NotFound(f"no {name.removesuffix('_id')} {value}", field=name)
    if request.is_json and request.content_length != 0:
        check_json(request.get_data(cache=True))


def _no_constants(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{text} is too large for a number (at most about 1.8e308)")
    return value


def check_json(raw: bytes) -> None:
    """Raise ``BadRequest`` unless ``raw`` is JSON the service can store and hash."""
    if not raw.strip():
        return
    try:
        document = json.loads(raw, parse_constant=_no_constants, parse_float=_finite)
    except RecursionError as exc:
        raise BadRequest(f"the JSON body is nested more than {MAX_DEPTH} levels deep",
                         field="body") from exc
    except ValueError as exc:      # JSONDecodeError, UnicodeDecodeError, NaN, int too long
        raise BadRequest(f"the body is not valid JSON: {exc}", field="body") from exc
    _check_values(document)


def _check_values(document) -> None:
    # Iterative, so a deep document cannot exhaust the stack here either.
    stack = [(document, 1, "")]
    while stack:
        value, depth, path = stack.pop()
        if depth > MAX_DEPTH:
            raise BadRequest(f"the JSON body is nested more than {MAX_DEPTH} levels deep",
                             field=path or "body")
        if isinstance(value, str):
            _check_string(value, path)
        elif isinstance(value, dict):
            for key, item in value.items():
                where = f"{path}.{key}" if path else str(key)
                _check_string(key, where)
                stack.append((item, depth + 1, where))
        elif isinstance(value, list):
            stack.extend((item, depth + 1, f"{path}[{i}]") for i, item in enumerate(value))


def _check_string(text: str, path: str) -> None:
    if "\x00" in text:
        raise BadRequest(f"{path or 'body'}: strings must not contain NUL characters",
                         field=_printable(path) or "body")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BadRequest(f"{_printable(path) or 'body'}: strings must not contain unpaired "
                         "surrogates", field=_printable(path) or "body") from exc


def _printable(path: str) -> str:
    return path.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
