"""Parse every DMN file of the interoperability corpus and count what happens to each.

    python bench/dmn_corpus.py [-v]

Reads ``../shared/interop-corpus/manifest.tsv`` (the files stay there, out of the repository).
Each DMN file either parses (strictly, as a deployment does, with the other corpus files that
load as the pool its imports are found in) or is refused with a ``DmnError``; a refusal must
name an element (or a line), and anything else (an exception of another type, a refusal naming
nothing) is counted as an error of ours. ``-v`` prints each file's outcome.
"""
from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.decisions import DecisionModel, DmnError  # noqa: E402
from service.decisions.document import load_xml  # noqa: E402

CORPUS = Path(os.environ.get("INTEROP_CORPUS", "/work/shared/interop-corpus"))


def corpus_files(root: Path = CORPUS) -> list[Path]:
    """Return the DMN files the manifest lists, in its order."""
    rows = (root / "manifest.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return [root / row.split("\t")[0] for row in rows if row.startswith("dmn/")]


def outcome(root, others: list) -> tuple[str, str]:
    """Return ("parsed" | "refused" | "error", detail) for one loaded document."""
    if isinstance(root, Exception):
        return _refusal(root)
    try:
        model = DecisionModel.from_roots(root, others)
    except Exception as exc:  # noqa: BLE001 - counted, never raised: this is the measurement
        return _refusal(exc)
    return "parsed", ", ".join(d.name for d in model.decisions)


def _refusal(exc: Exception) -> tuple[str, str]:
    if isinstance(exc, DmnError):
        if exc.element_id or exc.line:
            return "refused", str(exc)
        return "error", f"refusal names no element: {exc}"
    return "error", f"{type(exc).__name__}: {exc}"


def load(path: Path):
    try:
        return load_xml(path.read_bytes())
    except DmnError as exc:
        return exc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", "-v", action="store_true")
    args = parser.parse_args(argv)
    files = corpus_files()
    roots = {p: load(p) for p in files}
    counts: Counter[str] = Counter()
    for path in files:
        others = [r for p, r in roots.items() if p != path and not isinstance(r, Exception)]
        kind, detail = outcome(roots[path], others)
        counts[kind] += 1
        if args.verbose or kind == "error":
            print(f"{kind:8s} {path.name}: {detail[:300]}")
    print(f"{len(files)} DMN files: {counts['parsed']} parsed, {counts['refused']} refused "
          f"naming the element, {counts['error']} errors")
    return 1 if counts["error"] else 0


if __name__ == "__main__":
    sys.exit(main())
