"""Print what-if replay rates: recorded decisions of the shipped routing table per second.

    python bench/whatif.py [--records 100000] [--rounds 3]    (env: DATABASE_URL)

Writes ``--records`` synthetic decision records of ``exception_routing`` (inputs drawn like
order exceptions, outcomes from the deployed table itself) into a fresh SQLite file (or the
``DATABASE_URL`` database, which it empties of decision records first), then replays them
all against a candidate that moves the escalation threshold of rule 2 from 0.7 to 0.8: the
same use case as ``POST /api/v1/decisions/{key}/what-if`` minus HTTP (parse the candidate,
stream the records in keyset chunks, evaluate, compare, tally). Prints the wall-clock rate of
each round and the CPU time per record (a busy machine disturbs CPU time much less). The
target is 20,000 replayed decisions per second on one core.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service import store  # noqa: E402
from service.config import ROOT, Config  # noqa: E402
from service.decisions import DecisionModel  # noqa: E402
from service.domain import decision_replay  # noqa: E402
from service.domain.decision_replay import plain  # noqa: E402
from service.store import DecisionRecord, utcnow  # noqa: E402
from service.usecases import system, what_if  # noqa: E402
from service.usecases.deployments import store_files  # noqa: E402

SHIPPED = (ROOT / "dmn" / "exception_routing.dmn").read_text()
REASONS = ["payment_failed", "address_invalid", "short_pick", "late_shipment", "damaged",
           "customer_complaint"]
TIERS = ["bronze", "silver", "gold", "platinum"]


def candidate() -> str:
    start = SHIPPED.index('<rule id="Rule_exception_routing_02">')
    end = SHIPPED.index("</rule>", start)
    return SHIPPED[:start] + SHIPPED[start:end].replace("&gt;= 0.7", "&gt;= 0.8") + \
        SHIPPED[end:]


def fill(n: int) -> None:
    model = DecisionModel.parse(SHIPPED.encode(), strict_names=True)
    evaluate = model.evaluator("exception_routing")
    rng = random.Random(14)
    now = utcnow()
    batch = []
    for i in range(n):
        inputs = {"reason": rng.choice(REASONS), "customer_tier": rng.choice(TIERS),
                  "value": round(rng.lognormvariate(5, 1), 2), "margin": round(rng.uniform(-0.1, 0.6), 3),
                  "escalation_risk": round(rng.betavariate(2, 5), 6)}
        value, matched, _ = evaluate(inputs)
        batch.append({"kind": "decision", "element_id": "exception_routing",
                      "definition_key": "exception_routing", "definition_version": 1,
                      "inputs": inputs, "outputs": plain(value),
                      "matched_rules": plain(matched), "actor": "bench", "created_at": now})
        if len(batch) == 1000:
            with store.atomic():
                DecisionRecord.insert_many(batch).execute()
            batch = []
    if batch:
        with store.atomic():
            DecisionRecord.insert_many(batch).execute()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    env = Config.from_env()
    tmp = tempfile.mkdtemp(prefix="omniflow-whatif-")
    url = env.database_url if env.database_url.startswith("postgres") else \
        f"sqlite:///{os.path.join(tmp, 'bench.db')}"
    config = env.with_(database_url=url, audit_key_file=os.path.join(tmp, "audit.key"),
                       audit_checkpoint_file=os.path.join(tmp, "checkpoints.jsonl"))
    system.open_store(config)
    DecisionRecord.delete().where(DecisionRecord.definition_key == "exception_routing").execute()
    store_files({"exception_routing.dmn": SHIPPED.encode()}, actor="bench",
                max_bytes=config.max_definition_bytes)
    t = time.perf_counter()
    fill(args.records)
    print(f"{'PostgreSQL' if store.is_postgres() else 'SQLite'}: wrote {args.records:,} records in "
          f"{time.perf_counter() - t:.1f} s")
    files = {"exception_routing.dmn": candidate().encode()}
    for round_ in range(1, args.rounds + 1):
        wall, cpu = time.perf_counter(), time.process_time()
        answer = what_if.decision(what_if.OPERATOR, "exception_routing", files, config=config,
                                  limit=decision_replay.MAX_LIMIT)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"round {round_}: replayed {answer['replayed']:,}, changed {answer['changed']:,} "
              f"({answer['changed_share']:.1%}), {answer['replayed'] / wall:,.0f}/s wall "
              f"(request end to end), {answer['replayed'] / cpu:,.0f}/s CPU, "
              f"{cpu / answer['replayed'] * 1e6:.1f} µs CPU per record")
    print("transitions:", [(x["output"], x["from"], x["to"], x["count"])
                           for x in answer["transitions"][:4]])


if __name__ == "__main__":
    main()
