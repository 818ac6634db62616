"""Contract tests for the durable-rules internals we rely on (:mod:`service.signals.durable_compat`).

Each test pins one point of the module docstring on the installed engine. If an upgrade of
durable-rules changes any of them, these fail by name before a match can silently change.
"""
from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys

import durable_rules_engine
import pytest

from service.config import ROOT
from service.signals import durable_compat
from service.signals.durable_compat import EngineRuleset
from service.signals.matcher import Matcher

from .streams import shipped_specs

PAIR = {"pair": {"all": [{"a": {"type": "x"}},
                         {"b": {"$and": [{"type": "y"}, {"k": {"a": "k"}}]}}]}}
UNLESS = {"unless": {"all": [{"a": {"type": "x"}},
                             {"b$not": {"$and": [{"type": "y"}, {"k": {"a": "k"}}]}}]}}


def _fact(id_, type_, k="K", **more):
    return json.dumps({"id": id_, "sid": "0", "k": k, "type": type_, **more})


def test_the_pinned_version_is_installed_and_required():
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)$",
                           (ROOT / "requirements.txt").read_text(), re.M))
    assert pins["durable_rules"] == durable_compat.PINNED == durable_compat.INSTALLED


def test_another_version_is_refused_at_import():
    script = ("import importlib.metadata as m\n"
              "m.version = lambda name: '2.0.29'\n"
              "import service.signals.durable_compat\n")
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode != 0
    assert "IncompatibleVersion" in run.stderr and "2.0.29" in run.stderr
    assert "2.0.28" in run.stderr


def test_answer_codes_of_assert_and_retract():
    handle = durable_rules_engine.create_ruleset("contract.codes", json.dumps(PAIR))
    try:
        code, _ = durable_rules_engine.assert_fact(handle, _fact("1", "z"))
        assert code == durable_compat.NOT_HANDLED
        code, state = durable_rules_engine.assert_fact(handle, _fact("2", "x"))
        assert code not in (durable_compat.NOT_HANDLED, durable_compat.OBSERVED)
        assert durable_rules_engine.start_action_for_state(handle, state) is None
        code, _ = durable_rules_engine.assert_fact(handle, _fact("2", "x"))
        assert code == durable_compat.OBSERVED
    finally:
        durable_rules_engine.delete_ruleset(handle)


def test_a_started_action_names_the_rule_and_its_aliased_facts():
    handle = durable_rules_engine.create_ruleset("contract.shape", json.dumps(PAIR))
    try:
        durable_rules_engine.assert_fact(handle, _fact("1", "x"))
        code, state = durable_rules_engine.assert_fact(handle, _fact("2", "y"))
        started = durable_rules_engine.start_action_for_state(handle, state)
        state_doc, message = json.loads(started[0]), json.loads(started[1])
        assert isinstance(state_doc, dict) and state_doc.get("sid") == "0"
        assert list(message) == ["pair"]
        assert {alias: f["id"] for alias, f in message["pair"].items()} == {"a": "1", "b": "2"}
        durable_rules_engine.update_state(handle, json.dumps(state_doc))
        assert not durable_rules_engine.complete_and_start_action(handle, state)
    finally:
        durable_rules_engine.delete_ruleset(handle)


def test_engine_ruleset_reports_matches_of_asserts_and_retracts():
    engine = EngineRuleset("contract.engine", {**PAIR, **UNLESS})
    try:
        assert engine.assert_fact(_fact("0", "nobody")) == (False, [])
        stored, fired = engine.assert_fact(_fact("1", "y"))
        assert stored and fired == []
        stored, fired = engine.assert_fact(_fact("2", "x"))
        assert stored and [(r, {a: f["id"] for a, f in m.items()}) for r, m in fired] == [
            ("pair", {"a": "2", "b": "1"})]
        assert engine.assert_fact(_fact("2", "x")) == (False, [])       # seen already
        fired = engine.retract_fact(_fact("1", "y"))     # b$not now holds for a = 2
        assert [(r, {a: f["id"] for a, f in m.items()}) for r, m in fired] == [
            ("unless", {"a": "2"})]
    finally:
        engine.close()
    engine.close()                                    # closing twice is harmless


def test_an_action_failure_gives_the_state_back():
    engine = EngineRuleset("contract.abandon", PAIR)
    try:
        engine.assert_fact(_fact("1", "x"))
        original = durable_rules_engine.update_state
        durable_rules_engine.update_state = lambda *a: (_ for _ in ()).throw(RuntimeError("x"))
        try:
            with pytest.raises(RuntimeError):
                engine.assert_fact(_fact("2", "y"))
        finally:
            durable_rules_engine.update_state = original
        # the abandoned action leaves the engine usable: the next pair still fires
        engine.assert_fact(_fact("3", "x", k="L"))
        stored, fired = engine.assert_fact(_fact("4", "y", k="L"))
        assert [r for r, _ in fired] == ["pair"]
    finally:
        engine.close()


# The same stream through durable-rules' public API (Host, Ruleset, actions), in a child
# process because Host starts dispatch threads that nothing can stop.
_PUBLIC = r"""
import json, sys
from durable import engine
definition, ops = json.load(sys.stdin)
aliases = {rule: [next(iter(c)) for c in body["all"] if not next(iter(c)).endswith("$not")]
           for rule, body in definition.items()}
fired = []
for rule, body in definition.items():
    body["run"] = (lambda r: lambda c: fired.append(
        [r, {a: getattr(c, a)["id"] for a in aliases[r]}]))(rule)
host = engine.Host()
host.register_rulesets({"public": definition})
out = []
for op, fact in ops:
    fired.clear()
    try:
        (host.assert_fact if op == "assert" else host.retract_fact)("public", fact)
    except (engine.MessageNotHandledException, engine.MessageObservedException):
        pass
    out.append(list(fired))
print(json.dumps(out))
"""


def _surge_ops(seed: int, n: int) -> list:
    rnd = random.Random(seed)
    ops, live = [], []
    for i in range(n):
        if live and rnd.random() < 0.25:
            ops.append(("retract", live.pop(rnd.randrange(len(live)))))
            continue
        key = f"S{rnd.randrange(3)}|west"
        fact = {"id": f"f{i}", "sid": str(rnd.randrange(2)), "k": key,
                "type": "return.received", "seq": i, "at": i * 600.0 + rnd.choice((0, -4000)),
                "sku": key.split("|")[0], "region": "west", "return_id": f"r{i}"}
        ops.append(("assert", fact))
        live.append(fact)
    return ops


@pytest.mark.parametrize("seed", range(2))
def test_matches_equal_durable_rules_own_api(seed):
    (spec,) = shipped_specs("return_surge")
    ops = _surge_ops(seed, 300)
    run = subprocess.run([sys.executable, "-c", _PUBLIC], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, input=json.dumps([spec.definition(), ops]),
                         env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert run.returncode == 0, run.stderr
    public = json.loads(run.stdout)
    matcher = Matcher(spec, "west")
    ours = []
    try:
        for op, fact in ops:
            matches = (matcher.assert_fact(fact)[1] if op == "assert"
                       else matcher.retract_fact(fact))
            ours.append([[m.rule, {a: f["id"] for a, f in m.facts.items()}] for m in matches])
    finally:
        matcher.close()
    assert ours == public
    assert sum(map(len, ours)) >= 5                   # the stream does match
