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
"""
from __future__ import annotations

import itertools
import zlib
from dataclasses import dataclass

import durable_rules_engine
from durable import engine

from ..errors import EngineFailure

BUCKETS = 16
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
        self._fired.append(Match(self.spec.name, rule_name, _facts(closure._m)))

    def assert_fact(self, fact: dict) -> tuple[bool, list[Match]]:
        """Assert; returns (stored, matches). A fact no rule can use is not stored."""
        return self._call(self._ruleset.assert_fact, fact)

    def retract_fact(self, fact: dict) -> list[Match]:
        return self._call(self._ruleset.retract_fact, fact)[1]

    def _call(self, fn, fact):
        self._fired = []
        try:
            _host._handle_function(self._ruleset, fn, fact, None)
        except engine.MessageNotHandledException:
            return False, []
        except engine.MessageObservedException:
            return False, []
        except Exception as exc:  # noqa: BLE001 - durable_rules_engine.error, MemoryError...
            self._fired = []
            raise RulesEngineError(f"rules engine failed on {fact.get('id')!r}: {exc}",
                                   ruleset=self.spec.name) from exc
        fired, self._fired = self._fired, []
        return True, fired

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
