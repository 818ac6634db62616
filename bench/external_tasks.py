"""External-task benchmark: fetchAndLock + complete round trips per second over HTTP, with 1
and 4 workers, and how soon a long poll answers when a task appears.

The service is served over real HTTP (werkzeug's threaded server, in this process); each worker
is its own process (``requests``, keep-alive) looping fetchAndLock(maxTasks=1) -> complete
until the queue is empty. Tasks are created beforehand (cases started in-process; each start
runs the engine to the external task and writes its row).

Wake latency: a worker long-polls an empty topic (``asyncResponseTimeout`` 30 s); the time from
just before a case is started to the worker holding its task. "same process": the case is
started by the serving process (its unit of work wakes the poll at once); "other process":
by another process (the poll finds it by polling the table, every ``POLL_SECONDS``).

    python bench/external_tasks.py                         # SQLite in a temp folder
    DATABASE_URL=postgresql://postgres@127.0.0.1/bench python bench/external_tasks.py
    env: BENCH_TASKS (default 300), BENCH_WAKES (default 15)
"""
from __future__ import annotations

import logging
import multiprocessing as mp
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOPIC = "bench.work"
BPMN = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="bench_external" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work" />
    <bpmn:serviceTask id="work" camunda:type="external" camunda:topic="{TOPIC}" />
    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>
""".encode()


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def config_for(url: str, tmp: str):
    from service.config import Config
    return Config(database_url=url, run_worker=False, deploy_on_start=False,
                  audit_key_file=f"{tmp}/audit.key",
                  audit_checkpoint_file=f"{tmp}/audit-checkpoints.jsonl")


def reset_postgres(url: str) -> None:
    from service import store
    store.bind(url)
    store.database.execute_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    store.database.close()


def start_cases(config, n: int) -> None:
    from service.policy import authenticate
    from service.usecases.cases import submit
    oms = authenticate(os.environ["BENCH_OMS_TOKEN"])
    for i in range(n):
        submit(oms, {"type": "bench_external", "data": {"n": i}}, config=config)


def work(url: str, token: str, name: str, ready, go, counts) -> None:
    """A worker process: fetch one, complete it, until nothing is left."""
    session = requests.Session()
    headers = {"Authorization": f"Bearer {token}"}
    done = 0
    ready.put(name)
    go.wait()
    while True:
        answer = session.post(f"{url}/external-task/fetchAndLock", headers=headers, json={
            "workerId": name, "maxTasks": 1,
            "topics": [{"topicName": TOPIC, "lockDuration": 60_000}]}, timeout=60)
        answer.raise_for_status()
        tasks = answer.json()
        if not tasks:
            break
        for task in tasks:
            session.post(f"{url}/external-task/{task['id']}/complete", headers=headers,
                         json={"workerId": name, "variables": {"ok": {"value": True}}},
                         timeout=60).raise_for_status()
            done += 1
    counts.put(done)


def poll_once(url: str, token: str, results) -> None:
    """A worker process: one long poll; reports when it got its task."""
    answer = requests.post(f"{url}/external-task/fetchAndLock",
                           headers={"Authorization": f"Bearer {token}"}, json={
                               "workerId": "poller", "maxTasks": 1, "asyncResponseTimeout": 30_000,
                               "topics": [{"topicName": TOPIC, "lockDuration": 60_000}]},
                           timeout=60)
    got = time.time()
    [task] = answer.json()
    requests.post(f"{url}/external-task/{task['id']}/complete",
                  headers={"Authorization": f"Bearer {token}"},
                  json={"workerId": "poller"}, timeout=60).raise_for_status()
    results.put(got)


def start_elsewhere(db_url: str, tmp: str, oms_token: str, ready, go, started) -> None:
    """Another service process: starts one case when told (no in-process wake-up)."""
    from service.usecases import system
    os.environ["BENCH_OMS_TOKEN"] = oms_token
    config = system.open_store(config_for(db_url, tmp))
    ready.set()
    go.wait()
    started.put(time.time())
    start_cases(config, 1)


def throughput(ctx, url, token, config, n, workers) -> float:
    start_cases(config, n)
    counts, ready, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=work, args=(url, token, f"w{i}", ready, go, counts))
             for i in range(workers)]
    for p in procs:
        p.start()
    for _ in procs:                     # timed from when every worker process is up
        ready.get(timeout=60)
    t0 = time.perf_counter()
    go.set()
    total = sum(counts.get() for _ in procs)
    elapsed = time.perf_counter() - t0
    for p in procs:
        p.join()
    assert total == n, (total, n)
    return total / elapsed


def wake_latency(ctx, url, token, config, db_url, tmp, oms_token, rounds, *, elsewhere):
    lags = []
    for _ in range(rounds):
        results = ctx.Queue()
        poller = ctx.Process(target=poll_once, args=(url, token, results))
        if elsewhere:
            ready, go, started = ctx.Event(), ctx.Event(), ctx.Queue()
            other = ctx.Process(target=start_elsewhere,
                                args=(db_url, tmp, oms_token, ready, go, started))
            other.start()
            ready.wait(60)
        poller.start()
        time.sleep(0.5)                          # the poll is waiting by now
        if elsewhere:
            go.set()
            t0 = started.get()
            other.join()
        else:
            t0 = time.time()
            start_cases(config, 1)
        lags.append(results.get(timeout=60) - t0)
        poller.join()
    return lags


def main() -> None:
    from werkzeug.serving import WSGIRequestHandler, make_server

    from service import store
    from service.app import create_app
    from service.policy import SYSTEM, add_user
    from service.usecases import deployments, system

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    n = int(os.environ.get("BENCH_TASKS", "300"))
    rounds = int(os.environ.get("BENCH_WAKES", "15"))
    tmp = tempfile.mkdtemp(prefix="bench-ext-")
    db_url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.db"
    if db_url.startswith("postgres"):
        reset_postgres(db_url)
    config = system.open_store(config_for(db_url, tmp))
    app = create_app(config)
    with app.app_context():
        deployments.deploy(SYSTEM, {"bench_external.bpmn": BPMN}, config=config)
    _, oms_token = add_user("oms", ["oms"], client=True)
    _, token = add_user("bench-worker", [f"topic:{TOPIC}"], client=True)
    os.environ["BENCH_OMS_TOKEN"] = oms_token
    class NoDelay(WSGIRequestHandler):
        # werkzeug writes the headers and the body apart: without TCP_NODELAY the second
        # write waits for the client's delayed ACK (40 ms) on every answer
        def setup(self):
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=NoDelay)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/engine-rest"
    ctx = mp.get_context("spawn")
    kind = "PostgreSQL" if db_url.startswith("postgres") else "SQLite"
    print(f"{kind}: {n} tasks per run")
    throughput(ctx, url, token, config, 20, 1)                     # warm up
    for workers in (1, 4):
        rate = throughput(ctx, url, token, config, n, workers)
        print(f"  fetchAndLock+complete, {workers} worker(s): {rate:.0f} round trips/s")
    for elsewhere in (False, True):
        lags = wake_latency(ctx, url, token, config, db_url, tmp, oms_token, rounds,
                            elsewhere=elsewhere)
        where = "other process (table polling)" if elsewhere else "same process (notify)"
        print(f"  long-poll wake-up, case started in the {where}: "
              f"p50 {statistics.median(lags) * 1000:.0f} ms, p90 {pct(lags, 90) * 1000:.0f} ms, "
              f"max {max(lags) * 1000:.0f} ms ({rounds} rounds)")
    server.shutdown()
    store.database.close()


if __name__ == "__main__":
    main()
