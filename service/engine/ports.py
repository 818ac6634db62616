"""Ports: the only doors from a running process to the world outside the engine.

The engine never imports the database, Flask or a connector; it is handed three small objects:
a :class:`DecisionPort` (business rule tasks), a :class:`ConnectorPort` (service tasks) and a
clock (timers, due dates, event times). The in-memory implementations here are real, not mocks:
``ConnectorRegistry`` is the registry the application fills with its connectors, and
``DictDecisionPort`` / ``FixedClock`` are what tests pass.
"""
from __future__ import annotations

import inspect
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping, Protocol, runtime_checkable

__all__ = [
    "Clock",
    "ConnectorError",
    "ConnectorPort",
    "ConnectorRegistry",
    "DecisionOutcome",
    "DecisionPort",
    "DictDecisionPort",
    "BINDINGS",
    "Binding",
    "FixedClock",
    "system_clock",
]


@dataclass(frozen=True)
class DecisionOutcome:
    """What a decision returned: ``value`` goes into the process, ``record`` into the audit.

    ``value`` is shaped like a DMN result: a list of rule outputs (each a dict of output name to
    value) for a table, or any plain value. ``record`` is free-form (matched rules, table version,
    inputs) and is copied unchanged into the ``decision_evaluated`` event.
    """

    value: Any
    record: dict = field(default_factory=dict)
    # The names of a decision table's output columns (those that name themselves): where a
    # one-output table's bare value goes when the task names no result variable.
    outputs: tuple = ()


BINDINGS = ("latest", "deployment", "version", "versionTag")


@dataclass(frozen=True)
class Binding:
    """Which version of a called decision or process a task uses (Camunda's binding).

    ``latest``: the newest deployed; ``deployment``: the one deployed with the calling process
    (the newest at or before its deployment); ``version``: that version number; ``versionTag``:
    the newest version carrying that tag. The engine only carries it; the service resolves it.
    """

    type: str = "latest"
    version: int | None = None
    version_tag: str | None = None

    def as_dict(self) -> dict:
        return {"type": self.type, "version": self.version, "version_tag": self.version_tag}


@runtime_checkable
class DecisionPort(Protocol):
    def evaluate(self, decision_ref: str, inputs: dict) -> DecisionOutcome:
        """Evaluate the deployed decision ``decision_ref`` against ``inputs`` (the task data).

        A task with a binding other than ``latest`` passes ``binding=Binding(...)`` too; a port
        that does not take it serves only the newest version.
        """


class ConnectorError(Exception):
    """A connector call failed.

    ``bpmn_error_code`` lets a process model the failure: when the service task has an error
    boundary event with that code the process follows it; otherwise the instance fails and the
    caller decides (``retryable``) whether to retry.
    """

    def __init__(self, message: str, bpmn_error_code: str | None = None, retryable: bool = True):
        super().__init__(message)
        self.message = message
        self.bpmn_error_code = bpmn_error_code
        self.retryable = retryable


@runtime_checkable
class ConnectorPort(Protocol):
    """Calls to the systems around the process.

    A port may also offer ``handles(name) -> bool``: an external task (``camunda:type=
    "external"``, ``zeebe:taskDefinition``) whose topic it handles is called through it;
    one it does not handle waits for an external worker (``Instance.external_tasks``). A port
    without ``handles`` runs every topic, as before external tasks existed.
    """

    def call(self, name: str, params: dict, *, idempotency_key: str) -> Any:
        """Call connector ``name``; the same ``idempotency_key`` must not act twice."""


Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Return the current time, UTC aware (the default clock)."""
    return datetime.now(timezone.utc)


class FixedClock:
    """A clock that only moves when told to: tests use it to fire timers deterministically."""

    def __init__(self, now: datetime | None = None):
        self.now = now or datetime(2024, 1, 1, 9, 0, tzinfo=timezone.utc)
        if self.now.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        self.now = self.now + (delta or timedelta(**kwargs))
        return self.now


class ConnectorRegistry:
    """Map connector names to plain functions ``fn(params: dict) -> result``.

    A function may also accept an ``idempotency_key`` keyword (detected once at registration)
    so that real connectors can de-duplicate; test functions usually ignore it. Unknown names
    and exceptions other than :class:`ConnectorError` become a retryable ``ConnectorError``, so
    the engine has a single failure type to handle.
    """

    def __init__(self, functions: Mapping[str, Callable[..., Any]] | None = None):
        self._functions: dict[str, tuple[Callable[..., Any], bool]] = {}
        self._lock = threading.Lock()
        for name, fn in (functions or {}).items():
            self.register(name, fn)

    def register(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        try:
            params = inspect.signature(fn).parameters
            wants_key = "idempotency_key" in params or any(
                p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
        except (TypeError, ValueError):  # builtins without a signature
            wants_key = False
        with self._lock:
            self._functions[name] = (fn, wants_key)
        return fn

    def names(self) -> set[str]:
        return set(self._functions)

    def __contains__(self, name: object) -> bool:
        return name in self._functions

    def handles(self, name: str) -> bool:
        """Whether a connector runs ``name``: an external task of this topic is then called
        here instead of waiting for a worker (see ``ConnectorPort``)."""
        return name in self._functions

    def call(self, name: str, params: dict, *, idempotency_key: str) -> Any:
        entry = self._functions.get(name)
        if entry is None:
            raise ConnectorError(f"no connector named {name!r} is registered", retryable=False)
        fn, wants_key = entry
        try:
            if wants_key:
                return fn(params, idempotency_key=idempotency_key)
            return fn(params)
        except ConnectorError:
            raise
        except Exception as exc:  # a connector's own fault: one failure type for the engine
            raise ConnectorError(f"{type(exc).__name__}: {exc}") from exc


class DictDecisionPort:
    """Answer decisions from a dict of ``ref -> value`` or ``ref -> fn(inputs) -> value``.

    Meant for tests and demos; the application implements :class:`DecisionPort` on top of the
    deployed DMN tables.
    """

    def __init__(self, decisions: Mapping[str, Any] | None = None):
        self.decisions = dict(decisions or {})
        self.calls: list[tuple[str, dict]] = []

    def evaluate(self, decision_ref: str, inputs: dict) -> DecisionOutcome:
        if decision_ref not in self.decisions:
            raise KeyError(f"unknown decision {decision_ref!r}")
        self.calls.append((decision_ref, dict(inputs)))
        answer = self.decisions[decision_ref]
        value = answer(inputs) if callable(answer) else answer
        if isinstance(value, DecisionOutcome):
            return value
        return DecisionOutcome(value=value, record={"decision": decision_ref})
