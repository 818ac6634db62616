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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signals", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000, help="signals per POST")
    parser.add_argument("--consume-every", type=int, default=5, help="POSTs per consumer run")
    args = parser.parse_args()

    from service.app import create_app
    from service.config import ROOT, Config
    from service.deployments import content_files, deploy
    from service.policy import add_user
    from service.signals import run_pending
    from service.store import Signal

    tmp = tempfile.mkdtemp(prefix="omniflow-bench-")
    env = Config.from_env()
    url = env.database_url if env.database_url.startswith("postgres") else \
        f"sqlite:///{tmp}/bench.db"
    config = Config(database_url=url, run_worker=False, deploy_on_start=False)
    app = create_app(config)
    if url.startswith("postgres"):
        from service import store
        from tests.conftest import _truncate_all
        with store.atomic():
            _truncate_all()
    deploy(content_files([str(ROOT / "rules")]), actor="bench", max_bytes=1 << 21)
    _, token = add_user(f"bench-erp-{os.getpid()}", client=True)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    # Pre-build the request bodies so the generator's cost is not measured.
    gen = stream(args.signals)
    bodies = []
    while True:
        chunk = [s for _, s in zip(range(args.batch), gen)]
        if not chunk:
            break
        bodies.append(chunk)

    print(f"signals: {args.signals:,} in POSTs of {args.batch} on "
          f"{'PostgreSQL' if url.startswith('postgres') else 'SQLite'}")
    processed, posted = 0, 0
    marks = {int(len(bodies) * f) for f in (0.1, 0.25, 0.5, 0.75)}
    post_time = consume_time = 0.0
    start = time.perf_counter()
    for i, body in enumerate(bodies):
        t = time.perf_counter()
        resp = client.post("/api/v1/signals", json=body, headers=headers)
        post_time += time.perf_counter() - t
        assert resp.status_code == 202, resp.get_json()
        posted += len(body)
        if (i + 1) % args.consume_every == 0:
            t = time.perf_counter()
            processed += run_pending(config, owner="bench", limit=10**9)
            consume_time += time.perf_counter() - t
        if i in marks:
            print(f"  {posted:>9,} posted  {processed:>9,} processed  rss {rss_mb():7.1f} MB  "
                  f"{processed / (time.perf_counter() - start):8,.0f}/s so far")
    t = time.perf_counter()
    processed += run_pending(config, owner="bench", limit=10**9)
    consume_time += time.perf_counter() - t
    elapsed = time.perf_counter() - start
    counts = {}
    for status, in Signal.select(Signal.status).tuples().iterator():
        counts[status] = counts.get(status, 0) + 1
    print(f"  {posted:>9,} posted  {processed:>9,} processed  rss {rss_mb():7.1f} MB")
    print(f"end to end: {processed / elapsed:,.0f} signals/s ({elapsed:.1f} s; POST "
          f"{post_time:.1f} s = {posted / post_time:,.0f}/s, consumer {consume_time:.1f} s = "
          f"{processed / consume_time:,.0f}/s)")
    import resource
    print(f"peak rss: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MB "
          f"(includes the pre-built request bodies)")
    print("outcomes:", ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items())))


if __name__ == "__main__":
    main()
