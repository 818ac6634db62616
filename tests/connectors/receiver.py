"""A real HTTP server for connector tests: a threaded ``http.server`` on a free loopback port.

It plays the other system (an OMS, a webhook receiver): it answers by path, records every
request, and honours ``Idempotency-Key`` as a careful receiver does (one effect per key).

    /ok/...        200 with a JSON answer
    /conflict/...  409 {"error": "already shipped"}
    /flaky/...     500 for the first ``failures`` calls, then 200
    /slow/...      answers after ``delay`` seconds
    /drop/...      closes the connection without answering
    /status/NNN    answers NNN
"""
from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Seen:
    method: str
    path: str
    headers: dict
    body: object


@dataclass
class Receiver:
    url: str = ""
    requests: list = field(default_factory=list)
    effects: dict = field(default_factory=dict)      # Idempotency-Key -> body (one per key)
    failures: int = 0
    delay: float = 2.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def paths(self):
        return [r.path for r in self.requests]


def _handler(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):       # keep test output clean
            pass

        def _answer(self, status: int, body: dict | None = None):
            raw = json.dumps(body or {}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _handle(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            seen = Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                        body)
            with receiver.lock:
                receiver.requests.append(seen)
            first = self.path.split("/")[1]
            if first == "drop":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if first == "slow":
                time.sleep(receiver.delay)
            if first == "conflict":
                return self._answer(409, {"error": "already shipped"})
            if first == "status":
                return self._answer(int(self.path.split("/")[2]), {"status": "as asked"})
            if first == "flaky":
                with receiver.lock:
                    if receiver.failures > 0:
                        receiver.failures -= 1
                        return self._answer(500, {"error": "try again"})
            key = seen.headers.get("idempotency-key")
            with receiver.lock:
                new = key not in receiver.effects
                if new:
                    receiver.effects[key] = body
            self._answer(200, {"shipment": {"id": f"SHP-{key}", "carrier": "DHL"},
                               "replayed": not new})

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle
    return Handler


def serve() -> tuple[Receiver, ThreadingHTTPServer]:
    receiver = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver, server
