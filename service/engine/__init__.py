"""The SpiffWorkflow adapter: validate BPMN, run instances, store their state.

Pure: no Flask, no database. The application deploys with :func:`parse_definitions`, keeps one
:class:`ProcessLibrary` and one :class:`Runtime` (with its ports), and per request loads an
instance, runs one operation, saves ``dumps()`` and writes ``drain_events()`` to the audit.

Public API
----------
``parse_definitions(files: dict[str, bytes], *, max_bytes=2 MiB) -> list[ProcessDefinition]``
    Validate BPMN files (safe XML: no DOCTYPE/entities/network, size cap; Spiff parse; reserved
    element ids; scripts and expressions compiled). Raises ``DefinitionInvalid`` with ``file``,
    ``element`` and ``line``. ``ProcessDefinition``: ``key``, ``name``, ``file``, ``xml``,
    ``called_processes``, ``decision_refs``, ``connectors``, ``message_names`` (the caller checks
    that these exist).

``ProcessLibrary().spec(key, version, sources) -> ProcessSpec``
    Parse process ``key`` (and what it calls, from ``sources``: file name -> BPMN bytes) once per
    ``(key, version)``; LRU, thread-safe.

``Runtime(decisions=None, connectors=None, clock=system_clock, script_cpu_seconds=1.0,
limits=EngineLimits())``
    ``start(spec, data, *, instance_id=None) -> Instance`` runs to the first wait state;
    ``load(spec, state) -> Instance`` rebuilds from ``Instance.dumps()``. Each operation runs
    under one CPU budget of ``script_cpu_seconds`` for everything it evaluates and under
    ``limits`` (``limits.EngineLimits``: steps, audit events, depth, stored state).

``Instance``
    ``id``, ``status`` ('waiting' | 'completed' | 'failed' | 'cancelled'), ``failure``
    (``EngineFailure`` or None), ``data``, ``user_tasks() -> list[UserTaskView]`` (assignee,
    candidates, ``due_at`` and ``follow_up_at`` evaluated when the task became ready),
    ``complete_task(task_id, data, *, actor)``, ``next_due_at()``, ``fire_due_timers(now=None)``,
    ``waiting_messages() -> list[WaitingMessage]`` (each unpacks as ``(name, correlation)``),
    ``deliver_message(name, payload)``, ``retry()``, ``cancel()``, ``dumps() -> str``,
    ``drain_events() -> list[EngineEvent]``.

Ports (``ports``): ``DecisionPort.evaluate(ref, inputs) -> DecisionOutcome(value, record)``,
``ConnectorPort.call(name, params, *, idempotency_key)`` raising ``ConnectorError(message,
bpmn_error_code=None, retryable=True)``, a clock ``() -> datetime`` (UTC aware). In-memory:
``ConnectorRegistry`` (``register(name, fn)``), ``DictDecisionPort``, ``FixedClock``.

Expressions: FEEL (``=...``), EL (``${...}``/``#{...}``, the JUEL subset of ``engine.juel``,
compiled at deploy; ``compile_juel(text).evaluate(variables, now=clock)``) or restricted Python.

Errors: ``DefinitionInvalid`` (deploy; also a cycle that cannot run), ``EngineFailure`` (a
process fault or a spent limit, naming the element; recorded on the instance, not raised,
during operations and ``dumps()``; raised by ``load`` for unreadable state), ``NotFound``
and ``Conflict`` (caller mistakes), all from ``service.errors``.
"""
from __future__ import annotations

from . import spiff_compat  # noqa: F401 - first: refuses an untested SpiffWorkflow version
from .definitions import ProcessDefinition, parse_definitions
from .instance import Instance, Runtime
from .library import ProcessLibrary, ProcessSpec
from .limits import EngineLimits
from .ports import (
    ConnectorError,
    ConnectorPort,
    ConnectorRegistry,
    DecisionOutcome,
    DecisionPort,
    DictDecisionPort,
    FixedClock,
    system_clock,
)
from .state import FORMAT_VERSION
from .views import EVENT_KINDS, EngineEvent, UserTaskView, WaitingMessage

__all__ = [
    "ConnectorError",
    "ConnectorPort",
    "ConnectorRegistry",
    "DecisionOutcome",
    "DecisionPort",
    "DictDecisionPort",
    "EVENT_KINDS",
    "EngineEvent",
    "EngineLimits",
    "FORMAT_VERSION",
    "FixedClock",
    "Instance",
    "ProcessDefinition",
    "ProcessLibrary",
    "ProcessSpec",
    "Runtime",
    "UserTaskView",
    "WaitingMessage",
    "parse_definitions",
    "system_clock",
]
