"""Cost as the data grows: the inbox over 1,000,000 open tasks, audit verify over 1,000,000 events.

    python bench/data_growth.py [--tasks 1000000] [--events 1000000]
    DATABASE_URL=postgresql://postgres@127.0.0.1/omniflow_bench python bench/data_growth.py

Writes the rows in bulk (the same tables and indexes the service uses; tasks spread over the
groups as a chain's would be, due times over +-30 days), then times, in-process:

- the inbox's first page and a page five pages deep (``usecases.tasks.listing``, 50 rows, keyset)
  for people whose groups hold 40 %, 2 % and 0.01 % of the open tasks, one with none, and an
  admin who sees everything (median of 15 calls each); the merchandiser has also completed
  ``--completed`` tasks (100,000 by default: a long history must not slow their inbox);
- ``audit verify`` over the whole chain, and the incremental verify from the last signed
  checkpoint after 10,000 more events.

SQLite in a temporary folder unless ``DATABASE_URL`` is set (the script drops and recreates that
database's ``public`` schema). Nothing is asserted; figures go to bench/README.md.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import peewee

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service import audit, store  # noqa: E402
from service.config import Config  # noqa: E402
from service.policy.identity import Identity  # noqa: E402
from service.store import Case, Definition, Instance, Task, TaskCandidate  # noqa: E402
from service.usecases import audit_trail, system  # noqa: E402
from service.usecases import tasks as inbox  # noqa: E402
from service.usecases.deployments import deploy_shipped_content  # noqa: E402

# Share of open tasks per candidate group (a chain's mix: most work is customer service).
GROUPS = [("customer_service", 0.40), ("finance", 0.20), ("store_manager", 0.15),
          ("ecommerce_ops", 0.1199), ("cs_supervisor", 0.08), ("district_manager", 0.01),
          ("loss_prevention", 0.02), ("merchandising", 0.0001)]
PEOPLE = {"agent (40 %)": {"customer_service"}, "loss prevention (2 %)": {"loss_prevention"},
          "merchandiser (0.01 %)": {"merchandising"}, "nobody's group (0)": {"category_manager"},
          "admin (all)": {"admin"}}
CHUNK = 5000


def fill_tasks(n: int) -> None:
    rnd = random.Random(7)
    definition = Definition.select().where(Definition.kind == "bpmn").first()
    now = dt.datetime.now(dt.timezone.utc)
    names, weights = zip(*GROUPS)
    cases = max(1, n // 10)                     # ten open tasks per case
    for start in range(0, cases, CHUNK):
        with store.atomic():
            Case.insert_many([{"id": i + 1, "type": "order_exception", "submitted_by": "oms",
                               "data": {"value": 100 + i % 900}, "priority": "P2",
                               "score": 0.5} for i in range(start, min(cases, start + CHUNK))]
                             ).execute()
            Instance.insert_many([{"id": i + 1, "case": i + 1, "definition": definition.id,
                                   "state": "{}"} for i in range(start, min(cases, start + CHUNK))]
                                 ).execute()
    for start in range(0, n, CHUNK):
        tasks, candidates = [], []
        for i in range(start, min(n, start + CHUNK)):
            group = rnd.choices(names, weights)[0]
            due = now + dt.timedelta(minutes=rnd.randrange(-43200, 43200))
            tasks.append({"id": i + 1, "instance": i // 10 + 1, "case": i // 10 + 1,
                          "engine_task_id": f"t{i}", "element_id": "handle_exception",
                          "name": "Handle order exception", "case_type": "order_exception",
                          "candidate_groups": [group], "status": "open", "due_at": due})
            candidates.append({"task": i + 1, "kind": "group", "name": group})
        with store.atomic():
            Task.insert_many(tasks).execute()
            TaskCandidate.insert_many(candidates).execute()
    if store.is_postgres():
        for table in ("case", "instance", "task"):
            store.database.execute_sql(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "  # nosec B608
                f"(SELECT max(id) FROM \"{table}\"))")
        store.database.execute_sql("ANALYZE")


def fill_completed(n: int, person: str) -> None:
    """``n`` tasks ``person`` claimed and completed (no candidate rows: those go at completion)."""
    now = dt.datetime.now(dt.timezone.utc)
    first = (Task.select(peewee.fn.MAX(Task.id)).scalar() or 0) + 1
    for start in range(0, n, CHUNK):
        with store.atomic():
            Task.insert_many([{"id": first + i, "instance": 1, "case": 1,
                               "engine_task_id": f"done{i}", "element_id": "handle_exception",
                               "name": "Handle order exception", "case_type": "order_exception",
                               "candidate_groups": ["merchandising"], "status": "completed",
                               "assignee": person if i % 2 else None, "claimed_by": person,
                               "completed_by": person, "completed_at": now,
                               "due_at": now - dt.timedelta(minutes=i % 43200)}
                              for i in range(start, min(n, start + CHUNK))]).execute()
    if store.is_postgres():
        store.database.execute_sql("SELECT setval(pg_get_serial_sequence('task', 'id'), "
                                   "(SELECT max(id) FROM task))")
        store.database.execute_sql("ANALYZE")


def median_ms(call, times: int = 15) -> float:
    spent = []
    for _ in range(times):
        t0 = time.perf_counter()
        call()
        spent.append(time.perf_counter() - t0)
    return round(statistics.median(spent) * 1000, 2)


def inbox_figures() -> None:
    print(f"{'person':30} {'first page ms':>14} {'page 6 ms':>10} {'rows':>5}")
    readers = [(label, groups, None) for label, groups in PEOPLE.items()]
    readers.append(("merchandiser, completed", {"merchandising"}, "completed"))
    for label, groups, status in readers:
        who = Identity(name=label.split(" ")[0].rstrip(","), groups=frozenset(groups))
        first = inbox.listing(who, limit=50, status=status)
        cursor = first.get("next")
        for _ in range(4):
            if not cursor:
                break
            cursor = inbox.listing(who, limit=50, cursor=cursor, status=status).get("next")
        deep = (median_ms(lambda: inbox.listing(who, limit=50, cursor=cursor, status=status))
                if cursor else None)
        print(f"{label:30} {median_ms(lambda: inbox.listing(who, limit=50, status=status)):>14} "
              f"{deep if deep is not None else '-':>10} {len(first['items']):>5}")


def fill_audit(n: int) -> None:
    for start in range(0, n, CHUNK):
        with store.atomic():
            audit.append([audit.Event("bench.event", "bench", case_id=None,
                                      detail={"n": i, "note": "x" * 40})
                          for i in range(start, min(n, start + CHUNK))])


def audit_figures(config: Config, events: int) -> None:
    auditor = Identity(name="auditor", groups=frozenset({"auditor"}))
    t0 = time.perf_counter()
    answer = audit_trail.verify(auditor, config=config)
    full = time.perf_counter() - t0
    audit_trail.write_checkpoint(config)
    fill_audit(10_000)
    t0 = time.perf_counter()
    later = audit_trail.verify(auditor, config=config, incremental=True)
    incremental = time.perf_counter() - t0
    print(f"audit verify, {events:,} events: {full:.1f} s ({events / full:,.0f} events/s), "
          f"ok={answer.get('ok')}")
    print(f"incremental verify after a checkpoint and 10,000 more: {incremental * 1000:.0f} ms, "
          f"ok={later.get('ok')}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--completed", type=int, default=100_000,
                        help="tasks the merchandiser has completed")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="omniflow-growth-")
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/growth.db"
    if url.startswith("postgres"):
        store.bind(url)
        store.database.execute_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        store.database.close()
    config = Config(database_url=url, run_worker=False,
                    audit_key_file=f"{tmp}/audit.key",
                    audit_checkpoint_file=f"{tmp}/audit-checkpoints.jsonl")
    system.open_store(config)
    deploy_shipped_content(config)
    t0 = time.perf_counter()
    fill_tasks(args.tasks)
    print(f"{args.tasks:,} open tasks written in {time.perf_counter() - t0:.0f} s "
          f"({url.split(':', 1)[0]})")
    fill_completed(args.completed, "merchandiser")
    print(f"{args.completed:,} tasks completed by the merchandiser")
    inbox_figures()
    if not args.events:
        return
    t0 = time.perf_counter()
    fill_audit(args.events)
    print(f"{args.events:,} audit events appended in {time.perf_counter() - t0:.0f} s")
    audit_figures(config, args.events)


if __name__ == "__main__":
    main()
