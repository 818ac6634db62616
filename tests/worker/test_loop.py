"""The worker loop, the in-process worker of `serve` and the `worker` command."""
from __future__ import annotations

import time

from click.testing import CliRunner

from service.cli import cli
from service.store import Job
from service.worker import Worker, start_in_process

from .conftest import outbox_job


def test_the_loop_runs_passes_until_stopped(config, make_case, registry, erp, clock):
    import threading
    case, inst = make_case()
    outbox_job(case, inst, clock())
    worker = Worker(config, clock=clock, registry=registry)
    thread = threading.Thread(target=worker.run_forever, kwargs={"interval": 0.01})
    thread.start()
    deadline = time.time() + 10
    while Job.get(Job.idempotency_key == "k-1").status != "done" and time.time() < deadline:
        time.sleep(0.02)
    worker.stop()
    thread.join(5)
    assert not thread.is_alive()
    assert Job.get(Job.idempotency_key == "k-1").status == "done"


def test_serve_runs_the_worker_in_process(config, make_case, clock):
    case, inst = make_case()
    outbox_job(case, inst, clock())
    worker = start_in_process(config.with_(worker_interval=0.01))
    try:
        deadline = time.time() + 10
        while Job.get(Job.idempotency_key == "k-1").status != "done" and time.time() < deadline:
            time.sleep(0.02)
    finally:
        worker.stop()
    assert Job.get(Job.idempotency_key == "k-1").status == "done"


def test_worker_command_once(config, db, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", config.database_url)
    monkeypatch.setenv("OMNIFLOW_AUDIT_KEY_FILE", config.audit_key_file)
    monkeypatch.setenv("OMNIFLOW_AUDIT_CHECKPOINTS", config.audit_checkpoint_file)
    result = CliRunner().invoke(cli, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "timers=0" in result.output and "delivered=0" in result.output
    assert "--once" in CliRunner().invoke(cli, ["worker", "--help"]).output
