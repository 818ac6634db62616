"""Run the DMN TCK (compliance levels 2 and 3) against ``service.decisions`` and print counts.

    python bench/tck.py                       # both levels, failures grouped by folder
    python bench/tck.py --verbose 0085        # only folders containing "0085", with details
    python bench/tck.py --level 2
    python bench/tck.py --lenient             # a decision that does not compile is only null

A test case is one ``<testCase>`` element (as the TCK counts them); it passes when every one of
its result nodes matches. Numbers compare numerically with a relative tolerance of 1e-8: the
TCK's expected values are rounded (several were computed in binary floating point), so exact
34-digit results differ from them in the last places.

Models are parsed strictly, as a deployment parses them: a model with one expression that does
not compile fails to parse, and then every test of it fails (the published TCK results count
this way). ``--lenient`` parses as other engines report per decision instead: the decision that
does not compile is null and the rest of the model still runs. Names are lenient in both (an
unknown name is null with a warning, as FEEL has it; the service evaluates with strict names).
A case that raises or runs too long counts as failed: the runner never crashes on a bad case.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import time
import traceback
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from lxml import etree

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.decisions import DecisionModel, DmnError  # noqa: E402
from service.decisions.feel import BUILTINS, DaysTimeDuration, YearsMonthsDuration  # noqa: E402

TCK_ROOT = Path(os.environ.get("DMN_TCK", "/work/shared/dmn-tck/TestCases"))
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
CASE_SECONDS = 10


@dataclass(frozen=True)
class ResultNode:
    name: str
    error_result: bool
    expected: Any
    has_expected: bool


@dataclass(frozen=True)
class TestCase:
    id: str
    type: str
    invocable: str | None
    inputs: tuple[tuple[str, str | None, Any], ...]
    results: tuple[ResultNode, ...]


@dataclass(frozen=True)
class TestFile:
    path: Path
    model_name: str
    cases: tuple[TestCase, ...]


@dataclass(frozen=True)
class Outcome:
    folder: str
    file: str
    case_id: str
    passed: bool
    detail: str = ""


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.outcomes)

    @property
    def passed(self) -> int:
        return sum(o.passed for o in self.outcomes)

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.passed]


# -- reading test files ------------------------------------------------------------------------
def _local(el) -> str:
    return el.tag.rsplit("}", 1)[-1] if isinstance(el.tag, str) else ""


def _elements(el, name=None):
    return [c for c in el if isinstance(c.tag, str) and (name is None or _local(c) == name)]


def parse_scalar(el) -> Any:
    """Read one ``<value>`` by its ``xsi:type`` into the FEEL value the engine returns."""
    if el.get(XSI_NIL) == "true":
        return None
    xsi = (el.get(XSI_TYPE) or "").split(":")[-1]
    text = el.text or ""
    if xsi in ("decimal", "double", "integer", "int", "long", "float"):
        return Decimal(text.strip())
    if xsi == "boolean":
        return text.strip() == "true"
    if xsi == "date":
        return BUILTINS["date"](text.strip())
    if xsi == "dateTime":
        return BUILTINS["date and time"](text.strip())
    if xsi == "time":
        return BUILTINS["time"](text.strip())
    if xsi == "duration":
        return BUILTINS["duration"](text.strip())
    if _elements(el):  # an untyped value holding a nested structure
        return parse_value(el)
    return text


def parse_value(el) -> Any:
    """Read a TCK ``valueType`` element: a value, components (a context) or a list."""
    if el.get(XSI_NIL) == "true":
        return None
    kids = _elements(el)
    for kid in kids:
        kind = _local(kid)
        if kind == "value":
            return parse_scalar(kid)
        if kind == "list":
            if kid.get(XSI_NIL) == "true":
                return None
            return [parse_value(item) for item in _elements(kid, "item")]
    components = _elements(el, "component")
    if components:
        return {c.get("name"): parse_value(c) for c in components}
    return None


def read_test_file(path: Path) -> TestFile:
    """Read a ``*-test-*.xml`` file into test cases (typed inputs and expected results)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
    root = etree.parse(str(path), parser).getroot()
    model_name = ""
    for el in _elements(root, "modelName"):
        model_name = (el.text or "").strip()
    cases = []
    for tc in _elements(root, "testCase"):
        inputs = tuple((n.get("name"), n.get("namespace"), parse_value(n))
                       for n in _elements(tc, "inputNode"))
        results = []
        for rn in _elements(tc, "resultNode"):
            expected = _elements(rn, "expected")
            results.append(ResultNode(
                rn.get("name"), rn.get("errorResult") == "true",
                parse_value(expected[0]) if expected else None, bool(expected)))
        cases.append(TestCase(tc.get("id") or "?", tc.get("type") or "decision",
                              tc.get("invocableName"), inputs, tuple(results)))
    return TestFile(path, model_name, tuple(cases))


# -- comparing ----------------------------------------------------------------------------------
def same(expected: Any, actual: Any) -> bool:
    """Compare as the TCK runners do: numbers numerically, structures element-wise."""
    if expected is None:
        return actual is None
    if isinstance(expected, Decimal):
        if not isinstance(actual, Decimal) or isinstance(actual, bool):
            return False
        if expected == actual:
            return True
        try:
            scale = max(abs(expected), Decimal(1))
            return abs(expected - actual) <= scale * Decimal("1e-8")
        except InvalidOperation:
            return False
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if isinstance(expected, list):
        return isinstance(actual, list) and len(actual) == len(expected) and all(
            same(e, a) for e, a in zip(expected, actual))
    if isinstance(expected, dict):
        return isinstance(actual, dict) and set(actual) == set(expected) and all(
            same(expected[k], actual[k]) for k in expected)
    if isinstance(expected, (DaysTimeDuration, YearsMonthsDuration)):
        return type(actual) is type(expected) and actual == expected
    if type(expected) is not type(actual):
        return False
    if hasattr(expected, "utcoffset") and not isinstance(expected, type(None)):
        try:
            if (expected.utcoffset() is None) != (actual.utcoffset() is None):
                return False
        except Exception:
            return False
    try:
        return expected == actual
    except TypeError:
        return False


def show(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 300 else text[:297] + "..."


# -- running ------------------------------------------------------------------------------------
class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def load_model(folder: Path, model_name: str, strict: bool = True) -> DecisionModel:
    """Parse the folder's model, with every other .dmn file of the folder as an import."""
    main = folder / model_name
    others = [p.read_bytes() for p in sorted(folder.glob("*.dmn")) if p.name != model_name]
    return DecisionModel.parse(main.read_bytes(), imports=others, strict=strict)


def run_case(model: DecisionModel, case: TestCase) -> tuple[bool, str]:
    inputs: dict[str, Any] = {}
    for name, namespace, value in case.inputs:
        inputs[f"{{{namespace}}}{name}" if namespace else name] = value
    problems = []
    service = None
    if case.type == "decisionService" and case.invocable:
        service = model.decision_service(case.invocable, inputs)
    for node in case.results:
        if service is not None:
            actual = service.value if node.name == case.invocable else \
                service.decisions.get(node.name)
            warnings = service.warnings
        else:
            result = model.evaluate(node.name, inputs)
            actual, warnings = result.value, result.warnings
        expected = None if node.error_result and not node.has_expected else node.expected
        if node.error_result and expected is None:
            ok = actual is None
        else:
            ok = same(expected, actual)
        if not ok:
            problems.append(f"{node.name}: expected {show(expected)}, got {show(actual)}"
                            + (f"; warnings {list(warnings)[:3]}" if warnings else ""))
    return not problems, "\n".join(problems)


def run_folder(folder: Path, strict: bool = True) -> list[Outcome]:
    outcomes = []
    models: dict[str, Any] = {}
    use_alarm = hasattr(signal, "SIGALRM") and \
        __import__("threading").current_thread() is __import__("threading").main_thread()
    for test_path in sorted(folder.glob("*-test-*.xml")):
        try:
            test_file = read_test_file(test_path)
        except Exception as exc:  # a broken test file fails, it does not stop the run
            outcomes.append(Outcome(folder.name, test_path.name, "*", False,
                                    f"cannot read test file: {exc}"))
            continue
        model_name = test_file.model_name or next(iter(sorted(folder.glob("*.dmn")))).name
        if model_name not in models:
            try:
                models[model_name] = load_model(folder, model_name, strict)
            except Exception as exc:
                models[model_name] = exc
        model = models[model_name]
        for case in test_file.cases:
            if isinstance(model, Exception):
                kind = "DmnError" if isinstance(model, DmnError) else type(model).__name__
                outcomes.append(Outcome(folder.name, test_path.name, case.id, False,
                                        f"model does not parse: {kind}: {model}"))
                continue
            if use_alarm:
                previous = signal.signal(signal.SIGALRM, _alarm)
                signal.alarm(CASE_SECONDS)
            try:
                ok, detail = run_case(model, case)
            except _Timeout:
                ok, detail = False, f"timed out after {CASE_SECONDS} s"
            except Exception as exc:
                ok, detail = False, "raised " + "".join(
                    traceback.format_exception_only(type(exc), exc)).strip()
            finally:
                if use_alarm:
                    signal.alarm(0)
                    signal.signal(signal.SIGALRM, previous)
            outcomes.append(Outcome(folder.name, test_path.name, case.id, ok, detail))
    return outcomes


def run_level(level_dir: Path, folder_filter: str | None = None, strict: bool = True
              ) -> Report:
    """Run every test folder of one compliance level (optionally only matching folders)."""
    report = Report()
    for folder in sorted(p for p in Path(level_dir).iterdir() if p.is_dir()):
        if folder_filter and folder_filter not in folder.name:
            continue
        report.outcomes.extend(run_folder(folder, strict))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("filter", nargs="?", help="only folders whose name contains this")
    parser.add_argument("--level", type=int, choices=(2, 3), action="append",
                        help="compliance level(s) to run (default both)")
    parser.add_argument("--verbose", "-v", action="store_true", help="print failure details")
    parser.add_argument("--root", type=Path, default=TCK_ROOT, help="TCK TestCases folder")
    parser.add_argument("--lenient", action="store_true",
                        help="parse leniently: only the decision that does not compile fails")
    args = parser.parse_args(argv)
    failed_any = False
    for level in args.level or (2, 3):
        start = time.perf_counter()
        report = run_level(args.root / f"compliance-level-{level}", args.filter,
                           strict=not args.lenient)
        elapsed = time.perf_counter() - start
        print(f"compliance level {level}: {report.passed}/{report.total} test cases pass "
              f"({elapsed:.1f} s)")
        groups: dict[str, list[Outcome]] = defaultdict(list)
        for o in report.failures:
            groups[o.folder].append(o)
        for folder, fails in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            print(f"  {len(fails):4d}  {folder}")
            if args.verbose:
                for o in fails:
                    detail = o.detail.replace("\n", "\n          ")
                    print(f"        {o.file} #{o.case_id}: {detail}")
        failed_any |= bool(report.failures)
    return 1 if failed_any else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # piped into head
        sys.exit(1)
