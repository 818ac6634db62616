"""Scripts and expressions run restricted: refused at deploy when possible, stopped at run time."""
from __future__ import annotations

import json
import time
from xml.sax.saxutils import escape

import pytest

from service.engine import ProcessLibrary, parse_definitions
from service.errors import DefinitionInvalid

from conftest import FIXTURES

TEMPLATE = (FIXTURES / "script_template.bpmn").read_text()


def bpmn(script: str) -> dict[str, bytes]:
    return {"scripted.bpmn": TEMPLATE.replace("{script}", escape(script)).encode()}


@pytest.mark.parametrize("script", [
    "import os",
    "__import__('os')",
    "().__class__.__base__.__subclasses__()",
    "eval('1 + 1')",
    "exec('x = 1')",
])
def test_dangerous_scripts_are_refused_at_deploy(script):
    with pytest.raises(DefinitionInvalid) as info:
        parse_definitions(bpmn(script))
    assert info.value.extra["element"] == "calc" and info.value.extra["file"] == "scripted.bpmn"
    assert "refused" in info.value.detail


@pytest.mark.parametrize("script,fragment", [
    ("data = open('/etc/passwd').read()", "open"),
    ("f = getattr(1, 'real')", "getattr"),
    ("c = compile('1', 'x', 'eval')", "compile"),
    ("t = type(1)", "type"),
])
def test_forbidden_builtins_fail_at_run_naming_the_task(runtime, script, fragment):
    spec = ProcessLibrary().spec("scripted", 1, bpmn(script))
    instance = runtime.start(spec, {})
    assert instance.status == "failed"
    assert instance.failure.extra["element"] == "calc"
    assert "'Calculate' (calc)" in instance.failure.detail and fragment in instance.failure.detail


def test_endless_loop_is_stopped_by_the_cpu_limit(runtime):
    spec = ProcessLibrary().spec("scripted", 1, bpmn("while True: pass"))
    started = time.monotonic()
    instance = runtime.start(spec, {})
    assert time.monotonic() - started < 20      # stopped (unguarded: forever)
    assert instance.status == "failed"
    assert "CPU time limit" in instance.failure.detail and instance.failure.extra["element"] == "calc"


@pytest.mark.parametrize("script,fragment", [
    ("x = 10**10**10", "power too large"),             # one C-level operation: no deadline
    ("x = 'a' * 10**10", "string of 10,000,000,000 exceeds"),      # a 10 GB string
    ("x = [0] * 10**9", "list of 1,000,000,000 exceeds"),
    ("x = 1 << 10**9", "shift too large"),
    ("x = 'a'\nx *= 10**9", "string of 1,000,000,000 exceeds"),
    ("x = 10**5000", "cannot be stored"),              # computable, but not storable as JSON
    ("x = b'raw'", "cannot be stored"),
    ("x = float('nan')", "cannot be stored"),
])
def test_memory_and_cpu_bombs_in_one_operation_fail_fast(runtime, script, fragment):
    spec = ProcessLibrary().spec("scripted", 1, bpmn(script))
    started = time.monotonic()
    instance = runtime.start(spec, {})
    assert time.monotonic() - started < 20      # stopped (unguarded: minutes)
    assert instance.status == "failed" and fragment in instance.failure.detail
    assert instance.failure.extra["element"] == "calc"
    instance.dumps()                     # the failed instance can still be saved


def test_ordinary_python_still_works(runtime):
    script = "\n".join([
        "total = sum(i['qty'] for i in items)",
        "biggest = max(i['qty'] for i in items)",
        "smallest = min([i['qty'] for i in items])",
        "names = sorted([i['sku'] for i in items], reverse=True)",
        "ratio = round(total / len(items), 2)",
        "lookup = {i['sku']: i['qty'] for i in items}",
        "flag = lookup['B'] > 2 and 'A' in lookup",
        "count = 0",
        "for sku, qty in lookup.items():",
        "    count += qty",
        "items[0]['qty'] = 10",
    ])
    spec = ProcessLibrary().spec("scripted", 1, bpmn(script))
    items = [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 4}]
    instance = runtime.start(spec, {"items": items})
    assert instance.status == "completed", instance.failure
    data = instance.data
    assert data["total"] == 5 and data["biggest"] == 4 and data["smallest"] == 1
    assert data["names"] == ["B", "A"] and data["ratio"] == 2.5 and data["flag"] is True
    assert data["count"] == 5 and data["items"][0]["qty"] == 10


# -- the reproduced bypasses, through the engine -------------------------------------------

@pytest.mark.parametrize("script,kinds", [
    ("x = pow(10, 10**8) % 7", ("size",)),
    ("a = [0] * 10**6\nb = [a] * 10**6\nn = len(str(b))", ("cpu", "memory")),
    ("x = 'a'.ljust(5 * 10**7)", ("size",)),
])
def test_reproduced_bypasses_fail_at_the_script_and_never_reach_the_state(runtime, script, kinds):
    spec = ProcessLibrary().spec("scripted", 1, bpmn(script))
    started = time.monotonic()
    instance = runtime.start(spec, {"order_id": "A-1"})
    assert time.monotonic() - started < 20      # stopped (unguarded: minutes, or gigabytes)
    assert instance.status == "failed" and instance.failure.extra["element"] == "calc"
    assert instance.failure.extra["limit"] in kinds
    assert len(instance.dumps()) < 10_000       # the +50 MB value was never stored


def test_a_decision_result_too_large_to_store_fails_at_the_business_rule_task(runtime, spec_of,
                                                                             decisions, connectors):
    decisions.decisions.update({"exception_routing": [{"note": "x" * 2_000_000}],
                                "approval_authority": [{"approvers": 1}]})
    instance = runtime.start(spec_of("order_exception", "order.bpmn"),
                             {"order_id": "O1", "refund_amount": 120})
    assert instance.status == "failed" and instance.failure.extra["limit"] == "size"
    assert instance.failure.extra["element"] == "route"
    assert len(instance.dumps()) < 10_000


def test_a_state_past_its_cap_fails_the_instance_at_the_element_holding_the_data(runtime):
    script = "\n".join(f"v{i} = 'y' * 900000" for i in range(4))
    spec = ProcessLibrary().spec("scripted", 1, bpmn(script))
    instance = runtime.start(spec, {"blob": "x" * 5_000_000})
    assert instance.status == "completed"
    state = instance.dumps()
    assert instance.status == "failed" and instance.failure.extra["limit"] == "size"
    assert instance.failure.extra["element"] in ("calc", "end")
    assert "the limit is 8,000,000" in instance.failure.detail
    assert json.loads(state)["status"] == "failed"
    assert [e.kind for e in instance.drain_events()][-1] == "error"
