"""Print what one script or expression costs in the sandbox, by the way it runs.

Run: python bench/sandbox.py [--n 5000]. Plain code (the shipped scripts) runs in-process;
anything else round-trips through an isolated process (service/sandbox/python.py). Figures are
printed, never asserted.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.sandbox import isolation  # noqa: E402
from service.sandbox.python import Sandbox  # noqa: E402

DATA = {"order_id": "1001", "reason": "damaged", "channel": "web", "value": 420, "margin": 0.3,
        "customer_tier": "gold", "days_late": 2, "refund_amount": 300,
        "routing": {"priority": "P2", "owner": "customer_service", "path": "finance_approval"}}
ITEMS = {**DATA, "items": [{"sku": f"S{i}", "qty": i % 7, "price": 9.5 + i} for i in range(100)]}

CASES = [
    ("plain expression", "eval", "refund_amount > 100 and channel == 'web'", DATA),
    ("plain script (shipped)", "exec", 'action = "refund"\namount = refund_amount\n', DATA),
    ("plain script, try/except", "exec",
     "try:\n    units = erp_on_hand\nexcept NameError:\n    units = None\n"
     "value = None if units is None else abs(units - 3) * 2.5\n", DATA),
    ("isolated expression", "eval", "reason.upper()", DATA),
    ("isolated script", "exec", "total = sum(i for i in [value, refund_amount])", DATA),
    ("isolated script, 100 items", "exec",
     "total = sum(i['qty'] * i['price'] for i in items)", ITEMS),
]


def measure(sandbox: Sandbox, mode: str, source: str, data: dict, n: int) -> list[float]:
    run = sandbox.evaluate if mode == "eval" else sandbox.execute
    for _ in range(50):
        run(source, dict(data))
    times = []
    for _ in range(n):
        scope = dict(data)
        started = time.perf_counter()
        run(source, scope)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=5000)
    n = parser.parse_args().n
    started = time.perf_counter()
    isolation.run("eval", "1", {}, max_variable=100, max_data=100)
    print(f"first isolated call (starts the script process): {(time.perf_counter() - started) * 1000:.1f} ms")
    sandbox = Sandbox()
    print(f"{'case':30} {'where':>10} {'p50 us':>9} {'p99 us':>9}")
    for label, mode, source, data in CASES:
        times = sorted(measure(sandbox, mode, source, data, n))
        where = "in-process" if Sandbox.runs_in_process(source, mode) else "isolated"
        print(f"{label:30} {where:>10} {statistics.median(times) * 1e6:9.1f} "
              f"{times[int(len(times) * 0.99)] * 1e6:9.1f}")


if __name__ == "__main__":
    main()
