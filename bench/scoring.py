"""Single-row scoring latency of the shipped models: ``python bench/scoring.py [--n 5000]``.

Measures what case intake pays per case, through :class:`scoring.serving.Scorer` (feature
validation, vector building by name, prediction), with and without the top-five TreeSHAP
contributions, plus XGBoost's own ``inplace_predict`` on a ready row for reference. The active
version is resolved from the files (one ``stat`` per call); in service the registry answers
with one indexed query instead, which this bench does not include. Targets: p50 <= 0.2 ms
without contributions, <= 1.5 ms with. Figures are printed, never asserted.
"""
from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scoring.catalog import SPECS  # noqa: E402
from scoring.serving import Scorer  # noqa: E402
from scoring.shipped import DEFAULT_DIR  # noqa: E402
from scoring.synthetic import generate  # noqa: E402


def _rows(name: str, n: int) -> list[dict]:
    data = generate(name, n, seed=99)
    return [{k: (v[i].item() if hasattr(v[i], "item") else v[i])
             for k, v in data.columns.items()} for i in range(n)]


def _time(fn, rows) -> np.ndarray:
    for row in rows[:200]:          # warm caches and the booster
        fn(row)
    out = np.empty(len(rows))
    for i, row in enumerate(rows):
        start = time.perf_counter()
        fn(row)
        out[i] = time.perf_counter() - start
    return out * 1e3


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="scored rows per model and mode")
    args = parser.parse_args(argv)
    scorer = Scorer(DEFAULT_DIR)
    print(f"python {platform.python_version()}, {platform.machine()}, "
          f"{args.n} rows per model; milliseconds")
    print(f"{'model':<24} {'mode':<22} {'p50':>7} {'p90':>7} {'p99':>7}")
    summary = {"plain": [], "contributions": []}
    for name in sorted(SPECS):
        rows = _rows(name, args.n)
        model = scorer.load(name, scorer.active_version(name))
        schema = model.meta.feature_schema
        vectors = [schema.vector(r) for r in rows]
        modes = {
            "xgboost inplace (ref)": (lambda v: model.booster.inplace_predict(v), vectors),
            "score": (lambda r: scorer.score(name, r, contributions=False), rows),
            "score + contributions": (lambda r: scorer.score(name, r), rows),
        }
        for mode, (fn, inputs) in modes.items():
            ms = _time(fn, inputs)
            p50, p90, p99 = np.percentile(ms, [50, 90, 99])
            print(f"{name:<24} {mode:<22} {p50:>7.3f} {p90:>7.3f} {p99:>7.3f}")
            if mode == "score":
                summary["plain"].append(p50)
            elif mode == "score + contributions":
                summary["contributions"].append(p50)
    print(f"\nworst p50 over the four models: score {max(summary['plain']):.3f} ms "
          f"(target 0.2), with contributions {max(summary['contributions']):.3f} ms "
          f"(target 1.5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
