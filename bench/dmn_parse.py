"""Print how long DMN parsing takes as a decision table grows: 1,000, 9,000 and 15,500 rules.

    python bench/dmn_parse.py [--rules 1000 9000 15500]

The table has one number input whose cells alternate between a literal (``42``, answered by the
literal index) and an interval (``[42..51]``, by the interval index or, for very many distinct
bounds, by the tests), and one output; it is written compactly so that 15,500 rules stay under
the 2 MB deploy cap, as an analyst's (or an attacker's) largest table could. ``DecisionModel.
parse`` is timed end to end (XML, FEEL compilation of every cell, the table's indexes), then
one evaluation that matches only the last rule. Parsing must grow about linearly with the rule
count; ``per rule`` makes that visible.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.decisions import DecisionModel  # noqa: E402


def table_xml(rules: int) -> str:
    """Return a DMN 1.3 model whose decision ``d`` is a FIRST table of ``rules`` rules."""
    rows = []
    for n in range(rules):
        cell = f"{n * 10}" if n % 2 else f"[{n * 10}..{n * 10 + 9}]"
        rows.append(f"<rule><inputEntry><text>{cell}</text></inputEntry><outputEntry><text>{n}"
                    "</text></outputEntry></rule>")
    return (
        '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="big" name="big" '
        'namespace="http://omniflow.bench/big"><decision id="d" name="d"><decisionTable '
        'hitPolicy="FIRST"><input><inputExpression typeRef="number"><text>amount</text>'
        '</inputExpression></input><output name="out" typeRef="number"/>'
        + "".join(rows) + "</decisionTable></decision></definitions>")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, nargs="+", default=[1000, 9000, 15500])
    args = parser.parse_args(argv)
    for rules in args.rules:
        xml = table_xml(rules).encode()
        start = time.perf_counter()
        model = DecisionModel.parse(xml)  # raises past DEFAULT_MAX_BYTES: the deploy cap
        parsed = time.perf_counter() - start
        start = time.perf_counter()
        result = model.evaluate("d", {"amount": (rules - 1) * 10})
        evaluated = time.perf_counter() - start
        print(f"{rules:>7,} rules, {len(xml) / 1e6:5.2f} MB: parse {parsed:7.2f} s "
              f"({parsed / rules * 1e6:6.0f} µs per rule), evaluate {evaluated * 1e3:6.2f} ms "
              f"-> {result.value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
