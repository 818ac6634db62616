"""The SpiffWorkflow adapter: validate BPMN, run instances, store their state.

Pure: no Flask, no database. The application deploys with :func:`parse_definitions`, keeps one
:class:`ProcessLibrary` and one :class:`Runtime` (with its ports), and per request loads an
instance, runs one operation, saves ``dumps()`` and writes ``drain_events()`` to the audit.

Public API
----------
``parse_definitions(files: dict[str, bytes], *, max_bytes=2 MiB, bindings=None) -> list[ProcessDefinition]``
    Validate BPMN files (safe XML: no DOCTYPE/entities/network, size cap; Spiff parse; reserved
    element ids; scripts and expressions compiled; whatever would fail when reached for a reason
    in the file refused). Raises ``DefinitionInvalid`` with ``file``, ``element`` and ``line``.
    ``bindings`` maps a BPMN file name to its connector bindings document (``bindings``:
    ``X.bindings.json`` beside ``X.bpmn``; ``pair_bindings(files)`` pairs a deployment's files).
    ``ProcessDefinition``: ``key``, ``name``, ``file``, ``xml``, ``called_processes``,
    ``decision_refs``, ``connectors``, ``message_names`` (the caller checks that these exist),
    ``message_starts``, ``external_topics``, ``timer_start``/``timer_start_kind``, ``bindings``,
    ``notes`` (see its docstring).

``ProcessLibrary().spec(key, version, sources, bindings=None) -> ProcessSpec``
    Parse process ``key`` (and what it calls, from ``sources``: file name -> BPMN bytes; a file
    given twice is parsed once) once per ``(key, version)``; LRU, thread-safe. ``bindings``: source
    name -> ``ProcessDefinition.bindings``.

``Runtime(decisions=None, connectors=None, clock=system_clock, script_cpu_seconds=1.0)``
    ``start(spec, data, *, instance_id=None, initiator=None, timer_fired=False) -> Instance`` runs
    to the first wait state (``initiator`` fills ``camunda:initiator``; ``timer_fired`` starts a
    timer-start process as that timer firing now); ``load(spec, state) -> Instance`` rebuilds
    from ``Instance.dumps()``.

``Instance``
    ``id``, ``status`` ('waiting' | 'completed' | 'failed' | 'cancelled'), ``failure``
    (``EngineFailure`` or None), ``data``, ``user_tasks() -> list[UserTaskView]`` (assignee,
    candidates, ``due_at`` and ``follow_up_at`` evaluated when the task became ready; ``form``
    may be generic, see ``forms``), ``complete_task(task_id, data, *, actor)``,
    ``next_due_at()`` (after ``fire_due_timers(now)`` later than ``now`` or None),
    ``fire_due_timers(now=None)``, ``waiting_messages() -> list[WaitingMessage]`` (each unpacks as
    ``(name, correlation)``; ``keyed`` False plus ``variables`` for a catch without its own keys),
    ``deliver_message(name, payload, *, task_id=None)``,
    ``external_tasks() -> list[ExternalTaskView]``, ``complete_external(task_id, variables, *,
    worker=None)``, ``throw_bpmn_error(task_id, code, message=None, variables=None, *,
    worker=None)`` (boundary event, else error event sub-process, outward; uncaught: the instance
    fails naming the element), ``fail_external(task_id, message, *, details=None,
    retryable=True)`` (the instance fails; ``retry()`` offers the task to workers again),
    ``retry()``, ``cancel()``, ``dumps() -> str``, ``drain_events() -> list[EngineEvent]``. An
    operation never leaves an instance waiting for nothing: it fails naming the element instead.

``timers.next_start(text, kind, after) -> datetime | None``
    When a timer start event next falls due (one case per due time).

Ports (``ports``): ``DecisionPort.evaluate(ref, inputs) -> DecisionOutcome(value, record)``,
``ConnectorPort.call(name, params, *, idempotency_key)`` raising ``ConnectorError(message,
bpmn_error_code=None, retryable=True)`` and optionally ``handles(topic) -> bool`` (external tasks
of a topic it handles are called, the others wait for a worker), a clock ``() -> datetime`` (UTC aware). In-memory:
``ConnectorRegistry`` (``register(name, fn)``), ``DictDecisionPort``, ``FixedClock``.

Expressions: FEEL (``=...``), EL (``${...}``/``#{...}``, the JUEL subset of ``engine.juel``,
compiled at deploy; ``compile_juel(text).evaluate(variables, now=clock)``) or restricted Python.

Errors: ``DefinitionInvalid`` (deploy), ``EngineFailure`` (a process fault; recorded on the
instance, not raised, during operations; raised by ``load`` for unreadable state), ``NotFound``
and ``Conflict`` (caller mistakes), all from ``service.errors``.
"""
from __future__ import annotations

from . import spiff_compat  # noqa: F401 - first: refuses an untested SpiffWorkflow version
from .bindings import BINDINGS_SUFFIX, pair_bindings
from .definitions import ProcessDefinition, parse_definitions
from .instance import Instance, Runtime
from .library import ProcessLibrary, ProcessSpec
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
from .timers import next_start
from .views import EVENT_KINDS, EngineEvent, ExternalTaskView, UserTaskView, WaitingMessage

__all__ = [
    "BINDINGS_SUFFIX",
    "ConnectorError",
    "ConnectorPort",
    "ConnectorRegistry",
    "DecisionOutcome",
    "DecisionPort",
    "DictDecisionPort",
    "EVENT_KINDS",
    "EngineEvent",
    "ExternalTaskView",
    "FORMAT_VERSION",
    "FixedClock",
    "Instance",
    "ProcessDefinition",
    "ProcessLibrary",
    "ProcessSpec",
    "Runtime",
    "UserTaskView",
    "WaitingMessage",
    "next_start",
    "pair_bindings",
    "parse_definitions",
    "system_clock",
]
