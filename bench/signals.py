"""Signals end to end: POST /api/v1/signals -> stored -> rules consumer -> outcome recorded.

Prints signals per second from the first POST to the last recorded outcome, and the process's
resident memory along the stream (it should stay flat after warm-up: facts leave the engine as
their windows close on the signals' own clock).

    python bench/signals.py                      # 1,000,000 signals on a temporary SQLite file
    python bench/signals.py --signals 200000
    DATABASE_URL=postgresql://postgres@127.0.0.1/test python bench/signals.py --signals 100000

The stream: 8 regions of 125 skus each, 10 locations; ERP and ecommerce snapshots (mostly in
agreement), returns, no-stock cancellations, PO updates and a few promotions, 0.2 s of signal
time apart. Only the shipped rulesets are deployed (no processes), so the rare matches end as
recorded 'error' outcomes instead of opening cases: this measures intake and detection.
"""
from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import random
import sys
import tempfile
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

T0 = dt.datetime(2025, 1, 6, tzinfo=dt.timezone.utc)


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def stream(n: int, seed: int = 7):
    rnd = random.Random(seed)
    regions = [f"r{i}" for i in range(8)]
    for i in range(n):
        at = T0 + dt.timedelta(seconds=i * 0.2)
        region = regions[i % 8]
        sku = f"SKU{i % 8}-{rnd.randrange(125)}"
        loc = f"L{rnd.randrange(10)}"
        roll = rnd.random()
        # Channels mostly agree; about 1 sku-location in 100 drifts apart.
        base = (zlib.crc32(f'{sku}@{loc}'.encode()) % 150) + 20
        drift = 40 if zlib.crc32(f'{loc}#{sku}'.encode()) % 100 == 0 else 0
        if roll < 0.35:
            data = {"sku": sku, "location": loc, "source": "erp",
                    "on_hand": base + rnd.randrange(2)}
            kind = "inventory.snapshot"
        elif roll < 0.70:
            data = {"sku": sku, "location": loc, "source": "ecommerce",
                    "available_to_promise": base - drift + rnd.randrange(2)}
            kind = "inventory.snapshot"
        elif roll < 0.85:
            data = {"return_id": f"R{i}", "sku": sku, "value": 30.0}
            kind = "return.received"
        elif roll < 0.93:
            data = {"order_id": f"O{i}", "sku": sku, "location": loc,
                    "cause": rnd.choice(("no_stock", "customer"))}
            kind = "order.cancelled"
        elif roll < 0.995:
            data = {"po_id": f"PO{rnd.randrange(50000)}", "supplier": "ACME", "sku": sku,
                    "qty": 100, "eta": (at + dt.timedelta(days=rnd.randrange(1, 20))).isoformat(),
                    "lead_time_days": rnd.randrange(1, 15)}
            kind = "po.updated"
        else:
            data = {"promo_id": f"P{i}", "skus": [sku], "region": region, "expected_uplift": 50,
                    "starts_at": (at + dt.timedelta(days=rnd.randrange(3, 30))).isoformat()}
            kind = "promotion.scheduled"
        data["region"] = region
        yield {"id": f"b{i}", "type": kind, "at": at.isoformat(), "data": data}


def batches(n: int, size: int):
    """Request bodies made as they are sent, so the bench holds one at a time (the memory
    figures are then the service's, not a list of a million pre-built signals)."""
    gen = stream(n)
    while True:
        chunk = [s for _, s in zip(range(size), gen)]
        if not chunk:
            return
        yield chunk


def _app(url: str, nats: str = "", stream: str = ""):
    from service.app import create_app
    from service.usecases import system
    from service.config import Config
    from service.signals.jetstream import Names
    extra = {"signal_stream": Names(stream=stream, subject=f"{stream.lower()}.signals")} \
        if nats else {}
    config = Config(database_url=url, run_worker=False, deploy_on_start=False, signals_url=nats,
                    extra=extra)
    system.open_store(config)   # create_app checks the schema, it does not migrate
    return config, create_app(config)


def _live_facts() -> int:
    from service.signals import consumer
    return sum(state.live_facts for state in consumer.registry().values())


def _consume(url: str, total: int, checkpoint: int, done, ready, nats: str = "",
             stream: str = "", stop=None) -> None:
    """The worker process: run the consumer until ``total`` signals have an outcome (or, with
    ``stop``, until it is set)."""
    from service.usecases.signals import run_rules as run_pending
    config, app = _app(url, nats, stream)
    ready.set()
    processed, next_mark, t0 = 0, checkpoint, time.perf_counter()
    cpu0 = time.process_time()
    last, last_t, last_cpu = 0, t0, cpu0
    with app.app_context():
        while (processed < total) if stop is None else not stop.is_set():
            n = run_pending(config, owner="bench-worker", limit=5000)
            processed += n
            done.value = processed
            if not n:
                time.sleep(0.002)
            if processed >= next_mark or processed >= total:
                now, cpu = time.perf_counter(), time.process_time()
                print(f"  worker  {processed:>9,} processed  rss {rss_mb():7.1f} MB  "
                      f"{_live_facts():>8,} live facts  {(processed - last) / (now - last_t):>7,.0f}/s "
                      f"this step, {(cpu - last_cpu) / max(1, processed - last) * 1e6:.0f} cpu "
                      f"µs/signal", flush=True)
                next_mark = (processed // checkpoint + 1) * checkpoint
                last, last_t, last_cpu = processed, now, cpu
    print(f"  worker cpu: {time.process_time() - cpu0:.1f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signals", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000, help="signals per POST")
    parser.add_argument("--consume-every", type=int, default=5, help="POSTs per consumer run")
    parser.add_argument("--checkpoint", type=int, default=100_000,
                        help="print RSS and rates every this many signals")
    parser.add_argument("--worker", action="store_true",
                        help="run the consumer in its own process beside the POSTs (web + "
                             "worker, as deployed) instead of in series in this one")
    parser.add_argument("--sqlite", help="SQLite file to use (default: a new temporary one)")
    parser.add_argument("--nats", default="", help="signals on NATS JetStream at this URL "
                        "(nats://127.0.0.1:4222), on a stream of the bench's own")
    parser.add_argument("--latency", type=int, default=0, help="then measure detection latency: "
                        "this many POSTs of 10 signals, one at a time, each timed until its "
                        "last outcome is recorded by the worker process")
    args = parser.parse_args()
    stream_name = f"BENCH{os.getpid()}" if args.nats else ""

    from service.config import ROOT, Config
    from service.domain.deployment import content_files
    from service.usecases.deployments import store_files as deploy
    from service.policy import add_user
    from service.signals import consumer
    from service.usecases.signals import run_rules as run_pending
    from service.store import Signal, database

    tmp = tempfile.mkdtemp(prefix="omniflow-bench-")
    env = Config.from_env()
    url = env.database_url if env.database_url.startswith("postgres") else \
        f"sqlite:///{args.sqlite or tmp + '/bench.db'}"
    config, app = _app(url, args.nats, stream_name)
    if url.startswith("postgres"):
        from service import store
        from tests.conftest import _truncate_all
        with store.atomic():
            _truncate_all()
    if not consumer._has_partition_seq_index():
        # Stands in for the store migration that adds it (requested); without it the consumer
        # walks the seq index and skips other partitions' signals.
        database.execute_sql('CREATE INDEX IF NOT EXISTS signal_partition_seq '
                             'ON signal ("partition", seq)')
        consumer._composite.clear()
        print("note: created index signal (partition, seq) (the migration is not there yet)")
    deploy(content_files([str(ROOT / "rules")]), actor="bench", max_bytes=1 << 21)
    _, token = add_user(f"bench-erp-{os.getpid()}", client=True)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    worker = None
    if args.worker:
        ctx = multiprocessing.get_context("spawn")
        done, ready = ctx.Value("q", 0), ctx.Event()
        worker = ctx.Process(target=_consume, args=(url, args.signals, args.checkpoint, done,
                                                    ready, args.nats, stream_name))
        worker.start()
        ready.wait()

    print(f"signals: {args.signals:,} in POSTs of {args.batch} on "
          f"{'PostgreSQL' if url.startswith('postgres') else 'SQLite'}"
          f"{' + NATS JetStream' if args.nats else ''}, consumer "
          f"{'in a worker process' if worker else 'in series'}; rss at start {rss_mb():.1f} MB")
    print(f"  {'posted':>9}  {'processed':>9}  {'rss MB':>7}  {'live facts':>10}  "
          f"{'rate, this step':>15}  {'so far':>8}  {'cpu µs/signal':>13}")
    processed = posted = 0
    post_time = consume_time = make_time = 0.0
    start = time.perf_counter()
    cpu0 = time.process_time()
    last_processed, last_posted, last_t, last_cpu = 0, 0, start, cpu0
    next_mark = args.checkpoint
    bodies = batches(args.signals, args.batch)
    i = 0
    while True:
        t = time.perf_counter()
        body = next(bodies, None)
        make_time += time.perf_counter() - t
        if body is None:
            break
        t = time.perf_counter()
        resp = client.post("/api/v1/signals", json=body, headers=headers)
        post_time += time.perf_counter() - t
        assert resp.status_code == 202, resp.get_json()
        posted += len(body)
        i += 1
        if worker is None and i % args.consume_every == 0:
            t = time.perf_counter()
            processed += run_pending(config, owner="bench", limit=10**9)
            consume_time += time.perf_counter() - t
        elif worker is not None:
            processed = done.value
        if (posted if worker else processed) >= next_mark:
            now = time.perf_counter()
            busy = now - start - make_time
            step = (processed - last_processed) / (now - last_t)
            cpu_now = time.process_time()
            # this process's CPU per signal it handled (POSTed, and processed when in series)
            cpu_step = (cpu_now - last_cpu) / max(1, posted - last_posted)
            print(f"  {posted:>9,}  {processed:>9,}  {rss_mb():7.1f}  "
                  f"{_live_facts() if worker is None else '(worker)':>10}  {step:>13,.0f}/s  "
                  f"{processed / busy:>6,.0f}/s  {cpu_step * 1e6:>13.0f}", flush=True)
            last_processed, last_posted, last_t, last_cpu = processed, posted, now, cpu_now
            next_mark = ((posted if worker else processed) // args.checkpoint + 1) * args.checkpoint
    if worker is None:
        t = time.perf_counter()
        processed += run_pending(config, owner="bench", limit=10**9)
        consume_time += time.perf_counter() - t
    else:
        worker.join()
        processed = done.value
    elapsed = time.perf_counter() - start - make_time
    cpu = time.process_time() - cpu0
    counts = {}
    for status, in Signal.select(Signal.status).tuples().iterator():
        counts[status] = counts.get(status, 0) + 1
    if worker is None:
        print(f"  {posted:>9,}  {processed:>9,}  {rss_mb():7.1f}  {_live_facts():>10,}")
        print(f"end to end: {processed / elapsed:,.0f} signals/s ({elapsed:.1f} s wall, without "
              f"the {make_time:.1f} s spent making bodies; POST {post_time:.1f} s = "
              f"{posted / post_time:,.0f}/s, consumer {consume_time:.1f} s = "
              f"{processed / consume_time:,.0f}/s)")
    else:
        print(f"end to end: {processed / elapsed:,.0f} signals/s ({elapsed:.1f} s wall from the "
              f"first POST to the last outcome, without the {make_time:.1f} s spent making "
              f"bodies; POST {post_time:.1f} s = {posted / post_time:,.0f}/s)")
    print(f"cpu: {cpu:.1f} s in this process ({processed / cpu:,.0f} signals per CPU second; "
          f"wall above CPU means the machine was shared or waiting on disk)")
    import resource
    print(f"peak rss of this process: "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MB")
    print("outcomes:", ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items())))
    if args.latency:
        _latency(args, url, stream_name, client, headers)
    if args.nats:
        from service.signals import jetstream
        jetstream.bus(args.nats, jetstream.names_of(config)).delete_everything()


def _latency(args, url, stream_name, client, headers) -> None:
    """Detection latency: POST 10 signals, wait until the worker process has recorded all
    their outcomes; one request at a time, so this is latency with no backlog."""
    from service.store import Signal
    ctx = multiprocessing.get_context("spawn")
    done, ready, stop = ctx.Value("q", 0), ctx.Event(), ctx.Event()
    worker = ctx.Process(target=_consume, args=(url, 0, 10**12, done, ready, args.nats,
                                                stream_name, stop))
    worker.start()
    ready.wait()
    rnd = random.Random(3)
    base = T0 + dt.timedelta(seconds=args.signals * 0.2)
    latencies = []
    for i in range(args.latency + 5):
        at = (base + dt.timedelta(seconds=i)).isoformat()
        body = [{"id": f"lat{i}-{j}", "type": "return.received", "at": at,
                 "data": {"return_id": f"LR{i}-{j}", "sku": f"SKU{j % 8}-{rnd.randrange(125)}",
                          "value": 30.0, "region": f"r{j % 8}"}} for j in range(10)]
        ids = [b["id"] for b in body]
        t = time.perf_counter()
        resp = client.post("/api/v1/signals", json=body, headers=headers)
        assert resp.status_code == 202, resp.get_json()
        while Signal.select().where(Signal.id.in_(ids), Signal.status == "pending").count():
            time.sleep(0.0005)
        if i >= 5:                      # the first ones warm the worker's partitions up
            latencies.append(time.perf_counter() - t)
    stop.set()
    worker.join()
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    print(f"detection latency, POST to last outcome of 10 signals ({len(latencies)} POSTs, one "
          f"at a time): p50 {pick(0.5):.1f} ms, p90 {pick(0.9):.1f} ms, p99 {pick(0.99):.1f} ms")


if __name__ == "__main__":
    main()
