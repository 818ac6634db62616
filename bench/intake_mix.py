"""Order exceptions over real HTTP, on the shipped mix: every reason, tier, channel and value band.

`bench/intake.py` times one path (a manual complaint) in-process. This times what a client sees:
`server.py serve` (gunicorn) on a fresh database, then

* **sequential**: one request at a time, a new TCP connection each (as a simple client does),
  cycling through a deterministic mix of reasons x tiers x channels x value bands x risk; every
  case that lands in the customer-service inbox is also claimed and completed;
* **concurrent**: `--clients` client processes submitting the same mix for `--seconds`,
  keep-alive.

Prints p50/p99 of submit and complete (milliseconds) and cases per second. Figures go to
bench/README.md; nothing here is asserted.

    python bench/intake_mix.py [--cases 600] [--clients 8] [--seconds 20] [--workers N]
    DATABASE_URL=postgresql://postgres@127.0.0.1/bench python bench/intake_mix.py
"""
from __future__ import annotations

import argparse
import http.client
import itertools
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

REASONS = ["payment_failed", "address_invalid", "short_pick", "late_shipment", "damaged",
           "customer_complaint"]
TIERS = ["bronze", "silver", "gold", "platinum"]
CHANNELS = ["web", "app", "store", "phone"]
VALUES = [18.5, 64, 140, 420, 900, 2400, 7800]
RISK = [(0, 0, 0), (2, 1, 3), (6, 4, 2)]          # (days_late, contacts, prior exceptions)


def mix():
    """The shipped mix, in a fixed order that interleaves every dimension."""
    combos = list(itertools.product(REASONS, TIERS, CHANNELS, VALUES, RISK))
    step = 7919                                   # a prime: walk the product out of order
    for n in itertools.count():
        reason, tier, channel, value, (late, contacts, prior) = combos[(n * step) % len(combos)]
        yield {"order_id": f"M-{n}", "reason": reason, "channel": channel, "value": value,
               "margin": round(0.05 + (n % 7) * 0.05, 2), "customer_tier": tier,
               "days_late": late, "prior_contacts_90d": contacts,
               "prior_exceptions_90d": prior, "order_weekday": n % 7}


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, url: str, workers: int | None, tmp: str):
        self.port = _free_port()
        self.env = {**os.environ, "DATABASE_URL": url, "OMNIFLOW_WORKER": "false",
                    "OMNIFLOW_AUDIT_KEY_FILE": f"{tmp}/audit.key",
                    "OMNIFLOW_AUDIT_CHECKPOINTS": f"{tmp}/audit-checkpoints.jsonl"}
        command = [sys.executable, "server.py", "serve", "--port", str(self.port)]
        if workers:
            command += ["--workers", str(workers)]
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(600):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def user(self, name: str, *options: str) -> str:
        out = subprocess.run([sys.executable, "server.py", "users", "add", name, *options],
                             cwd=ROOT, env=self.env, capture_output=True, text=True, check=True)
        return out.stdout.strip().rsplit(" ", 1)[-1]

    def stop(self):
        self.process.terminate()
        self.process.wait(30)


def call(conn_or_port, method, path, token, body=None):
    """One request; a port opens a new connection for it (closed after)."""
    fresh = isinstance(conn_or_port, int)
    conn = http.client.HTTPConnection("127.0.0.1", conn_or_port) if fresh else conn_or_port
    try:
        conn.request(method, path, body=json.dumps(body) if body is not None else None,
                     headers={"Authorization": f"Bearer {token}",
                              "Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        if fresh:
            conn.close()


def sequential(server: Server, oms: str, agent: str, n: int) -> dict:
    submits, completes, routed = [], [], {}
    cases = mix()
    for _ in range(20):                                  # warm every process's caches
        call(server.port, "POST", "/api/v1/cases", oms,
             {"type": "order_exception", "data": next(cases)})
    for _ in range(n):
        data = next(cases)
        t0 = time.perf_counter()
        status, case = call(server.port, "POST", "/api/v1/cases", oms,
                            {"type": "order_exception", "data": data})
        submits.append(time.perf_counter() - t0)
        assert status == 201, case
        tasks = [t for t in case.get("tasks", []) if t["name"] and t["status"] == "open"]
        key = tasks[0]["name"] if tasks else "automatic"
        routed[key] = routed.get(key, 0) + 1
        agent_task = next((t for t in tasks if "customer_service" in t["candidate_groups"]),
                          None)
        if agent_task is None:
            continue
        resolution = ("reship", "substitute", "refund", "no_action")[len(completes) % 4]
        form = {"resolution": resolution}
        if resolution == "refund":
            form["refund_amount"] = min(80, int(data["value"]))
        t0 = time.perf_counter()
        status, answer = call(server.port, "POST",
                              f"/api/v1/tasks/{agent_task['id']}/complete", agent,
                              {"data": form})
        completes.append(time.perf_counter() - t0)
        assert status == 200, answer
    ms = lambda v: round(v * 1000, 2)  # noqa: E731
    return {"sequential_cases": n, "submit_p50_ms": ms(pct(submits, 50)),
            "submit_p99_ms": ms(pct(submits, 99)), "submit_mean_ms": ms(statistics.mean(submits)),
            "completes": len(completes),
            "complete_p50_ms": ms(pct(completes, 50)) if completes else None,
            "complete_p99_ms": ms(pct(completes, 99)) if completes else None,
            "routed": routed}


def _client(port: int, token: str, offset: int, stop_at: float) -> tuple:
    """One client process: submit the mix over one keep-alive connection until ``stop_at``."""
    began = time.time()
    conn = http.client.HTTPConnection("127.0.0.1", port)
    cases = itertools.islice(mix(), offset * 100_000, None)
    done, errors, latencies = 0, 0, []
    while time.time() < stop_at:
        t0 = time.perf_counter()
        try:
            status, _ = call(conn, "POST", "/api/v1/cases", token,
                             {"type": "order_exception", "data": next(cases)})
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port)
            status = 0
        latencies.append(time.perf_counter() - t0)
        if status == 201:
            done += 1
        else:
            errors += 1
    return done, errors, latencies, began


def concurrent(server: Server, oms: str, clients: int, seconds: float) -> dict:
    """``clients`` client processes at once. Processes, not threads: eight threads of one
    Python process share its GIL on a busy machine, and a thread waiting for it for seconds
    showed up as requests of 4 to 6 s that the server had answered in under 200 ms."""
    stop_at = time.time() + seconds + 2            # the clients' start-up is not timed
    with multiprocessing.get_context("spawn").Pool(clients) as pool:
        results = pool.starmap(_client, [(server.port, oms, i, stop_at) for i in range(clients)])
    elapsed = stop_at - min(r[3] for r in results)
    count = sum(r[0] for r in results)
    latencies = [v for r in results for v in r[2]]
    return {"clients": clients, "cases_per_s": round(count / elapsed, 1),
            "concurrent_p50_ms": round(pct(latencies, 50) * 1000, 1),
            "concurrent_p99_ms": round(pct(latencies, 99) * 1000, 1),
            "errors": sum(r[1] for r in results)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=600)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.db"
        if url.startswith("postgres"):
            sys.path.insert(0, str(ROOT))
            from service import store
            store.bind(url)
            store.database.execute_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
            store.database.close()
        server = Server(url, args.workers, tmp)
        try:
            oms = server.user("oms-bench", "--groups", "oms", "--client")
            agent = server.user("agent-bench", "--groups", "customer_service",
                                "--authority", "refund=100")
            figures = {"database": url.split(":", 1)[0]}
            figures.update(sequential(server, oms, agent, args.cases))
            figures.update(concurrent(server, oms, args.clients, args.seconds))
        finally:
            server.stop()
    for key, value in figures.items():
        print(f"{key:24} {value}")


if __name__ == "__main__":
    main()
