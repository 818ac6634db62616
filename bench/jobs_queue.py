"""Our job queue (``service.store.jobs``: FOR UPDATE SKIP LOCKED with leases) against PgQueuer.

    pip install -r bench/requirements.txt      # PgQueuer and asyncpg, for this comparison
    DATABASE_URL=postgresql://postgres@127.0.0.1/omniflow_bench python bench/jobs_queue.py \
        [--jobs 20000] [--workers 1 2 4] [--kill]

Both queues get the same work: ``--jobs`` jobs, each writing one outcome row in a transaction
of its own (a job's real work is a unit of work that commits), drained by N worker processes.
Ours claims a batch of 50 in one transaction and marks each job done inside the job's own
transaction, as ``server.py worker`` does; PgQueuer dequeues batches of 50, runs the job (its
write through a connection pool) and acknowledges in its buffered way. ``--kill`` also
measures a worker dying mid-run (SIGKILL): how long until every job is done by the survivors
(our lease and PgQueuer's heartbeat timeout are both 2 s).
The script drops and recreates the database's ``public`` schema. Nothing is asserted.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import multiprocessing as mp
import os
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

URL = os.environ.get("DATABASE_URL", "")
LEASE = dt.timedelta(seconds=2)


def reset() -> None:
    from service import store
    store.bind(URL)
    store.database.execute_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    store.migrate()
    store.database.execute_sql("CREATE TABLE bench_outcome (job text PRIMARY KEY, at timestamptz)")
    store.database.close()


# -- ours -------------------------------------------------------------------------------------

def ours_fill(n: int) -> None:
    from service import store
    from service.store import Job
    store.bind(URL)
    now = dt.datetime.now(dt.timezone.utc)
    rows = [{"kind": "bench", "due_at": now, "payload": {"n": i}} for i in range(n)]
    with store.atomic():
        for i in range(0, n, 1000):
            Job.insert_many(rows[i:i + 1000]).execute()
    store.database.close()


def ours_worker(name: str, done_count) -> None:
    from service import store
    from service.store import jobs
    store.bind(URL)
    idle = 0
    while idle < 3:
        now = dt.datetime.now(dt.timezone.utc)
        claimed = jobs.claim(["bench"], owner=name, now=now, limit=50, lease=LEASE)
        if not claimed:
            idle += 1
            time.sleep(0.2)             # leases of a dead worker may still have to expire
            continue
        idle = 0
        for job in claimed:
            with store.atomic():
                store.database.execute_sql(
                    "INSERT INTO bench_outcome VALUES (%s, now()) ON CONFLICT DO NOTHING",
                    (f"ours-{job.id}",))
                finished = jobs.finish(job, now=now)
            if finished:
                with done_count.get_lock():
                    done_count.value += 1


def ours_left() -> int:
    from service import store
    from service.store import Job
    store.bind(URL)
    left = Job.select().where(Job.status != "done").count()
    store.database.close()
    return left


# -- PgQueuer ---------------------------------------------------------------------------------

def _dsn() -> str:
    return URL.replace("postgresql://", "postgres://", 1)


async def _pgq_fill(n: int) -> None:
    import asyncpg
    from pgqueuer import AsyncpgDriver, Queries
    conn = await asyncpg.connect(_dsn())
    queries = Queries(AsyncpgDriver(conn))
    await queries.install()
    for i in range(0, n, 1000):
        size = min(1000, n - i)
        await queries.enqueue(["bench"] * size, [b"{}"] * size, [0] * size)
    await conn.close()


async def _pgq_worker(done_count) -> None:
    import asyncpg
    from pgqueuer import AsyncpgDriver, Queries, QueueManager
    conn = await asyncpg.connect(_dsn())
    pool = await asyncpg.create_pool(_dsn(), min_size=2, max_size=4)
    manager = QueueManager(Queries(AsyncpgDriver(conn)))

    @manager.entrypoint("bench")
    async def bench(job) -> None:
        async with pool.acquire() as db:
            await db.execute("INSERT INTO bench_outcome VALUES ($1, now()) ON CONFLICT DO NOTHING",
                             f"pgq-{job.id}")
        with done_count.get_lock():
            done_count.value += 1

    # Continuous: a survivor must stay to re-pick a dead worker's jobs; the parent stops us.
    await manager.run(batch_size=50, heartbeat_timeout=LEASE,
                      dequeue_timeout=dt.timedelta(seconds=1))


def pgq_worker(name: str, done_count) -> None:
    asyncio.run(_pgq_worker(done_count))


async def _pgq_left() -> int:
    import asyncpg
    conn = await asyncpg.connect(_dsn())
    left = await conn.fetchval("SELECT count(*) FROM pgqueuer")
    await conn.close()
    return left


def outcomes() -> int:
    from service import store
    store.bind(URL)
    count = store.database.execute_sql("SELECT count(*) FROM bench_outcome").fetchone()[0]
    store.database.close()
    return count


# -- the race ---------------------------------------------------------------------------------

def race(kind: str, n: int, workers: int, kill: bool) -> dict:
    reset()
    (ours_fill if kind == "ours" else lambda k: asyncio.run(_pgq_fill(k)))(n)
    done = mp.Value("q", 0)
    target = ours_worker if kind == "ours" else pgq_worker
    procs = [mp.Process(target=target, args=(f"w{i}", done)) for i in range(workers)]
    started = time.perf_counter()
    for p in procs:
        p.start()
    killed_at = None
    if kill:
        while done.value < n // 4:
            time.sleep(0.005)
        os.kill(procs[0].pid, signal.SIGKILL)
        killed_at = time.perf_counter()
    left_now = ours_left if kind == "ours" else (lambda: asyncio.run(_pgq_left()))
    if kind == "ours":
        for p in procs:
            p.join()
    else:                                   # PgQueuer deletes a job once it is acknowledged
        while left_now() > 0:
            time.sleep(0.05)
    elapsed = time.perf_counter() - started
    for p in procs:
        if p.is_alive():
            p.terminate()
        p.join()
    left = left_now()
    out = {"queue": kind, "workers": workers, "jobs": n, "seconds": round(elapsed, 2),
           "jobs_per_s": round(n / elapsed), "job_runs": done.value,
           "outcome_rows": outcomes(), "left_undone": left}
    if killed_at is not None:
        out["after_kill_s"] = round(time.perf_counter() - killed_at, 2)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=20000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--kill", action="store_true")
    args = parser.parse_args()
    if not URL.startswith("postgres"):
        sys.exit("set DATABASE_URL=postgresql://... (a throw-away database)")
    mp.set_start_method("spawn")
    for workers in args.workers:
        for kind in ("ours", "pgqueuer"):
            print(race(kind, args.jobs, workers, kill=False), flush=True)
    if args.kill:
        for kind in ("ours", "pgqueuer"):
            print(race(kind, args.jobs, 2, kill=True), flush=True)


if __name__ == "__main__":
    main()
