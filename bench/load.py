"""A multi-process load test on PostgreSQL: 4 HTTP processes, 2 workers, Locust headless.

    pip install -r bench/requirements.txt        # Locust (kept out of the service's set)
    DATABASE_URL=postgresql://postgres@127.0.0.1/omniflow_bench python bench/load.py \
        [--minutes 5] [--users 16] [--http 4] [--workers 2]

Resets the database's schema, starts ``server.py serve --workers 4`` (no in-process worker) and
two ``server.py worker`` processes, creates the clients and people the traffic uses, then runs
``bench/load/locustfile.py`` (intake 60 %, inbox reads 25 %, completions 10 %, signals 5 %) for
the given time. Prints per operation: requests, failures, requests/s, p50/p99 (ms); cases opened
per second; CPU seconds per case for each group of processes (HTTP, workers, PostgreSQL,
Locust), which shows what saturates first; and the worker's lag (jobs and timers still due).
Nothing is asserted; figures go to bench/README.md.
"""
from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from intake_mix import Server  # noqa: E402  (the bench's served instance, not the service)

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
    return total / TICKS


def tree(pid: int) -> list[int]:
    """``pid`` and its descendants (gunicorn's workers)."""
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except FileNotFoundError:
            children = []
        todo += [int(c) for c in children]
    return out


def postgres_pids() -> list[int]:
    done = subprocess.run(["pgrep", "-f", "postgres"], capture_output=True, text=True)
    return [int(p) for p in done.stdout.split()]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--http", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("set DATABASE_URL=postgresql://... (the load test is for PostgreSQL)")
    locust = shutil.which("locust") or str(Path(sys.executable).parent / "locust")
    if not Path(locust).exists():
        sys.exit("Locust is not installed: pip install -r bench/requirements.txt")

    from service import store
    store.bind(url)
    store.database.execute_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    store.database.close()

    tmp = tempfile.mkdtemp(prefix="omniflow-load-")
    server = Server(url, args.http, tmp)     # serve --workers N, no in-process worker
    env, port, user = server.env, server.port, server.user
    workers = []
    try:
        tokens = {
            "LOAD_OMS_TOKEN": user("oms-load", "--groups", "oms", "--client"),
            "LOAD_POS_TOKEN": user("pos-load", "--groups", "pos", "--client"),
            "LOAD_AGENT_TOKEN": user("agent-load", "--groups", "customer_service",
                                     "--authority", "refund=100"),
            "LOAD_READER_TOKENS": ",".join([
                user("sup-load", "--groups", "cs_supervisor,customer_service",
                     "--authority", "refund=500"),
                user("fin-load", "--groups", "finance", "--authority", "refund=1000000"),
                user("ecom-load", "--groups", "ecommerce_ops", "--authority", "refund=500")]),
        }
        for i in range(args.workers):
            workers.append(subprocess.Popen([sys.executable, "server.py", "worker"], cwd=ROOT,
                                            env=env, stdout=subprocess.DEVNULL,
                                            stderr=open(f"{tmp}/worker{i}.log", "w")))
        groups = {"http": lambda: tree(server.process.pid),
                  "workers": lambda: [p for w in workers for p in tree(w.pid)],
                  "postgresql": postgres_pids}
        before = {name: cpu_seconds(pids()) for name, pids in groups.items()}
        cases_before = count_cases()
        started = time.perf_counter()
        load = subprocess.Popen(
            [locust, "-f", str(ROOT / "bench/load/locustfile.py"), "--headless",
             "-u", str(args.users), "-r", str(max(1, args.users // 4)),
             "-t", f"{int(args.minutes * 60)}s", "--host", f"http://127.0.0.1:{port}",
             "--csv", f"{tmp}/load", "--only-summary"],
            env={**env, **tokens}, stdout=subprocess.DEVNULL, stderr=open(f"{tmp}/locust.log", "w"))
        load.wait()
        elapsed = time.perf_counter() - started
        after = {name: cpu_seconds(pids()) for name, pids in groups.items()}
        cases = count_cases() - cases_before
        lag = worker_lag()
    finally:
        for process in workers:
            process.terminate()
            process.wait(30)
        server.stop()

    print(f"{args.users} Locust users, {args.http} HTTP processes, {args.workers} workers, "
          f"{elapsed:.0f} s, PostgreSQL")
    print(f"{'operation':28} {'requests':>9} {'failures':>9} {'req/s':>7} {'p50 ms':>7} "
          f"{'p99 ms':>7}")
    with open(f"{tmp}/load_stats.csv") as handle:
        for row in csv.DictReader(handle):
            print(f"{row['Name']:28} {row['Request Count']:>9} {row['Failure Count']:>9} "
                  f"{float(row['Requests/s']):>7.1f} {row['50%']:>7} {row['99%']:>7}")
    print(f"cases opened: {cases} ({cases / elapsed:.1f}/s)")
    for name in groups:
        used = after[name] - before[name]
        print(f"cpu {name:11} {used:7.1f} s  ({used / elapsed * 100:5.1f} % of one core, "
              f"{used / max(cases, 1) * 1000:6.2f} ms per case)")
    print(f"worker lag at the end: {lag}")
    with open(f"{tmp}/load_failures.csv") as handle:
        failures = list(csv.DictReader(handle))
    for row in failures[:10]:
        print(f"failure: {row['Method']} {row['Name']}: {row['Error']} x{row['Occurrences']}")
    print(f"logs and CSVs: {tmp}")


def count_cases() -> int:
    from service.store import Case
    return Case.select().count()


def worker_lag() -> dict:
    """Jobs (timers, retries, outbox) due but not done at the end of the run, and the oldest."""
    import datetime as dt
    from peewee import fn
    from service.store import Job
    now = dt.datetime.now(dt.timezone.utc)
    due = Job.select(fn.COUNT(Job.id), fn.MIN(Job.due_at)).where(
        (Job.status == "pending") & (Job.due_at <= now)).tuples().first()
    return {"due_jobs": due[0], "oldest_due": str(due[1])}


if __name__ == "__main__":
    main()
