"""Start-to-inbox, Omniflow against SpiffArena (spiffworkflow-backend), same model, over HTTP.

Both services run on this machine at once, each on SQLite in a temporary folder, each with one
HTTP process per core (`server.py serve`: gunicorn, sync processes; SpiffArena: gunicorn
with its uvicorn worker, as its `bin/boot_server_in_docker`), background work off on both (no
Omniflow worker, no SpiffArena scheduler). Both deploy `bench/spiffarena/` unchanged: start ->
script task (sets the order) -> business rule task (the DMN table `order_priority`, FIRST hit,
six rules) -> exclusive gateway on `priority` -> user task in the lane `customer_service` ->
end. The lane is the candidate group on both engines.

One sample is one sequential client (a new TCP connection per request, as a simple client)
starting one process and reading the candidate group's inbox until the new task is in it:

* **Omniflow** (timed): `POST /engine-rest/process-definition/key/bench_order_priority/start`
  (bearer token of a client user; `--omniflow-start cases` uses `POST /api/v1/cases` instead),
  then `GET /api/v1/tasks?group=customer_service` as a member of the group, which must list a
  task of the new case.
* **SpiffArena** (timed): `POST /v1.0/process-instances/bench:order-priority` (create), then
  `POST /v1.0/process-instance-run/bench:order-priority/{id}` (run to the first wait state,
  synchronously: no Celery), both with a service account's `SpiffWorkflow-Api-Key`, then
  `GET /v1.0/tasks/for-my-groups?user_group_identifier=customer_service` with the key of a
  member of the group, which must list a human task of the new instance. This is the sequence
  SpiffArena's own frontend and `bin/run_process_model_with_api` use; it has no single
  start-and-run call.

Untimed after each sample: the task is completed (Omniflow `POST /api/v1/tasks/{id}/complete`,
SpiffArena `PUT /v1.0/tasks/{instance}/{task}`), so each inbox read finds one open task on both
sides, however many samples ran. Samples alternate between the two services in blocks
(`--block`), after `--warmup` untimed samples each, so that the other work on the machine
weighs on both alike. Prints p50/p99 (ms) of start-to-inbox, of the start alone and of the
inbox read, and the ratio SpiffArena / Omniflow. Figures go to bench/README.md; nothing here is
asserted.

Not the same on both sides: Omniflow's SQLite is in WAL mode with `synchronous=NORMAL`;
SpiffArena leaves SQLite's defaults (rollback journal, `synchronous=FULL`: more fsyncs per
commit). `--spiffarena-wal` puts its file in WAL mode (kept in the file; `synchronous` stays
FULL) to show how much of the gap that is. Omniflow authenticates a bearer token, SpiffArena
an API key (a SHA-256 and a lookup) and checks its permission table on every request.

SpiffArena is an external program: `--spiffarena` is a checkout of spiff-arena's
`spiffworkflow-backend` folder, installed in a virtualenv whose python is
`--spiffarena-python` (default `DIR/.venv/bin/python`). Its schema is created with its own
`flask db upgrade`, its process model cache with `bin/refresh_all_caches.py`, its two users
and their API keys with `bin/bootstrap.py` (users of `service: bootstrap` in a permissions file
written here).

    python bench/spiffarena.py --spiffarena /path/to/spiffworkflow-backend \\
        --spiffarena-python /path/to/venv/bin/python [--samples 300] [--warmup 30] [--block 25]
        [--workers N] [--spiffarena-wal] [--omniflow-start engine-rest|cases]
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from intake_mix import _free_port, pct  # noqa: E402 - the bench's own helpers

MODEL = ROOT / "bench" / "spiffarena"
PROCESS_KEY = "bench_order_priority"
GROUP = "customer_service"
SPIFF_MODEL_ID = "bench:order-priority"        # process group "bench", model "order-priority"
CLIENT_KEY, AGENT_KEY = "bench-client-api-key", "bench-agent-api-key"



def _wait_for_port(port: int, process: subprocess.Popen, log: Path, seconds: float = 120):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited ({process.returncode}):\n{_tail(log)}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the server did not listen on {port}:\n{_tail(log)}")


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _run(command, **kwargs) -> str:
    out = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} failed ({out.returncode}):\n"
                           f"{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return out.stdout


def call(port: int, method: str, path: str, headers: dict, body=None):
    """One request on a new connection (closed after); the answer's status and JSON."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=json.dumps(body) if body is not None else None,
                     headers={"Content-Type": "application/json", **headers})
        response = conn.getresponse()
        raw = response.read()
        return response.status, (json.loads(raw) if raw else None)
    finally:
        conn.close()


def _stop(process: subprocess.Popen | None):
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


class Omniflow:
    name = "omniflow"

    def __init__(self, tmp: Path, start_with: str):
        self.port = _free_port()
        self.start_with = start_with
        self.log = tmp / "omniflow.log"
        self.env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp}/omniflow.db",
                    "OMNIFLOW_WORKER": "false",
                    "OMNIFLOW_AUDIT_KEY_FILE": f"{tmp}/audit.key",
                    "OMNIFLOW_AUDIT_CHECKPOINTS": f"{tmp}/audit-checkpoints.jsonl"}
        self.process = None
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "server.py", "serve", "--port", str(self.port)], cwd=ROOT,
                env=self.env, stdout=log, stderr=subprocess.STDOUT)
        _wait_for_port(self.port, self.process, self.log)
        _run([sys.executable, "server.py", "deploy", str(MODEL)], cwd=ROOT, env=self.env)
        self.client = self._user("bench-client", "--groups", "oms", "--client")
        self.agent = self._user("bench-agent", "--groups", GROUP)

    def _user(self, name: str, *options: str) -> str:
        out = _run([sys.executable, "server.py", "users", "add", name, *options], cwd=ROOT,
                   env=self.env)
        return out.strip().rsplit(" ", 1)[-1]

    def sample(self) -> dict:
        as_client = {"Authorization": f"Bearer {self.client}"}
        as_agent = {"Authorization": f"Bearer {self.agent}"}
        t0 = time.perf_counter()
        if self.start_with == "cases":
            status, answer = call(self.port, "POST", "/api/v1/cases", as_client,
                                  {"type": PROCESS_KEY, "data": {}})
            assert status == 201, answer
            case_id = answer["id"]
        else:
            status, answer = call(self.port, "POST",
                                  f"/engine-rest/process-definition/key/{PROCESS_KEY}/start",
                                  as_client, {"variables": {}})
            assert status == 200, answer
            case_id = answer["caseId"]
        t1 = time.perf_counter()
        status, inbox = call(self.port, "GET", f"/api/v1/tasks?group={GROUP}", as_agent)
        t2 = time.perf_counter()
        assert status == 200, inbox
        task = next((t for t in inbox["items"] if t["case_id"] == case_id), None)
        assert task is not None, f"case {case_id}'s task is not in the inbox: {inbox}"
        status, answer = call(self.port, "POST", f"/api/v1/tasks/{task['id']}/complete",
                              as_agent, {"data": {}})
        assert status == 200, answer
        return {"start": t1 - t0, "inbox": t2 - t1, "total": t2 - t0,
                "task": task["element_id"]}

    def stop(self):
        _stop(self.process)


class SpiffArena:
    name = "spiffarena"

    def __init__(self, tmp: Path, backend: Path, python: Path, workers: int, wal: bool):
        self.port = _free_port()
        self.log = tmp / "spiffarena.log"
        self.backend = backend
        self.python = python
        models = tmp / "spiff-models"
        model_dir = models / "bench" / "order-priority"
        model_dir.mkdir(parents=True)
        (models / "bench" / "process_group.json").write_text(json.dumps({
            "admin": False, "description": "", "display_name": "Bench", "display_order": 0,
            "parent_groups": None, "process_groups": [], "process_models": []}))
        (model_dir / "process_model.json").write_text(json.dumps({
            "description": "", "display_name": "Order priority",
            "exception_notification_addresses": [], "fault_or_suspend_on_exception": "fault",
            "metadata_extraction_paths": None, "primary_file_name": "order_priority.bpmn",
            "primary_process_id": PROCESS_KEY}))
        for source in MODEL.iterdir():
            if source.suffix in (".bpmn", ".dmn"):
                shutil.copy(source, model_dir / source.name)
        permissions = tmp / "spiff-permissions.yml"
        # Users of `service: bootstrap` get a service account whose API key is
        # SPIFFWORKFLOW_API_KEY_<name> (bin/bootstrap.py); group members are named
        # <name>@bootstrap. The client may do anything; the agent has SpiffArena's BASIC set.
        permissions.write_text(
            "users:\n"
            "  bench_client: {service: bootstrap}\n"
            "  bench_agent: {service: bootstrap}\n"
            "groups:\n"
            "  bench_clients: {users: [bench_client@bootstrap]}\n"
            f"  {GROUP}: {{users: [bench_agent@bootstrap]}}\n"
            "permissions:\n"
            "  clients-all: {groups: [bench_clients], actions: [all], uri: /*}\n"
            f"  agents-basic: {{groups: [{GROUP}], actions: [all], uri: BASIC}}\n")
        self.env = {**os.environ,
                    "SPIFFWORKFLOW_BACKEND_ENV": "local_development",
                    "SPIFFWORKFLOW_BACKEND_DATABASE_TYPE": "sqlite",
                    "SPIFFWORKFLOW_BACKEND_DATABASE_URI": f"sqlite:///{tmp}/spiffarena.sqlite3",
                    "SPIFFWORKFLOW_BACKEND_BPMN_SPEC_ABSOLUTE_DIR": str(models),
                    "SPIFFWORKFLOW_BACKEND_PERMISSIONS_FILE_ABSOLUTE_PATH": str(permissions),
                    "SPIFFWORKFLOW_BACKEND_RUN_BACKGROUND_SCHEDULER_IN_CREATE_APP": "false",
                    "SPIFFWORKFLOW_BACKEND_CELERY_ENABLED": "false",
                    "SPIFFWORKFLOW_BACKEND_LOG_LEVEL": "info",
                    "SPIFFWORKFLOW_BACKEND_SERVER_WORKER_COUNT": str(workers),
                    "SPIFFWORKFLOW_BACKEND_URL": f"http://127.0.0.1:{self.port}",
                    "FLASK_SESSION_SECRET_KEY": "bench-only-secret",
                    "FLASK_APP": str(backend / "app.py"),
                    "FLASK_DEBUG": "0",
                    "SPIFFWORKFLOW_API_KEY_bench_client": CLIENT_KEY,
                    "SPIFFWORKFLOW_API_KEY_bench_agent": AGENT_KEY}
        self.env.pop("DATABASE_URL", None)
        self.process = None
        _run([str(python), "-m", "flask", "db", "upgrade"], cwd=backend, env=self.env)
        _run([str(python), "bin/refresh_all_caches.py"], cwd=backend, env=self.env)
        _run([str(python), "bin/bootstrap.py"], cwd=backend, env=self.env)
        if wal:                                    # kept in the file: every connection uses it
            with sqlite3.connect(tmp / "spiffarena.sqlite3") as db:
                db.execute("PRAGMA journal_mode=wal")
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                [str(python), "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}",
                 "--workers", str(workers), "--worker-class", "uvicorn_worker.UvicornWorker",
                 "--timeout", "90", "--log-level", "warning", "spiff_web_server:asgi_app"],
                cwd=backend, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        _wait_for_port(self.port, self.process, self.log)

    def sample(self) -> dict:
        as_client = {"SpiffWorkflow-Api-Key": CLIENT_KEY}
        as_agent = {"SpiffWorkflow-Api-Key": AGENT_KEY}
        t0 = time.perf_counter()
        status, created = call(self.port, "POST", f"/v1.0/process-instances/{SPIFF_MODEL_ID}",
                               as_client)
        assert status == 201, created
        instance = created["id"]
        status, ran = call(self.port, "POST",
                           f"/v1.0/process-instance-run/{SPIFF_MODEL_ID}/{instance}", as_client)
        t1 = time.perf_counter()
        assert status == 200 and ran["status"] == "user_input_required", ran
        status, inbox = call(self.port, "GET",
                             f"/v1.0/tasks/for-my-groups?user_group_identifier={GROUP}", as_agent)
        t2 = time.perf_counter()
        assert status == 200, inbox
        task = next((t for t in inbox["results"] if t["process_instance_id"] == instance), None)
        assert task is not None, f"instance {instance}'s task is not in the inbox: {inbox}"
        status, answer = call(self.port, "PUT", f"/v1.0/tasks/{instance}/{task['task_id']}",
                              as_agent, {})
        assert status == 200, answer
        return {"start": t1 - t0, "inbox": t2 - t1, "total": t2 - t0,
                "task": task["task_name"]}

    def stop(self):
        _stop(self.process)


def measure(services, samples: int, warmup: int, block: int) -> dict:
    for service in services:                       # warm every process's caches
        for _ in range(warmup):
            service.sample()
    results = {s.name: [] for s in services}
    while any(len(r) < samples for r in results.values()):
        for service in services:
            for _ in range(min(block, samples - len(results[service.name]))):
                results[service.name].append(service.sample())
    return results


def figures(rows: list[dict]) -> dict:
    ms = lambda v: round(v * 1000, 2)  # noqa: E731
    out = {}
    for key in ("total", "start", "inbox"):
        values = [r[key] for r in rows]
        out[key] = {"p50": ms(pct(values, 50)), "p99": ms(pct(values, 99)),
                    "mean": ms(statistics.mean(values))}
    out["paths"] = sorted({r["task"] for r in rows})
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spiffarena", required=True, type=Path,
                        help="spiff-arena's spiffworkflow-backend folder (installed)")
    parser.add_argument("--spiffarena-python", type=Path, default=None,
                        help="the python of the virtualenv SpiffArena is installed in "
                             "(default DIR/.venv/bin/python)")
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--block", type=int, default=25,
                        help="samples in a row on one service before switching to the other")
    parser.add_argument("--workers", type=int, default=None,
                        help="HTTP processes of SpiffArena (default: as Omniflow's serve, "
                             "one per core, at most 8)")
    parser.add_argument("--spiffarena-wal", action="store_true",
                        help="put SpiffArena's SQLite file in WAL mode (as Omniflow's; its own "
                             "default is the rollback journal)")
    parser.add_argument("--omniflow-start", choices=["engine-rest", "cases"],
                        default="engine-rest")
    args = parser.parse_args()
    backend = args.spiffarena.resolve()
    python = (args.spiffarena_python or backend / ".venv" / "bin" / "python").absolute()
    if not (backend / "spiff_web_server.py").exists() or not python.exists():
        parser.error(f"{backend} is not a spiffworkflow-backend folder or {python} is missing")
    workers = args.workers or min(8, os.cpu_count() or 1)
    services = []
    with tempfile.TemporaryDirectory(prefix="bench-spiffarena-") as tmp:
        tmp = Path(tmp)
        try:
            services.append(Omniflow(tmp, args.omniflow_start))
            services.append(SpiffArena(tmp, backend, python, workers,
                                       args.spiffarena_wal))
            began = time.time()
            results = measure(services, args.samples, args.warmup, args.block)
            elapsed = time.time() - began
        except Exception:
            for service in services:
                print(f"--- {service.name} log ---\n{_tail(service.log)}", file=sys.stderr)
            raise
        finally:
            for service in services:
                service.stop()
    of, sp = figures(results["omniflow"]), figures(results["spiffarena"])
    print(f"samples {args.samples} per service after {args.warmup} warm-up, blocks of "
          f"{args.block}, HTTP processes: Omniflow serve's default, SpiffArena {workers}; "
          f"SpiffArena's SQLite "
          f"{'in WAL mode' if args.spiffarena_wal else 'as it sets it'}, {elapsed:.0f} s, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'ms':28} {'omniflow':>10} {'spiffarena':>11} {'ratio':>7}")
    for key, label in (("total", "start-to-inbox"), ("start", "start alone"),
                       ("inbox", "inbox read")):
        for p in ("p50", "p99"):
            a, b = of[key][p], sp[key][p]
            print(f"{label + ' ' + p:28} {a:10.2f} {b:11.2f} {b / a:6.1f}x")
    print(f"paths taken: omniflow {of['paths']}, spiffarena {sp['paths']}")
    print("timed, omniflow:   " + ("POST /api/v1/cases" if args.omniflow_start == "cases" else
                                   f"POST /engine-rest/process-definition/key/{PROCESS_KEY}/start")
          + f" + GET /api/v1/tasks?group={GROUP}")
    print(f"timed, spiffarena: POST /v1.0/process-instances/{SPIFF_MODEL_ID} + "
          f"POST /v1.0/process-instance-run/{SPIFF_MODEL_ID}/ID + "
          f"GET /v1.0/tasks/for-my-groups?user_group_identifier={GROUP}")


if __name__ == "__main__":
    main()
