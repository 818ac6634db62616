"""Run process instances: start, load, complete tasks, fire timers, deliver messages, save.

A :class:`Runtime` holds the ports (decisions, connectors, clock) and the script CPU limit; it
starts and loads :class:`Instance` objects. An instance is a loaded SpiffWorkflow workflow plus
its own script engine; every operation runs the engine synchronously to the next wait state (a
user task, a timer, a message catch) or the end, then prunes history (``pruning``) and scans for
events (``recorder``).

Faults in the process (a script error, a failed decision or connector, an engine limit) never
raise out of an operation: the instance records an ``error`` event and turns ``failed`` with
:attr:`Instance.failure` naming the element, which the caller stores as an incident; ``retry``
runs the failed task again. Caller mistakes (an unknown or not-ready task, a message nobody
waits for) raise :class:`NotFound` / :class:`Conflict`.
"""
from __future__ import annotations

import functools
import logging
import uuid
from datetime import datetime
from typing import Any, Callable, Iterable
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException, TaskNotFoundException
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

from service.errors import Conflict, EngineFailure, NotFound, OmniflowError
from service.sandbox import BudgetExceeded, Limits, bounded, current, ensure
from service.sandbox.python import Sandbox

from . import assignment, conditions, forms, migration
from .catching import route_error
from .conditions import live_data
from .library import ProcessSpec
from .limits import EngineLimits
from .messages import CorrelatedMessage
from .ports import ConnectorPort, DecisionPort, system_clock
from .pruning import max_depth, prune
from .recorder import json_safe, timer_due
from .script_engine import EXTERNAL_KEY, InstanceScriptEngine, task_failure
from .spiff_compat import force_state, predict, refresh, run_ready_tasks
from .stall import (all_finished, blocking_task, close_finished_scopes, finish_implicit_ends,
                    merge_leaves)
from .state import StateError, decode, encode, unstorable
from .tasks import ExternalTask, HumanTask
from .timers import fire_once, parse_when
from .views import EngineEvent, ExternalTaskView, UserTaskView, WaitingMessage, correlatable

__all__ = ["Instance", "Runtime"]

log = logging.getLogger(__name__)

#: Prune during a run once this many tasks were added since the last prune.
PRUNE_EVERY = 200


class Runtime:
    """Ports and limits shared by every instance it starts or loads.

    ``script_cpu_seconds`` is the CPU budget of one operation (start, complete, fire timers,
    deliver a message, retry): every script, expression and decision it evaluates and the
    engine's own steps share it (``service.sandbox.bounded``), so neither one expensive script nor
    a loop of many cheap steps outlives it. ``limits`` bounds the steps, audit events, tree
    depth and stored state of one operation (``limits.EngineLimits``).
    """

    def __init__(self, decisions: DecisionPort | None = None, connectors: ConnectorPort | None = None,
                 clock: Callable[[], datetime] = system_clock, script_cpu_seconds: float = 1.0,
                 limits: EngineLimits | None = None):
        self.decisions = decisions
        self.connectors = connectors
        self.clock = clock
        self.limits = limits or EngineLimits()
        self.budget = Limits(cpu_seconds=script_cpu_seconds)
        self.sandbox = Sandbox(script_cpu_seconds)

    def _engine(self, instance_id: str) -> InstanceScriptEngine:
        return InstanceScriptEngine(sandbox=self.sandbox, decisions=self.decisions,
                                    connectors=self.connectors, clock=self.clock, instance_id=instance_id)

    def start(self, spec: ProcessSpec, data: dict | None = None, *, instance_id: str | None = None,
              initiator: str | None = None, timer_fired: bool = False) -> "Instance":
        """Create an instance with ``data`` and run it to its first wait state or its end.

        ``initiator`` (who started it) is stored in the variable a start event names with
        ``camunda:initiator``. ``timer_fired`` starts a process with a timer start event as
        that timer firing now (the service schedules one case per due time, see
        ``ProcessDefinition.timer_start``) instead of waiting for it.
        """
        instance_id = instance_id or str(uuid.uuid4())
        engine = self._engine(instance_id)
        workflow = BpmnWorkflow(spec.spec, spec.subprocess_specs, script_engine=engine)
        instance = Instance(self, spec, workflow, engine, instance_id)
        data = dict(data or {})
        for start in spec.spec.task_specs.values():
            variable = getattr(start, "initiator_variable", None)
            if variable and initiator is not None:
                data.setdefault(variable, initiator)
        instance._start(data, timer_fired=timer_fired)
        return instance

    def load(self, spec: ProcessSpec, state: str | bytes) -> "Instance":
        """Rebuild an instance from :meth:`Instance.dumps` output and the cached ``spec``."""
        try:
            workflow, envelope = decode(state, spec.spec, spec.subprocess_specs)
        except StateError as exc:
            raise EngineFailure(f"cannot load instance state: {exc}") from exc
        except (SpiffWorkflowException, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise EngineFailure(f"stored state does not fit process {spec.key!r} "
                                f"version {spec.version!r}: {exc}") from exc
        if envelope.get("process") not in (None, spec.key):
            raise EngineFailure(f"state belongs to process {envelope.get('process')!r}, not {spec.key!r}")
        instance_id = envelope.get("instance_id") or str(uuid.uuid4())
        engine = self._engine(instance_id)
        workflow.script_engine = engine
        instance = Instance(self, spec, workflow, engine, instance_id)
        instance._status = envelope.get("status") or "waiting"
        instance._failure = envelope.get("failure")
        return instance

    def migrate(self, spec: ProcessSpec, state: str | bytes, mapping: dict[str, str],
                variables: dict | None = None) -> "Instance":
        """The instance in ``state`` moved onto ``spec`` (another version of its process):
        see ``migration``. Raises ``EngineFailure`` naming the element when it cannot move."""
        instance = self.load(spec, migration.rewrite(state, spec, mapping, variables))
        instance._repredict()
        return instance


def _operation(method: Callable) -> Callable:
    """Run an operation under one budget (``Runtime.budget``) for everything it evaluates, and
    count its steps and events against ``Runtime.limits`` from zero."""
    @functools.wraps(method)
    def run(self: "Instance", *args: Any, **kwargs: Any) -> Any:
        self._steps, self._events_before = 0, len(self.engine.recorder.events)
        self._fired = 0
        with bounded(self.runtime.budget):
            return method(self, *args, **kwargs)
    return run


class Instance:
    """One process instance while it is loaded. Not thread-safe: one request owns it."""

    def __init__(self, runtime: Runtime, spec: ProcessSpec, workflow: BpmnWorkflow,
                 engine: InstanceScriptEngine, instance_id: str):
        self.runtime = runtime
        self.spec = spec
        self.workflow = workflow
        self.engine = engine
        self.id = instance_id
        self._status = "waiting"
        self._failure: dict | None = None
        self._running = None            # the task the engine is running, for failures
        self._steps = 0                 # automatic steps, events and cycle timer firings of
        self._events_before = 0         # the current operation
        self._fired = 0
        engine.may_fire_timers = self._may_fire

    # -- state ------------------------------------------------------------------------------

    @property
    def status(self) -> str:
        """``waiting``, ``completed``, ``failed`` or ``cancelled``."""
        return self._status

    @property
    def failure(self) -> EngineFailure | None:
        """The fault that stopped the instance, as the EngineFailure to store as an incident."""
        if self._failure is None:
            return None
        detail = self._failure.get("detail", "engine failure")
        return EngineFailure(detail, **{k: v for k, v in self._failure.items() if k != "detail"})

    @property
    def data(self) -> dict:
        """The process data now: the workflow data once completed, else the live tasks' merged."""
        if self._status == "completed":
            return dict(self.workflow.data)
        live = [t for t in self.workflow.get_tasks(state=TaskState.DEFINITE_MASK, skip_subprocesses=True)]
        if not live:
            return dict(self.workflow.data)
        merged: dict = {}
        for task in sorted(live, key=lambda t: t.last_state_change):
            DeepMerge.merge(merged, task.data)
        return merged

    def dumps(self) -> str:
        """Return the state as JSON text (no process spec inside), pruned of finished history.

        A state that cannot be stored fails the instance here, naming the element, rather than
        the caller's save: one larger than ``limits.state_chars`` (the element holding the
        most data is named), or one holding a value with no JSON form (it is stored as its text).
        """
        if self._status not in ("completed", "cancelled"):
            self._guarded(lambda: prune(self.workflow))
        try:
            text = self._encode()
        except (TypeError, ValueError) as exc:
            task, repaired = unstorable(self.workflow)
            self._fail_at(task, f"the instance state cannot be stored: {exc}; stored "
                                f"{', '.join(repaired)} as text", limit="state")
            text = self._encode()
        limit = self.runtime.limits.state_chars
        if len(text) > limit and self._status != "failed":
            elements = [t for t in self._all_tasks() if getattr(t.task_spec, "bpmn_id", None)]
            task = max(elements or self._all_tasks(),
                       key=lambda t: (len(repr(t.data)), t.last_state_change))
            self._fail_at(task, f"the instance state is {len(text):,} characters; the limit is "
                                f"{limit:,} (the most data is here)", limit="size")
            text = self._encode()
        return text

    def _encode(self) -> str:
        return encode(self.workflow, instance_id=self.id, process=self.spec.key,
                      status=self._status, failure=self._failure)

    def drain_events(self) -> list[EngineEvent]:
        """Return the events recorded since the last drain, oldest first, and forget them."""
        return self.engine.recorder.drain()

    # -- queries ----------------------------------------------------------------------------

    def user_tasks(self) -> list[UserTaskView]:
        """Return the ready human tasks (the inbox projection of this instance)."""
        if self._status != "waiting":
            return []
        with ensure(self.runtime.budget):        # properties and assignments are expressions
            return [self._view(t) for t in self.workflow.get_tasks(state=TaskState.READY, manual=True)
                    if isinstance(t.task_spec, HumanTask)]

    def next_due_at(self) -> datetime | None:
        """Return when the earliest pending timer falls due, or ``None``.

        After ``fire_due_timers(now)`` this is later than ``now`` (or None): the worker selects
        instances by ``next_due_at <= now`` and would otherwise pick this one again at once.
        """
        if self._status != "waiting":
            return None
        dues = [timer_due(t) for t in self._waiting() if self._has_timer(t)]
        dues = [d for d in dues if d is not None]
        return min(dues) if dues else None

    def waiting_messages(self) -> list[WaitingMessage]:
        """Return the message catches waiting now, with the values they are correlated by.

        A catch that declares no correlation key of its own (most Camunda 7 and bpmn.io files)
        has ``keyed=False`` and carries the process ``variables`` it can be matched on, as
        Camunda 7 correlates: see :class:`~service.engine.views.WaitingMessage`.
        """
        if self._status != "waiting":
            return []
        found = []
        for task in self._waiting():
            for definition in self._definitions(task):
                if isinstance(definition, CorrelatedMessage):
                    keyed = bool(definition.correlation)
                    found.append(WaitingMessage(
                        definition.name, dict(task.internal_data.get("correlation", {})),
                        task.task_spec.bpmn_id, str(task.id), keyed=keyed,
                        variables={} if keyed else correlatable(live_data(task.workflow, task.data))))
        return found

    def external_tasks(self) -> list[ExternalTaskView]:
        """Return the external tasks waiting for a worker (Camunda's external tasks, Zeebe jobs)."""
        if self._status not in ("waiting", "failed"):
            return []
        out = []
        for task in self._all_tasks():
            waiting = task.internal_data.get(EXTERNAL_KEY)
            if task.state != TaskState.STARTED or waiting is None:
                continue
            spec = task.task_spec
            out.append(ExternalTaskView(
                id=str(task.id), element_id=spec.bpmn_id, name=spec.bpmn_name or spec.bpmn_id,
                topic=waiting["topic"], variables=dict(task.data), retries=spec.retries,
                priority=spec.priority, headers=dict(spec.headers), process_key=self.spec.key,
                created_at=parse_when(waiting["since"])))
        return out

    # -- operations -------------------------------------------------------------------------

    @_operation
    def complete_task(self, task_id: str, data: dict | None = None, *, actor: str) -> None:
        """Complete ready human task ``task_id`` with ``data`` and run to the next wait state."""
        self._require_waiting()
        task = self._task(task_id)
        if not isinstance(task.task_spec, HumanTask):
            raise Conflict(f"task {task_id} is not a human task", task_id=task_id)
        if task.state != TaskState.READY:
            raise Conflict(f"task {task_id} is not ready (it is {TaskState.get_name(task.state)})",
                           task_id=task_id)
        recorder = self.engine.recorder
        recorder.actor, recorder.submitted = actor, dict(data or {})
        try:
            task.task_spec.add_data_from_form(task, dict(data or {}))
            self._guarded(task.run)
        finally:
            recorder.actor, recorder.submitted = None, None
        self._advance()

    @_operation
    def fire_due_timers(self, now: datetime | None = None) -> int:
        """Fire every timer due at ``now`` (default: the clock) and run on; return how many fired.

        One call is one operation: a cycle far behind the clock fires until half the operation's
        budget (CPU, steps, events) is used, then leaves the rest due for the next call rather
        than fail the instance for catching up (``next_due_at()`` then stays ``<= now``).
        """
        if self._status != "waiting":
            return 0
        self.engine.now_override = now
        fired = 0
        try:
            while fired < self.runtime.limits.timer_firings and not (fired and self._half_spent()):
                before = {t.id: (t.state, repr(t.internal_data.get("event_value"))) for t in self._waiting()
                          if self._has_timer(t)}
                due = [t for t in self._waiting() if self._has_timer(t)
                       and (timer_due(t) or self.engine.now()) <= self.engine.now()]
                if not due:
                    break
                self._guarded(self._refresh_timers)
                after = {t.id: (t.state, repr(t.internal_data.get("event_value"))) for t in self._waiting()
                         if self._has_timer(t)}
                progressed = sum(1 for k, v in before.items() if after.get(k) != v)
                if not progressed or self._status == "failed":
                    break
                fired += progressed
                self._advance()
                if self._status != "waiting":
                    break
        finally:
            self.engine.now_override = None
        return fired

    def _may_fire(self) -> bool:
        """A repeating timer far behind the clock fires until half of this operation's budget is
        spent (firings count as events: each one runs a path later in the same operation); the
        cycles still due wait for the next operation. At least one fires in each."""
        limits = self.runtime.limits
        if self._fired and (self._fired >= limits.timer_firings or self._fired * 2 > limits.events
                            or self._half_spent()):
            return False
        self._fired += 1
        return True

    def _half_spent(self) -> bool:
        limits, budget = self.runtime.limits, current()
        return (self._steps * 2 > limits.steps
                or (len(self.engine.recorder.events) - self._events_before) * 2 > limits.events
                or budget.remaining_seconds() * 2 < budget.limits.cpu_seconds)

    def _refresh_timers(self) -> None:
        """Let every waiting timer check the clock, as ``BpmnWorkflow.refresh_timers`` does, one
        task at a time so that a fault names the timer."""
        for task in list(self.workflow.event_manager.tasks.values()):
            if isinstance(task.task_spec.event_definition,
                          (TimerEventDefinition, MultipleEventDefinition)):
                self._running = task
                refresh(task)
        self._running = None

    @_operation
    def deliver_message(self, name: str, payload: dict | None = None, *, task_id: str | None = None) -> None:
        """Deliver message ``name`` to the first waiting catch it correlates with (or to the catch
        ``task_id``, from ``waiting_messages``), and run on."""
        self._require_waiting()
        payload = dict(payload or {})
        for task in self._waiting():
            if task_id is not None and str(task.id) != str(task_id):
                continue
            for definition in self._definitions(task):
                if (isinstance(definition, CorrelatedMessage) and definition.name == name
                        and definition.matches(task.internal_data.get("correlation", {}), payload)):
                    def catch(task=task, definition=definition):
                        task.task_spec.catch(task, BpmnEvent(definition, payload=payload))
                        refresh(task)
                    self._guarded(catch)
                    self._advance()
                    return
        raise NotFound(f"instance {self.id} is not waiting for message {name!r} with that correlation",
                       message=name)

    @_operation
    def complete_external(self, task_id: str, variables: dict | None = None, *,
                          worker: str | None = None) -> None:
        """A worker finished external task ``task_id``: set its variables and run on."""
        task = self._external(task_id)
        variables = dict(variables or {})
        task.data.update(variables)
        task.internal_data.pop(EXTERNAL_KEY, None)
        self.engine.recorder.emit("external_task_completed", task, topic=task.task_spec.topic,
                                  worker=worker, variables=variables)
        self._guarded(task.complete)
        self._advance()

    @_operation
    def throw_bpmn_error(self, task_id: str, code: str, message: str | None = None,
                         variables: dict | None = None, *, worker: str | None = None) -> None:
        """A worker reports business error ``code`` for external task ``task_id``.

        The error goes to the task's error boundary event, else an error event sub-process of
        its scope, then outward (see ``catching``), as Camunda does; variables are set first.
        When nothing catches it the instance fails, naming the element and the code.
        """
        task = self._external(task_id)
        if not isinstance(code, str) or not code.strip():
            raise Conflict("a BPMN error needs an error code", task_id=task_id)
        variables = dict(variables or {})
        task.data.update(variables)
        self.engine.recorder.emit("bpmn_error_thrown", task, topic=task.task_spec.topic,
                                  error_code=code, message=message, worker=worker)
        routed = [False]

        def route():
            routed[0] = route_error(task, code, message, variables)
        self._guarded(route)
        if self._status != "waiting":
            return
        if not routed[0]:
            failure = task_failure(task, f"BPMN error {code!r} ({message or 'no message'}) was not "
                                         "caught by a boundary event or an event sub-process",
                                   bpmn_error_code=code)
            self._fail(failure.detail, **failure.extra)
            return
        task.internal_data.pop(EXTERNAL_KEY, None)
        self._advance()

    def fail_external(self, task_id: str, message: str, *, details: str | None = None,
                      retryable: bool = True) -> None:
        """Record that a worker gave up on external task ``task_id`` (Camunda: retries at 0).

        The instance fails naming the element (the caller opens an incident); the task keeps
        waiting, so :meth:`retry` makes it available to workers again.
        """
        task = self._external(task_id)
        failure = task_failure(task, f"external task {task.task_spec.topic!r} failed: {message}",
                               retryable=retryable, external=True, topic=task.task_spec.topic,
                               details=details)
        self._fail(failure.detail, **failure.extra)

    @_operation
    def retry(self) -> None:
        """Run the failed task again (after an incident was resolved) and continue."""
        if self._status != "failed":
            raise Conflict(f"instance {self.id} has not failed")
        failed = [t for t in self._all_tasks() if t.state == TaskState.ERROR]
        self._failure, self._status = None, "waiting"
        for task in failed:
            force_state(task, TaskState.READY)
        self._advance()

    def cancel(self) -> None:
        """Cancel every open task; the instance ends as ``cancelled``."""
        if self._status in ("completed", "cancelled"):
            return
        self.workflow.cancel()
        self._status = "cancelled"
        self.engine.recorder.emit("process_cancelled")

    # -- internals --------------------------------------------------------------------------

    @_operation
    def _start(self, data: dict, timer_fired: bool = False) -> None:
        start = self.workflow.task_tree
        start.data.update(data)
        if timer_fired:
            self._guarded(self._run_steps)
            for task in self._waiting():
                if isinstance(task.task_spec, StartEvent) and self._has_timer(task):
                    self._guarded(lambda task=task: fire_once(task, self.engine.now()))
        self._advance()

    def _external(self, task_id: str):
        if self._status not in ("waiting", "failed"):
            raise Conflict(f"instance {self.id} is {self._status}", status=self._status)
        task = self._task(task_id)
        if not isinstance(task.task_spec, ExternalTask) or EXTERNAL_KEY not in task.internal_data \
                or task.state != TaskState.STARTED:
            raise Conflict(f"task {task_id} is not an external task waiting for a worker",
                           task_id=task_id)
        if self._status == "failed":
            raise Conflict(f"instance {self.id} has failed; retry it first", status=self._status)
        return task

    def _require_waiting(self) -> None:
        if self._status != "waiting":
            raise Conflict(f"instance {self.id} is {self._status}", status=self._status)

    def _task(self, task_id: str):
        try:
            return self.workflow.get_task_from_id(UUID(str(task_id)))
        except (ValueError, TaskNotFoundException) as exc:
            raise NotFound(f"task {task_id} not found in instance {self.id}", task_id=str(task_id)) from exc

    def _all_tasks(self) -> Iterable:
        for wf in [self.workflow, *self.workflow.subprocesses.values()]:
            yield from wf.tasks.values()

    def _waiting(self) -> list:
        return [t for t in self.workflow.event_manager.tasks.values() if t.state == TaskState.WAITING]

    @staticmethod
    def _definitions(task) -> list:
        definition = getattr(task.task_spec, "event_definition", None)
        if isinstance(definition, MultipleEventDefinition):
            return list(definition.event_definitions)
        return [definition] if definition is not None else []

    def _has_timer(self, task) -> bool:
        return any(isinstance(d, TimerEventDefinition) for d in self._definitions(task))

    def _guarded(self, fn: Callable[[], Any], statuses: tuple[str, ...] = ("waiting",)) -> None:
        """Run an engine call; a fault fails the instance, naming the element, instead of escaping."""
        if self._status not in statuses:
            return
        try:
            fn()
        except EngineFailure as exc:
            self._fail(exc.detail, **exc.extra)
        except BudgetExceeded as exc:
            self._fail_at(self._running, f"stopped: {exc.message}", limit=exc.kind)
        except OmniflowError:
            raise
        except Exception as exc:  # SpiffWorkflow or an engine bug: an incident, not a crash
            spec = getattr(exc, "task_spec", None)          # SpiffWorkflow's WorkflowException
            task = getattr(exc, "task", None) or self._running
            if task is None and getattr(spec, "bpmn_id", None):
                self._fail(f"{spec.bpmn_name or spec.bpmn_id!r} ({spec.bpmn_id}): "
                           f"{type(exc).__name__}: {exc}", element=spec.bpmn_id)
            else:
                self._fail_at(task, f"{type(exc).__name__}: {exc}")
            log.warning("engine fault", extra={"instance": self.id, "error": str(exc)})
        finally:
            self._running = None

    def _fail_at(self, task: Any, message: str, **extra: Any) -> None:
        """Fail the instance at ``task`` (its element named), or without one; a first failure
        is kept."""
        if self._status == "failed":
            return
        if task is None:
            self._fail(message, **extra)
        else:
            failure = task_failure(task, message, **extra)
            self._fail(failure.detail, **failure.extra)

    def _fail(self, detail: str, **extra: Any) -> None:
        self._status = "failed"
        self._failure = {"detail": detail, **json_safe(extra)}
        element = extra.get("element")
        self.engine.recorder.events.append(EngineEvent(
            "error", element, None, {"message": detail, **json_safe(extra)}, self.engine.now()))

    def _repredict(self) -> None:
        """Predict the path ahead again (after a migration dropped the old predictions) and
        announce the tasks whose element changed."""
        self._guarded(lambda: predict(self.workflow))
        self._guarded(lambda: self.engine.recorder.scan(self.workflow, self._on_ready))

    def _advance(self) -> None:
        """Run automatic steps to the next wait state, then prune, check and scan."""
        self._guarded(self._run_steps)
        self._guarded(self._check_end)
        self._guarded(self._check_stall)
        self._guarded(self._check_depth)
        self._guarded(lambda: self.engine.recorder.scan(self.workflow, self._on_ready))
        # An end event may throw the message, so a completed instance sends too.
        self._guarded(self._send_thrown_messages, ("waiting", "completed"))
        self.workflow.bpmn_events = []

    def _check_depth(self) -> None:
        prune(self.workflow)
        depth, limit = max_depth(self.workflow), self.runtime.limits.depth
        if depth > limit:
            self._fail(f"task tree depth {depth} exceeds the engine limit of {limit}",
                       limit="depth")

    def _send_thrown_messages(self) -> None:
        """Messages thrown that no catch in this instance took go out as connector calls.

        ``message.send`` is an outbox connector in the service, so a throw (intermediate or end
        event, send task) reaches the other system exactly once, after the state that threw it
        is committed. Other uncaught events (signals, escalations) have no receiver outside.
        """
        for event in self.workflow.get_events():
            definition = event.event_definition
            if not isinstance(definition, MessageEventDefinition):
                continue
            if self.engine.connectors is None:
                self._fail(f"message {definition.name!r} was thrown, but no connector port is "
                           "configured to send it")
                return
            self.engine.connectors.call(
                "message.send", {"name": definition.name, "payload": event.payload,
                                 "correlation": dict(event.correlations or {})},
                idempotency_key=f"{self.id}:message:{uuid.uuid4()}")

    def _run_steps(self) -> None:
        workflow = self.workflow
        budget, limits, recorder = current(), self.runtime.limits, self.engine.recorder
        last_size = [len(workflow.tasks)]

        def will_complete(task):
            self._running = task

        def did_complete(task):
            self._steps += 1
            if self._steps > limits.steps:
                raise task_failure(task, f"more than {limits.steps:,} automatic steps in one "
                                         "operation without waiting (an endless loop?)",
                                   limit="steps")
            if len(recorder.events) - self._events_before > limits.events:
                raise task_failure(task, f"more than {limits.events:,} events in one operation "
                                         "(an endless loop?)", limit="events")
            budget.tick()           # the engine's own work counts against the operation's budget
            budget.check_time()

        while run_ready_tasks(workflow, will_complete, did_complete):
            if len(workflow.tasks) - last_size[0] > PRUNE_EVERY:
                prune(workflow)
                last_size[0] = len(workflow.tasks)
        self._refresh_timers()
        # Timers that fell due while running (refresh may make them ready) run now too, and
        # conditional events see the variables the steps changed (until nothing more fires).
        for _ in range(conditions.MAX_ROUNDS):
            while run_ready_tasks(workflow, will_complete, did_complete):
                pass
            self._running = None
            if not (conditions.refresh(workflow) | finish_implicit_ends(workflow)
                    | close_finished_scopes(workflow)):
                break

    def _check_end(self) -> None:
        workflow = self.workflow
        if not workflow.is_completed():
            return
        end = workflow.get_next_task(spec_name="End", state=TaskState.COMPLETED)
        implicit = end is None and all_finished(workflow)      # a path ended without an end event
        if implicit:
            merge_leaves(workflow)
        if end is not None or implicit or self.engine.recorder.terminated:
            self._status = "completed"
            self.engine.recorder.emit("process_completed", data=workflow.data)
        else:
            self._fail("the engine stopped without reaching an end event (an engine limit was hit)",
                       limit="no-end")

    def _check_stall(self) -> None:
        blocked = blocking_task(self.workflow)
        if blocked is not None:
            failure = task_failure(blocked, "the process stopped here with nothing to wait for (no "
                                            "user task, external task, timer, message, signal or "
                                            "condition) and no end reached", limit="stall")
            self._fail(failure.detail, **failure.extra)

    def _on_ready(self, task) -> dict:
        def evaluate(text):
            return self.engine.evaluate(task, text)
        try:
            return assignment.resolve(task, evaluate, self.engine.now())
        except (ValueError, TypeError) as exc:
            raise task_failure(task, f"assignment failed: {exc}") from exc

    def _bound(self, task, text: str):
        """A form bound's value, or None when it cannot be computed (the form then refuses)."""
        try:
            return self.engine.evaluate(task, text)
        except EngineFailure as exc:
            log.warning("form bound failed", extra={"instance": self.id, "error": exc.detail})
            return None

    def _view(self, task) -> UserTaskView:
        spec = task.task_spec
        properties = {}
        for name, value in spec.assignment.properties.items():
            if isinstance(value, str) and value.startswith("="):
                try:
                    properties[name] = self.engine.evaluate(task, value)
                except EngineFailure as exc:
                    properties[name] = None
                    log.warning("property failed", extra={"instance": self.id, "error": exc.detail})
            else:
                properties[name] = value
        resolved = assignment.resolved(task) or self._on_ready(task)
        return UserTaskView(
            id=str(task.id), element_id=spec.bpmn_id, name=spec.bpmn_name or spec.bpmn_id,
            lane=spec.assignment.lane, candidate_groups=tuple(resolved["candidate_groups"]),
            candidate_users=tuple(resolved["candidate_users"]), assignee=resolved["assignee"],
            due_at=resolved["due_at"], follow_up_at=resolved["follow_up_at"],
            form=forms.bind(spec.assignment.form, lambda text: self._bound(task, text)),
            properties=properties,
            data=dict(task.data), process_key=self.spec.key,
        )
