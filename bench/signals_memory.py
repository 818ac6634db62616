"""Signals memory as the data grows: the rules state over 10,000,000 signals.

Feeds the stream of ``bench/signals.py`` (8 regions, 0.2 s of signal time apart: 10 million
signals are 23 days) straight into one process's partition states, as a consumer owning every
partition holds them, without the database or HTTP (they keep no per-signal memory), and
prints at each checkpoint the resident memory, the live facts in durable-rules and the sizes
of the per-key structures (key clocks, expiry heaps), with the CPU time per signal.

    python bench/signals_memory.py                    # 10,000,000 signals, a line per million
    python bench/signals_memory.py --signals 2000000 --checkpoint 250000
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from signals import rss_mb, stream  # noqa: E402 - the bench's own stream

from service.config import ROOT  # noqa: E402
from service.signals.envelope import parse_one  # noqa: E402
from service.signals.partition import PartitionState, SignalRecord  # noqa: E402
from service.signals.ruleset import parse  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signals", type=int, default=10_000_000)
    parser.add_argument("--checkpoint", type=int, default=1_000_000)
    args = parser.parse_args()
    specs = [parse(p.name, json.loads(p.read_text())) for p in sorted((ROOT / "rules").glob("*.json"))]
    states: dict[str, PartitionState] = {}
    counts = {"late": 0, "matched": 0, "opens": 0, "errors": 0}
    print(f"signals: {args.signals:,}; rss at start {rss_mb():.1f} MB")
    print(f"  {'signals':>10}  {'rss MB':>7}  {'live facts':>10}  {'key clocks':>10}  "
          f"{'key heaps':>9}  {'heap entries':>12}  {'cpu µs/signal':>13}")
    cpu0 = last_cpu = time.process_time()
    wall0 = time.perf_counter()
    for seq, item in enumerate(stream(args.signals), 1):
        env = parse_one(item)
        state = states.get(env.partition)
        if state is None:
            state = states[env.partition] = PartitionState(env.partition, specs)
        applied = state.apply(SignalRecord(env.id, env.type, env.at.timestamp(), env.data, seq))
        counts["late"] += bool(applied.late)
        counts["matched"] += bool(applied.matched)
        counts["opens"] += len(applied.opens)
        counts["errors"] += len(applied.errors)
        if seq % args.checkpoint == 0:
            rulesets = [r for s in states.values() for r in s._rulesets]
            cpu = time.process_time()
            print(f"  {seq:>10,}  {rss_mb():7.1f}  "
                  f"{sum(s.live_facts for s in states.values()):>10,}  "
                  f"{sum(len(r.key_clock) for r in rulesets):>10,}  "
                  f"{sum(len(r.key_expiry) for r in rulesets):>9,}  "
                  f"{sum(len(r.expiry) + sum(map(len, r.key_expiry.values())) for r in rulesets):>12,}  "
                  f"{(cpu - last_cpu) / args.checkpoint * 1e6:>13.0f}", flush=True)
            last_cpu = cpu
    print(f"{args.signals:,} signals in {time.perf_counter() - wall0:,.0f} s wall, "
          f"{time.process_time() - cpu0:,.0f} s cpu; signal time "
          f"{dt.timedelta(seconds=args.signals * 0.2)}")
    print("per signal:", ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    print(f"peak rss: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MB")


if __name__ == "__main__":
    main()
