"""A real `server.py serve` (gunicorn, several processes) on a free port, for the tests that
talk to the service over HTTP as a scraper or a client would."""
from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env_for(config, **extra) -> dict:
    return {**os.environ, "DATABASE_URL": config.database_url, "OMNIFLOW_WORKER": "false",
            "OMNIFLOW_AUDIT_KEY_FILE": config.audit_key_file,
            "OMNIFLOW_AUDIT_CHECKPOINTS": config.audit_checkpoint_file, **extra}


def cli(config, *args, **extra) -> str:
    return subprocess.run([sys.executable, "server.py", *args], cwd=ROOT,
                          env=env_for(config, **extra), check=True, capture_output=True,
                          text=True).stdout


def token_of(output: str) -> str:
    return output.strip().rsplit(" ", 1)[-1]


@dataclass
class Served:
    port: int
    process: subprocess.Popen
    log: Path

    def call(self, method, path, token=None, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        head = {"Content-Type": "application/json", **(headers or {})}
        if token:
            head["Authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=data, headers=head)
        response = conn.getresponse()
        payload = response.read()
        conn.close()
        return response, payload


def start(config, tmp_path, workers: int = 2, **extra) -> Served:
    port = free_port()
    log = tmp_path / "serve.log"
    process = subprocess.Popen([sys.executable, "server.py", "serve", "--port", str(port),
                                "--workers", str(workers)], cwd=ROOT,
                               env=env_for(config, **extra), stdout=log.open("w"),
                               stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"serve exited: {log.read_text()[-3000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                break
        except OSError:
            time.sleep(0.2)
    return Served(port, process, log)


def stop(served: Served) -> None:
    served.process.terminate()
    try:
        served.process.wait(20)
    except subprocess.TimeoutExpired:
        served.process.kill()
        served.process.wait(10)
