"""``serve``: the HTTP service (and, on the embedded database, the worker beside it).

HTTP runs under gunicorn with several worker processes, each with its own database connection:
one Python process is held to one core by the GIL, and a case intake is CPU work (engine,
scoring, decisions). Single-threaded processes measured best here: on SQLite one per core
(about 230 intakes/s on two cores, against 210 with four processes and 140 with two processes
of four threads), on PostgreSQL two per core. On SQLite the background worker (timers, retries, outbox, signals) runs as
one more child process, so a new user needs no second command; on PostgreSQL run
``python server.py worker`` processes beside it.
"""
from __future__ import annotations

import gc
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import click
from gunicorn.app.base import BaseApplication

from .. import telemetry
from ..app import create_app
from ..config import ROOT, Config
from ..usecases import accounts, deployments, system
from . import logs

log = logging.getLogger(__name__)


class Supervised:
    """A child process kept running: restarted when it dies, with a growing pause when it keeps
    dying at once, every exit logged.

    Without it a worker that crashed (out of memory, a native library fault, ``kill -9``)
    silently took timers, retries, outbox deliveries and detection with it while the HTTP side
    kept answering. The watch runs in a daemon thread of the gunicorn master, which owns the
    child; gunicorn's forked HTTP processes do not inherit the thread.
    """

    MAX_PAUSE = 30.0

    def __init__(self, command: list[str]):
        self.command = command
        self._stopping = threading.Event()
        self.restarts = 0
        self.process = subprocess.Popen(command)
        threading.Thread(target=self._watch, name="omniflow-worker-supervisor",
                         daemon=True).start()

    def _watch(self) -> None:
        pause = 1.0
        while not self._stopping.is_set():
            started = time.monotonic()
            code = self.process.wait()
            if self._stopping.is_set():
                return
            log.error("background worker exited (code %s); restarting it", code)
            # A child that lived a while is restarted at once; one that dies at start waits
            # longer each time, so a broken setup does not spin.
            pause = 1.0 if time.monotonic() - started > 60 else min(pause * 2, self.MAX_PAUSE)
            if self._stopping.wait(pause):
                return
            self.restarts += 1
            self.process = subprocess.Popen(self.command)

    def stop(self) -> None:
        self._stopping.set()
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def worker_command() -> list[str]:
    """``server.py worker`` in a clone; ``python -m service.cli worker`` when installed."""
    script = ROOT / "server.py"
    if script.is_file():
        return [sys.executable, str(script), "worker"]
    return [sys.executable, "-m", "service.cli", "worker"]


def _http_server(config, host: str, port: int, workers: int, threads: int):
    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            # sync workers take one request at a time and close the connection after it, so
            # the kernel spreads requests over the processes; gthread workers keep a client's
            # keep-alive connection, and a few busy clients can pin one process.
            self.cfg.set("worker_class", "service.cli.http_workers.ProblemThreadWorker"
                         if threads > 1 else "service.cli.http_workers.ProblemSyncWorker")
            self.cfg.set("threads", threads)
            self.cfg.set("timeout", 60)
            self.cfg.set("graceful_timeout", 10)
            self.cfg.set("proc_name", "omniflow")
            self.cfg.set("logconfig_dict", logs.gunicorn_config(config))   # one log format

        def load(self):
            app = create_app(config)    # in each worker, after the fork: its own connection
            # A request allocates tens of thousands of objects; with Python's default the
            # collector ran a young collection every 700 of them. Every 50,000 instead: 3-4 %
            # of an intake (bench/README.md, "Per-request cost"); what the start built is
            # frozen, never walked again.
            gc.freeze()
            gc.set_threshold(50_000, 20, 100)
            return app

    return Server()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--workers", default=None, type=int,
              help="HTTP worker processes (default: one per CPU on SQLite, two per CPU on "
                   "PostgreSQL, at most 8).")
@click.option("--threads", default=1, show_default=True, type=int,
              help="Threads per HTTP worker process (1: one request at a time per process).")
@click.option("--demo", is_flag=True,
              help="Create demo users for every role and print their tokens (SQLite only).")
def serve(host, port, workers, threads, demo):
    """Start the service; the shipped content is deployed on first start.

    Example: python server.py serve --demo --port 8080
    """
    config = Config.from_env()
    if demo and not config.is_sqlite:
        raise click.ClickException("--demo creates well-known users with printed tokens; it is "
                                   "refused against PostgreSQL. Use 'users add' instead.")
    metrics_dir = _metrics_dir(config)
    system.open_store(config)          # migrate once, before any HTTP process starts
    app = create_app(config)
    with app.app_context():
        result = deployments.deploy_shipped_content(config)
        if result:
            for item in result["created"]:
                click.echo(f"deployed {item['kind']} {item['key']} v{item['version']}")
        if demo:
            click.echo("demo users (tokens are new at every start; people sign in to the pages "
                       f"at /ui with the password {accounts.DEMO_PASSWORD!r}):")
            for name, token, groups in accounts.ensure_demo_users():
                click.echo(f"  {name:<22} {','.join(groups):<36} {token}")
    system.close()

    background = None
    if config.run_worker and config.is_sqlite:
        # `server.py worker` as a child process: it starts clean (no copy of this process's
        # connection), and the HTTP processes gunicorn forks inherit nothing to clean up.
        background = Supervised(worker_command())
    # SQLite has one writer: past one process per core they mostly wait for each other.
    per_cpu = 1 if config.is_sqlite else 2
    workers = workers or min(8, per_cpu * (os.cpu_count() or 1))
    click.echo(f"Omniflow listening on http://{host}:{port}  (API docs: /api/docs; "
               f"{workers} HTTP processes{', worker running' if background else ''})")
    master = os.getpid()
    try:
        _http_server(config, host, port, workers, threads).run()
    finally:
        # gunicorn's forked HTTP processes unwind through here too; only the master owns the
        # background worker.
        if background is not None and os.getpid() == master:
            background.stop()
        if os.getpid() == master and config.metrics_dir is None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _metrics_dir(config: Config) -> str:
    """prometheus_client's multiprocess directory, emptied, exported to the HTTP processes
    and the worker (``PROMETHEUS_MULTIPROC_DIR``), and switched on in this process before
    gunicorn forks; a fresh temporary one unless the environment names one."""
    if config.metrics_dir:
        path = Path(config.metrics_dir)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):       # the last run's values are not this run's
            stale.unlink()
    else:
        path = Path(tempfile.mkdtemp(prefix="omniflow-metrics-"))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    telemetry.use_multiprocess_dir(str(path))
    return str(path)


COMMANDS = [serve]
