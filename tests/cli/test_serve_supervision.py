"""`serve` on SQLite runs the worker as a child process and restarts it when it dies: a dead
worker must not silently stop timers, retries and deliveries while HTTP keeps answering."""
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from service.store import Job, utcnow

ROOT = Path(__file__).resolve().parents[2]


def _children(pid: int, needle: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == pid and needle in cmdline:
            found.append(int(entry.name))
    return found


def _wait_for(condition, seconds=60.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    return condition()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_killed_worker_is_restarted_and_does_its_work(config, db):
    """On SQLite through `serve`, which owns the worker; on PostgreSQL (where `serve` runs
    none: workers run beside it) through the same supervisor around `server.py worker`."""
    env = {**os.environ, "DATABASE_URL": config.database_url, "OMNIFLOW_WORKER": "true",
           "OMNIFLOW_AUDIT_KEY_FILE": config.audit_key_file,
           "OMNIFLOW_AUDIT_CHECKPOINTS": config.audit_checkpoint_file}
    if config.is_sqlite:
        command = [sys.executable, "server.py", "serve", "--port", str(_free_port()),
                   "--workers", "1"]
    else:
        command = [sys.executable, "-c", "import time; from service.cli.serve import Supervised;"
                   "Supervised(['" + sys.executable + "', 'server.py', 'worker']);"
                   "time.sleep(3600)"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        first = _wait_for(lambda: _children(server.pid, "server.py worker"))
        assert len(first) == 1, first
        os.kill(first[0], signal.SIGKILL)
        second = _wait_for(lambda: [p for p in _children(server.pid, "server.py worker")
                                    if p != first[0]])
        assert len(second) == 1 and second != first
        # The new worker delivers what is due.
        Job.insert(kind="outbox", due_at=utcnow(), idempotency_key="after-restart",
                   payload={"connector": "notify.team", "system": "notify",
                            "params": {"team": "ops", "message": "hello"},
                            "idempotency_key": "after-restart"}).execute()
        done = _wait_for(lambda: Job.get(Job.idempotency_key == "after-restart").status
                         == "done")
        assert done, Job.get(Job.idempotency_key == "after-restart").last_error
    finally:
        for pid in _children(server.pid, "server.py worker"):
            os.kill(pid, signal.SIGTERM)
        server.terminate()
        server.wait(30)
