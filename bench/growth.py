"""Print complete-task latency (load + complete + dumps) and stored size as a loop ages.

Run: python bench/growth.py   (passes 10, 100, 1,000, 10,000 of a user task + script + gateway
loop; the target is latency at pass 1,000 within 1.2x of pass 10). Never asserted in tests.
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.engine import FixedClock, ProcessLibrary, Runtime  # noqa: E402

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "engine" / "fixtures" / "loop.bpmn"
CHECKPOINTS = (10, 100, 1_000, 10_000)


def main() -> None:
    spec = ProcessLibrary().spec("review_loop", 1, {"loop.bpmn": FIXTURE.read_bytes()})
    runtime = Runtime(clock=FixedClock())
    state = runtime.start(spec, {"count": 0, "limit": CHECKPOINTS[-1] + 10, "notes": None}).dumps()
    window: list[float] = []
    print(f"{'pass':>7} {'latency ms (median of 10)':>26} {'stored bytes':>13}")
    results = {}
    for n in range(1, CHECKPOINTS[-1] + 1):
        started = time.perf_counter()
        instance = runtime.load(spec, state)
        [task] = instance.user_tasks()
        instance.complete_task(task.id, {}, actor="bench")
        instance.drain_events()
        state = instance.dumps()
        window = (window + [time.perf_counter() - started])[-10:]
        if n in CHECKPOINTS:
            results[n] = statistics.median(window) * 1000
            print(f"{n:>7} {results[n]:>26.3f} {len(state):>13}")
    print(f"ratio pass 1,000 / pass 10: {results[1_000] / results[10]:.2f} (target <= 1.2)")


if __name__ == "__main__":
    main()
