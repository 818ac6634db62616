"""The durable-rules adapter: one engine ruleset per (ruleset, partition), driven synchronously.

durable-rules is used as a pattern matcher over facts. Its internals are reached only through
:mod:`.durable_compat` (version-checked); this module turns our rulesets into engine rulesets
and engine answers into :class:`Match` values. The traps the engine sets, and what we do:

- Actions never run our code: the engine reports which rule matched which facts, and everything
  that can fail (opening a case) runs after the engine call returns.
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
  engine: calls go to the native engine directly (see :mod:`.durable_compat`).
"""
from __future__ import annotations

import functools
import itertools
import json
import zlib
from dataclasses import dataclass

from ..errors import EngineFailure
from .durable_compat import EngineRuleset, compile_check as _compile

BUCKETS = 16
#: A fact's JSON as the engine gets it; keep it to retract the fact without encoding it again.
encode = json.JSONEncoder(ensure_ascii=False).encode     # as durable-rules encodes
_names = itertools.count(1)


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
        try:
            self._engine = EngineRuleset(f"{spec.name}.{next(_names)}", spec.definition())
        except Exception as exc:  # noqa: BLE001 - untyped engine errors
            raise RulesEngineError(f"ruleset {spec.name!r} could not be loaded: {exc}",
                                   ruleset=spec.name) from exc

    def assert_fact(self, fact: dict, text: str | None = None) -> tuple[bool, list[Match]]:
        """Assert; returns (stored, matches). A fact no rule can use is not stored.

        ``text`` is the fact's JSON when the caller has it already (see :data:`encode`).
        """
        try:
            stored, fired = self._engine.assert_fact(text or encode(fact))
        except Exception as exc:  # noqa: BLE001 - durable_rules_engine.error, MemoryError...
            raise self._failed(fact, exc) from exc
        return stored, self._matches(fired)

    def retract_fact(self, fact: dict, text: str | None = None) -> list[Match]:
        try:
            fired = self._engine.retract_fact(text or encode(fact))
        except Exception as exc:  # noqa: BLE001 - as in assert_fact
            raise self._failed(fact, exc) from exc
        return self._matches(fired)

    def _matches(self, fired) -> list[Match]:
        if not fired:
            return []
        name = self.spec.name
        return [Match(name, rule, _facts(message)) for rule, message in fired]

    def _failed(self, fact: dict, exc: Exception) -> RulesEngineError:
        return RulesEngineError(f"rules engine failed on {fact.get('id')!r}: {exc}",
                                ruleset=self.spec.name)

    def close(self) -> None:
        """Free the engine ruleset (much of its memory stays behind: rebuild rarely)."""
        self._engine.close()


def compile_check(spec, rule) -> None:
    """Compile one rule alone in the engine; raise its error (the caller names the rule)."""
    _compile(f"check.{next(_names)}", spec.definition(only=rule))
