"""Rebuild the shipped default models: ``python -m scoring.shipped [--models-dir DIR]``.

Each of the four models is trained on ``ROWS`` rows of the synthetic retailer with ``SEED`` and
written as version 1 under ``scoring/models/``. Same code, same seed, same XGBoost version ->
byte-identical ``model.ubj`` (the tests check the hash recorded in ``meta.json`` against a fresh
build of a small model). A retailer replaces these by training on its own CSV
(``python server.py train MODEL --data FILE.csv``) and activating the new version.
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from .artifacts import ArtifactStore, ModelMeta
from .catalog import SPECS
from .synthetic import generate
from .training import train

ROWS = 40_000
SEED = 2024
DEFAULT_DIR = Path(__file__).resolve().parent / "models"


def build(name: str, models_dir: str | Path = DEFAULT_DIR, rows: int = ROWS,
          seed: int = SEED) -> ModelMeta:
    """Train ``name`` on the synthetic history and write it as version 1, replacing any."""
    store = ArtifactStore(models_dir)
    trained = train(SPECS[name], generate(name, rows, seed))
    shutil.rmtree(store.path(name, 1), ignore_errors=True)
    return store.save(trained, version=1)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models-dir", default=str(DEFAULT_DIR))
    parser.add_argument("models", nargs="*", default=sorted(SPECS))
    args = parser.parse_args(argv)
    for name in args.models:
        meta = build(name, args.models_dir)
        m = meta.metrics
        failures = SPECS[name].floor.failures(m)
        print(f"{name} v{meta.version}: roc_auc {m['roc_auc']} pr_auc {m['pr_auc']} "
              f"brier {m['brier']} ece {m['ece']} trees {m['best_iteration'] + 1} "
              f"{'PASSES floor' if not failures else 'FAILS floor: ' + '; '.join(failures)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
