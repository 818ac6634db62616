"""The durable-rules adapter: one engine ruleset per (ruleset, partition), driven synchronously.

durable-rules is used as a pattern matcher over facts, and only this module imports it. The
traps it sets, and what we do about each:

- ``durable.engine.Host`` starts timer threads that run actions behind the caller's back. Our
  host has none: every action runs inside the ``assert``/``retract`` call that triggered it.
- An exception inside an action is swallowed into the state. Our only action appends the match
  to a list; everything that can fail (opening a case) runs after the engine call returns.
- A message no rule can use raises ``MessageNotHandledException``; a message with the content of
  one already seen raises ``MessageObservedException``. Both are answers, not failures.
- Every message needs a unique ``id``: facts take their signal's id (derived facts their own).
- Engine states (``sid``) are never freed: a ruleset handle fails with ``MemoryError`` after
  1,024 distinct sids, and ``delete_state`` crashes the process (2.0.28). So facts go to a fixed
  number of sid buckets (a hash of the correlation key) and are retracted one by one when their
  window closes, never by deleting a state.
- Events never expire, so we use facts only, which can be retracted; windows are ours.
  Retraction does give the memory back (measured flat over long streams); ``delete_ruleset``
  does not (about the size of the ruleset's state stays behind), so an engine ruleset is only
  rebuilt when a partition changes owner or its rulesets are redeployed.
- A stored fact costs about 8 KB whatever its size, and a sid roughly 100 to 250 KB more: the partition
  caps live facts per key (``max_per_key``) and the sid buckets stay few.
- Too few buckets lose matches silently: with 4 (about 600 facts per sid on the bench stream)
  3 of 7,096 matches of the first 100,000 signals never fired; 16, 64 and 256 agree. Keep
  ``BUCKETS`` at 16 or more; more costs memory and no speed.
- The Python wrappers (``Ruleset.assert_fact``, ``Host._handle_function``) cost as much as the
  engine: calls go to ``durable_rules_engine`` directly (see :meth:`Matcher._call`).
"""
from __future__ import annotations

import functools
import itertools
import json
import zlib
from dataclasses import dataclass

import durable_rules_engine
from durable import engine

from ..errors import EngineFailure

BUCKETS = 16
_encode = json.JSONEncoder(ensure_ascii=False).encode     # as durable-rules encodes
#: A fact's JSON as the engine gets it; keep it to retract the fact without encoding it again.
encode = _encode
_names = itertools.count(1)


class _Host(engine.Host):
    """A host without background dispatch threads (see the module docstring)."""

    def _run(self):
        return None


_host = _Host()


@dataclass(frozen=True)
class Match:
    ruleset: str
    rule: str
    facts: dict          # alias -> fact (the engine's copy of the fact)


class RulesEngineError(EngineFailure):
    """durable-rules failed on a message; the message's signal records this as its error."""


@functools.lru_cache(maxsize=1 << 16)
def bucket(key: str) -> str:
    """The engine sid for a correlation key: stable across processes (crc32, not ``hash``)."""
    return str(zlib.crc32(key.encode("utf-8")) % BUCKETS)


def _facts(m) -> dict:
    out = {}
    if isinstance(m, dict):
        for alias, value in m.items():
            if isinstance(value, dict) and "id" in value:
                out[alias] = value
            elif isinstance(value, dict):
                out.update(_facts(value))
    return out


class Matcher:
    """One ruleset's engine instance for one partition. Not thread-safe: one consumer owns it."""

    def __init__(self, spec, partition: str):
        self.spec = spec
        self._fired: list[Match] = []
        try:
            self._ruleset = engine.Ruleset(f"{spec.name}.{next(_names)}", _host,
                                           spec.definition(self._on_match))
        except Exception as exc:  # noqa: BLE001 - untyped engine errors
            raise RulesEngineError(f"ruleset {spec.name!r} could not be loaded: {exc}",
                                   ruleset=spec.name) from exc

    def _on_match(self, rule_name: str, closure) -> None:
        # Only reached through durable-rules' own dispatch; :meth:`_run_actions` records the
        # matches of our calls.
        self._fired.append(Match(self.spec.name, rule_name, _facts(closure._m)))

    def assert_fact(self, fact: dict, text: str | None = None) -> tuple[bool, list[Match]]:
        """Assert; returns (stored, matches). A fact no rule can use is not stored.

        ``text`` is the fact's JSON when the caller has it already (see :func:`encode`).
        """
        return self._call(durable_rules_engine.assert_fact, fact, text)

    def retract_fact(self, fact: dict, text: str | None = None) -> list[Match]:
        return self._call(durable_rules_engine.retract_fact, fact, text)[1]

    def _call(self, fn, fact, text=None):
        """One engine call, as ``Ruleset.assert_fact`` + ``Host._handle_function`` make it.

        Those wrappers cost as much as the engine itself (a new JSON encoder, a closure and a
        callback per call, an exception for every fact no rule uses), and most calls fire
        nothing. So the C functions are called directly, and the durable-rules action loop
        (``_flush_actions``, pinned 2.0.28) runs only when the engine has an action to start.
        """
        handle = self._ruleset._handle
        try:
            code, state = fn(handle, text or _encode(fact))
            if code == 1 or code == 2:       # not handled (no rule uses it) / seen already
                return False, []
            if code == 3:
                state = 0
            started = durable_rules_engine.start_action_for_state(handle, state)
            if not started:
                return True, []
            fired = self._run_actions(handle, state, started)
        except Exception as exc:  # noqa: BLE001 - durable_rules_engine.error, MemoryError...
            raise RulesEngineError(f"rules engine failed on {fact.get('id')!r}: {exc}",
                                   ruleset=self.spec.name) from exc
        return True, fired

    def _run_actions(self, handle, state, started) -> list[Match]:
        """Record every match the engine starts, as durable-rules' ``_flush_actions`` would run
        our one action (append the match) and complete it, without its closure per match.

        The state document is given back unchanged (our action never writes it), encoded
        once per call as ``_flush_actions`` encodes it.
        """
        state_text = json.dumps(json.loads(started[0]), ensure_ascii=False)
        message_text = started[1]
        fired = []
        try:
            while message_text:
                for rule_name, message in json.loads(message_text).items():
                    fired.append(Match(self.spec.name, rule_name, _facts(message)))
                    break
                durable_rules_engine.update_state(handle, state_text)
                message_text = durable_rules_engine.complete_and_start_action(handle, state)
        except BaseException:
            durable_rules_engine.abandon_action(handle, state)
            raise
        return fired

    def close(self) -> None:
        """Free the engine ruleset (much of its memory stays behind: rebuild rarely)."""
        handle = getattr(self._ruleset, "_handle", None)
        if handle is not None:
            try:
                durable_rules_engine.delete_ruleset(handle)
            except Exception:  # noqa: BLE001 - nothing useful to do while discarding
                pass
            self._ruleset._handle = None


def compile_check(spec, rule) -> None:
    """Compile one rule alone in the engine; raise its error (the caller names the rule)."""
    single = type(spec)(spec.name, spec.key, spec.window_seconds, spec.clock, spec.inputs,
                        (rule,), spec.version)
    ruleset = engine.Ruleset(f"check.{next(_names)}", _host, single.definition(lambda n, c: None))
    durable_rules_engine.delete_ruleset(ruleset._handle)
