"""The edge of the served service (gunicorn, as `serve` runs it): what a client sends that
never reaches a view still gets problem+json, and a body over the limit is a 413, never a
shorter request."""
import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 8 * 1024 * 1024


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(config, db):
    env = {**os.environ, "DATABASE_URL": config.database_url, "OMNIFLOW_WORKER": "false",
           "OMNIFLOW_AUDIT_KEY_FILE": config.audit_key_file,
           "OMNIFLOW_AUDIT_CHECKPOINTS": config.audit_checkpoint_file}
    token = subprocess.run([sys.executable, "server.py", "users", "add", "edge-client",
                            "--groups", "oms", "--client"], cwd=ROOT, env=env, check=True,
                           capture_output=True, text=True).stdout.strip().rsplit(" ", 1)[-1]
    port = _free_port()
    server = subprocess.Popen([sys.executable, "server.py", "serve", "--port", str(port),
                               "--workers", "1"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield port, token
    finally:
        server.terminate()
        server.wait(20)


def _call(port, method, path, token, body=None, headers=None, chunked=False):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
               **(headers or {})}
    if chunked:
        pieces = (body[i:i + 65536] for i in range(0, len(body), 65536))
        conn.request(method, path, body=pieces, headers=headers, encode_chunked=True)
    else:
        conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    payload = response.read()
    return response.status, response.getheader("Content-Type"), payload


def test_errors_before_the_application_and_oversized_bodies_are_problem_json(served):
    port, token = served
    # A chunked batch of signals over 8 MiB: 413, nothing stored (not its first 8 MiB).
    batch = [{"id": f"edge-{i}", "type": "return.received", "at": "2026-01-01T00:00:00",
              "data": {"return_id": f"r{i}", "sku": "SKU1", "region": "west", "value": 40.0,
                       "note": "x" * 9000}} for i in range(1000)]
    status, kind, body = _call(port, "POST", "/api/v1/signals", token,
                               json.dumps(batch).encode(), chunked=True)
    assert (status, kind) == (413, "application/problem+json"), body[:300]
    assert _call(port, "GET", "/api/v1/signals/edge-0", token)[0] == 404
    # The same body under the limit, chunked, is read whole.
    small = json.dumps(batch[:5]).encode()
    status, _, body = _call(port, "POST", "/api/v1/signals", token, small, chunked=True)
    assert status == 202, body
    assert _call(port, "GET", "/api/v1/signals/edge-4", token)[0] == 200
    # A number JSON cannot hold as a finite float.
    status, kind, body = _call(port, "POST", "/api/v1/cases", token,
                               b'{"type": "x", "data": {"v": 1e309}}')
    assert (status, kind) == (400, "application/problem+json") and b"too large" in body
    # Refused by gunicorn itself, before Flask: still problem+json.
    status, kind, body = _call(port, "GET", "/api/v1/cases?q=" + "a" * 9000, token)
    assert (status, kind) == (414, "application/problem+json")
    assert json.loads(body)["status"] == 414
    status, kind, _ = _call(port, "GET", "/api/v1/cases", token, headers={"X-Big": "b" * 20000})
    assert (status, kind) == (431, "application/problem+json")
