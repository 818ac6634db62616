"""Every use of durable-rules' internals, in one place, checked against the pinned version.

We drive durable-rules' native engine (``durable_rules_engine``, the C extension under
``durable.engine``) directly instead of through ``durable.engine.Host`` and ``Ruleset``:

- ``Host`` starts timer threads that run actions behind the caller's back; we want every action
  to run inside the ``assert``/``retract`` call that triggered it.
- ``Ruleset.assert_fact`` + ``Host._handle_function`` + ``Ruleset._flush_actions`` cost as much
  as the engine itself (a new JSON encoder, a closure and a callback per call, an exception for
  every fact no rule uses), and most calls fire nothing.

So this module relies on what the Python layer of durable-rules 2.0.28 does with the C
functions, and nothing else in the code base touches either:

- ``create_ruleset(name, json)`` takes the ruleset definition without the ``run`` entries;
  ``delete_ruleset(handle)`` frees it (much of its memory stays behind).
- ``assert_fact``/``retract_fact(handle, json)`` answer ``(code, state)``: code 1 means no rule
  can use the message, 2 that a message of the same content was seen, 3 that there is no state
  handle (use 0); any other code is a state handle to start actions on.
- ``start_action_for_state(handle, state)`` answers ``None`` or ``(state_json, message_json)``,
  the message being ``{rule_name: {alias: fact, ...}}``; ``update_state`` then
  ``complete_and_start_action`` finish one action and answer the next message (or nothing), and
  ``abandon_action`` gives the state back after a failure. This is ``Ruleset._flush_actions``.

``tests/signals/test_durable_compat.py`` pins each of these points, and compares this path with
durable-rules' own public API on a stream, so an upgrade that changes one fails there, loudly,
before it can change a match. Upgrading: change :data:`PINNED` with the pin in
``requirements.txt``, run those tests, and read the engine's changes to the functions above.
"""
from __future__ import annotations

import json
import threading
from importlib import metadata

import durable_rules_engine as _native

PINNED = "2.0.28"


class IncompatibleVersion(ImportError):
    """The installed durable-rules is not the version this module was checked against."""


def _installed_version() -> str:
    try:
        return metadata.version("durable_rules")
    except metadata.PackageNotFoundError as exc:
        raise IncompatibleVersion("durable_rules is not installed (requirements.txt pins "
                                  f"{PINNED})") from exc


INSTALLED = _installed_version()
if INSTALLED != PINNED:
    raise IncompatibleVersion(
        f"durable_rules {INSTALLED} is installed, but service/signals/durable_compat.py relies "
        f"on the internals of {PINNED}: install {PINNED}, or check the internals it names "
        "(tests/signals/test_durable_compat.py) and change PINNED")

NOT_HANDLED = 1      # no rule can use the message: nothing was stored
OBSERVED = 2         # a message with the same content was seen already
NO_STATE = 3         # handled without a state handle (start actions on state 0)

_encode = json.JSONEncoder(ensure_ascii=False).encode     # as durable-rules encodes

# The native engine keeps every ruleset in one global table that ``create_ruleset`` grows and
# ``delete_ruleset`` shrinks without a lock of its own: a deploy compiling a ruleset while the
# worker thread asserts facts crashed the process (SIGSEGV). Every native call holds this lock;
# it is uncontended in a process with one consumer, and costs well under a microsecond then.
_native_lock = threading.Lock()


class EngineRuleset:
    """One native ruleset: facts in, ``(rule name, {alias: fact})`` pairs out, synchronously.

    Not thread-safe (one caller owns it). Errors are the engine's own (``durable_rules_engine``
    errors, ``MemoryError``); the caller translates them.
    """

    __slots__ = ("name", "_handle")

    def __init__(self, name: str, definition: dict):
        """``definition``: durable-rules' JSON form, ``{rule: {"all": [...], "pri": n}}``."""
        self.name = name
        text = _encode(definition)
        with _native_lock:
            self._handle = _native.create_ruleset(name, text)

    def assert_fact(self, text: str) -> tuple[bool, list[tuple[str, dict]]]:
        """Assert a fact given as its JSON; returns (stored, the matches it completed)."""
        return self._call(_native.assert_fact, text)

    def retract_fact(self, text: str) -> list[tuple[str, dict]]:
        """Retract a fact (its JSON as asserted); returns the matches that completes."""
        return self._call(_native.retract_fact, text)[1]

    def _call(self, fn, text: str):
        with _native_lock:
            return self._call_locked(fn, text)

    def _call_locked(self, fn, text: str):
        handle = self._handle
        if handle is None:
            raise RuntimeError(f"ruleset {self.name} is closed")
        code, state = fn(handle, text)
        if code == NOT_HANDLED or code == OBSERVED:
            return False, []
        if code == NO_STATE:
            state = 0
        started = _native.start_action_for_state(handle, state)
        if not started:
            return True, []
        return True, self._run_actions(handle, state, started)

    @staticmethod
    def _run_actions(handle, state, started) -> list[tuple[str, dict]]:
        """Collect every action the engine starts, completing each as ``_flush_actions`` does.

        Our actions never write the state document, so it is given back unchanged, encoded as
        ``_flush_actions`` encodes it (``json.dumps`` of the parsed document).
        """
        state_text = json.dumps(json.loads(started[0]), ensure_ascii=False)
        message_text = started[1]
        fired = []
        try:
            while message_text:
                for rule_name, message in json.loads(message_text).items():
                    fired.append((rule_name, message))
                    break          # one action per message, as _flush_actions takes it
                _native.update_state(handle, state_text)
                message_text = _native.complete_and_start_action(handle, state)
        except BaseException:
            _native.abandon_action(handle, state)
            raise
        return fired

    def close(self) -> None:
        """Free the native ruleset (much of its memory stays behind: rebuild rarely)."""
        handle, self._handle = self._handle, None
        if handle is not None:
            try:
                with _native_lock:
                    _native.delete_ruleset(handle)
            except Exception:  # noqa: BLE001 - nothing useful to do while discarding
                pass


def compile_check(name: str, definition: dict) -> None:
    """Let the engine compile a definition and free it; raises the engine's error."""
    EngineRuleset(name, definition).close()
