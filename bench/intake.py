"""Intake benchmark for the order_exception flow.

Prints p50/p99 of submit-to-first-task and of complete, measured in-process (the service layer,
no HTTP), and cases per second through HTTP with the server the README uses (`serve`: gunicorn).

    python bench/intake.py                  # SQLite in a temp folder
    DATABASE_URL=postgresql://postgres@127.0.0.1/bench python bench/intake.py
"""
from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CASE = {"order_id": "B-2", "reason": "customer_complaint", "channel": "phone", "value": 900,
        "margin": 0.2, "customer_tier": "gold", "days_late": 6, "prior_contacts_90d": 4,
        "prior_exceptions_90d": 2, "order_weekday": 4}


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def database_url(tmp: str) -> str:
    return os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.db"


def reset_postgres(url: str) -> None:
    from service import store
    store.bind(url)
    store.database.execute_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    store.database.close()


def in_process(url: str, n: int) -> dict:
    from service import store
    from service.app import create_app
    from service.config import Config
    from service.policy import add_user, authenticate
    from service.usecases import system
    from service.usecases import tasks as inbox
    from service.usecases.cases import submit
    from service.usecases.deployments import deploy_shipped_content
    config = Config(database_url=url, run_worker=False)
    system.open_store(config)
    app = create_app(config)
    with app.app_context():
        deploy_shipped_content(config)
        _, oms_token = add_user("oms", ["oms"], client=True)
        _, agent_token = add_user("agent", ["customer_service"], {"refund": 100})
        oms, agent = authenticate(oms_token), authenticate(agent_token)
        body = {"type": "order_exception", "data": CASE}
        for _ in range(20):                       # warm caches (parse, model load)
            submit(oms, body, config=config)
        submits, completes = [], []
        for _ in range(n):
            t0 = time.perf_counter()
            _, case = submit(oms, body, config=config)
            submits.append(time.perf_counter() - t0)
            task_id = case["tasks"][0]["id"]
            t0 = time.perf_counter()
            inbox.complete(agent, task_id, {"resolution": "reship"}, config=config)
            completes.append(time.perf_counter() - t0)
        from service.store import Instance
        waiting = (Instance.select().where(Instance.status == "waiting").first())
        size = len(waiting.state) if waiting else None
    store.database.close()
    ms = lambda v: round(v * 1000, 2)  # noqa: E731
    return {"submit_p50_ms": ms(pct(submits, 50)), "submit_p99_ms": ms(pct(submits, 99)),
            "complete_p50_ms": ms(pct(completes, 50)), "complete_p99_ms": ms(pct(completes, 99)),
            "waiting_instance_state_bytes": size}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def over_http(url: str, seconds: float, clients: int) -> dict:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "OMNIFLOW_WORKER": "false"}
    server = subprocess.Popen([sys.executable, "server.py", "serve", "--port", str(port)],
                              cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        token = subprocess.run([sys.executable, "server.py", "users", "add", "oms-http",
                                "--groups", "oms", "--client"], cwd=ROOT, env=env,
                               capture_output=True, text=True, check=True).stdout
        token = token.strip().rsplit(" ", 1)[-1]
        body = json.dumps({"type": "order_exception", "data": CASE})
        count, errors, stop = [0], [0], time.perf_counter() + seconds
        lock = threading.Lock()

        def run():
            conn = http.client.HTTPConnection("127.0.0.1", port)
            while time.perf_counter() < stop:
                conn.request("POST", "/api/v1/cases", body,
                             {"Authorization": f"Bearer {token}",
                              "Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
                with lock:
                    if response.status == 201:
                        count[0] += 1
                    else:
                        errors[0] += 1

        t0 = time.perf_counter()
        threads = [threading.Thread(target=run) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        return {"http_cases_per_s": round(count[0] / elapsed, 1), "http_errors": errors[0],
                "http_clients": clients}
    finally:
        server.terminate()
        server.wait(10)


def main():
    n = int(os.environ.get("BENCH_N", "300"))
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url(tmp)
        if url.startswith("postgres"):
            reset_postgres(url)
        figures = {"database": url.split(":", 1)[0]}
        figures.update(in_process(url, n))
        figures.update(over_http(url, float(os.environ.get("BENCH_SECONDS", "10")), 8))
    for key, value in figures.items():
        print(f"{key:32} {value}")


if __name__ == "__main__":
    main()
