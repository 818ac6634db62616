"""gunicorn workers that answer their own errors as problem+json.

gunicorn answers a request it cannot even parse (a request line over ``limit_request_line``:
414, too many or too large headers: 431, a malformed chunk: 400) before Flask sees it, with an
HTML page. Clients of this API expect ``application/problem+json`` for every error, so these
workers write the same shape the API's own error handlers do. Which errors are the client's
follows gunicorn's own classification (its ``ParseException`` family); anything else is a 500.
"""
from __future__ import annotations

import json

from gunicorn import util
from gunicorn.http import errors
from gunicorn.workers.gthread import ThreadWorker
from gunicorn.workers.sync import SyncWorker

from ..api.observability import HEADER, request_id_from

_STATUS = [
    (errors.LimitRequestLine, 414, "URI Too Long"),
    (errors.LimitRequestHeaders, 431, "Request Header Fields Too Large"),
    (errors.ExpectationFailed, 417, "Expectation Failed"),
    (errors.UnsupportedTransferCoding, 501, "Not Implemented"),
    (errors.ForbiddenProxyRequest, 403, "Forbidden"),
    (errors.ConfigurationProblem, 500, "Internal Server Error"),
    (errors.ParseException, 400, "Bad Request"),
]


def _problem(exc: BaseException) -> tuple[int, str, bytes]:
    for kind, status, title in _STATUS:
        if isinstance(exc, kind) and not isinstance(exc, (errors.InvalidResponseHeader,
                                                          errors.InvalidResponseHeaderName)):
            detail = str(exc) or title
            break
    else:
        status, title, detail = 500, "Internal Server Error", "an unexpected error occurred"
    body = {"type": f"/problems/http-{status}", "title": title, "status": status,
            "detail": detail, "request_id": request_id_from(None)}
    return status, title, json.dumps(body).encode()


def _write(sock, exc: BaseException) -> None:
    status, title, body = _problem(exc)
    rid = json.loads(body)["request_id"]
    head = (f"HTTP/1.1 {status} {title}\r\nConnection: close\r\n{HEADER}: {rid}\r\n"
            f"Content-Type: application/problem+json\r\nContent-Length: {len(body)}\r\n\r\n")
    util.write_nonblock(sock, head.encode("latin1") + body)


class _ProblemErrors:
    def handle_error(self, req, client, addr, exc):
        self.log.warning("request failed before the application: %s", exc)
        try:
            _write(client, exc)
        except Exception:  # noqa: BLE001 - the client may be gone; nothing else to do
            self.log.debug("failed to send the error")


class ProblemSyncWorker(_ProblemErrors, SyncWorker):
    """``sync`` (one request at a time per process), answering its errors as problem+json."""


class ProblemThreadWorker(_ProblemErrors, ThreadWorker):
    """``gthread``, answering its errors as problem+json."""
