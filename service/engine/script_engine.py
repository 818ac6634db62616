"""The per-instance script engine: SpiffWorkflow's one door to expressions and the outside.

SpiffWorkflow calls ``workflow.script_engine`` for every script, condition, timer and loop
expression. We give each loaded instance its own :class:`InstanceScriptEngine`, which:

* evaluates FEEL (``=``) with ``service.decisions.feel`` and everything else in the restricted
  :class:`~service.sandbox.python.Sandbox` (never plain ``eval``/``exec``);
* runs business rule tasks through the ``DecisionPort`` and service tasks through the
  ``ConnectorPort`` (called by ``tasks.DecisionTask``/``ConnectorTask``);
* owns the instance's clock reading (``now``) and its event :class:`Recorder`.

Every fault raised here is an :class:`EngineFailure` naming the BPMN element and task, so the
instance can record it once and the caller can open an incident.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from service.errors import EngineFailure
from service.sandbox import BudgetExceeded
from service.sandbox.python import Sandbox, ScriptError, ScriptRejected
from service.sandbox.sizes import check_storable

from .catching import route_error
from .expressions import ExpressionError, classify, evaluate_feel
from .io_mapping import evaluate_parameters
from .juel import JuelError, JuelEvaluationError, compile_juel
from .ports import ConnectorError, ConnectorPort, DecisionOutcome, DecisionPort
from .recorder import Recorder

__all__ = ["EXTERNAL_KEY", "InstanceScriptEngine", "task_failure"]

#: ``internal_data`` key of an external task waiting for a worker: ``{"topic", "since"}``.
EXTERNAL_KEY = "omniflow_external"


def task_failure(task: Any, message: str, *, retryable: bool = False, **extra: Any) -> EngineFailure:
    """Build the EngineFailure for a fault at ``task`` (element id, name and task id attached)."""
    spec = task.task_spec
    element = getattr(spec, "bpmn_id", None) or spec.name
    label = getattr(spec, "bpmn_name", None) or element
    return EngineFailure(f"{label!r} ({element}): {message}", element=element,
                         task_id=str(task.id), retryable=retryable, **extra)


class _SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """What SpiffWorkflow reaches through ``script_engine.environment`` (ad hoc sub-process
    conditions, message correlations): the same sandbox, so no path falls back to ``eval``."""

    def __init__(self, engine: "InstanceScriptEngine"):
        super().__init__({})
        self.engine = engine

    def evaluate(self, expression, context, external_context=None):
        scope = dict(external_context or {})
        scope.update(context)
        return self.engine.evaluate_text(expression, scope)

    def execute(self, script, context, external_context=None):
        self.engine.sandbox.execute(script, context)
        return True

    def call_service(self, context, **kwargs):
        raise NotImplementedError("service tasks run through connectors")


class InstanceScriptEngine(PythonScriptEngine):
    """Evaluate and execute for one instance; see the module docstring."""

    def __init__(self, *, sandbox: Sandbox, decisions: DecisionPort | None,
                 connectors: ConnectorPort | None, clock: Callable[[], datetime], instance_id: str):
        super().__init__(environment=_SandboxEnvironment(self))
        self.sandbox = sandbox
        self.decisions = decisions
        self.connectors = connectors
        self.clock = clock
        self.instance_id = instance_id
        self.now_override: datetime | None = None
        self.recorder = Recorder(self.now)
        # Whether a repeating timer may fire once more in this operation (set by the instance).
        self.may_fire_timers: Callable[[], bool] = lambda: True

    def now(self) -> datetime:
        return self.now_override or self.clock()

    # -- expressions and scripts ------------------------------------------------------------

    def evaluate_text(self, text: str, data: dict) -> Any:
        """Evaluate an expression outside a task (properties, due dates) against ``data``."""
        language, body = classify(text)
        if language == "feel":
            return evaluate_feel(body, data)
        if language == "juel":
            return compile_juel(body).evaluate(data, now=self.now)
        return self.sandbox.evaluate(body, data)

    def evaluate(self, task, expression, external_context=None):
        scope = dict(external_context or {})
        scope.update(task.data)
        return self.evaluate_in(task, expression, scope)

    def evaluate_in(self, task, expression, data):
        """Evaluate against ``data`` (not the task's own); failures name ``task``'s element."""
        try:
            return self.evaluate_text(expression, data)
        except EngineFailure:
            raise
        except BudgetExceeded as exc:
            raise task_failure(task, f"expression {expression!r} stopped: {exc}",
                               limit=exc.kind) from exc
        except (ExpressionError, ScriptRejected, JuelError) as exc:
            raise task_failure(task, f"expression {expression!r} refused: {exc}") from exc
        except (JuelEvaluationError, ScriptError) as exc:
            raise task_failure(task, f"expression {expression!r} failed: {exc}") from exc
        except Exception as exc:  # the analyst's expression failed: name it and the element
            raise task_failure(task, f"expression {expression!r} failed: {type(exc).__name__}: {exc}") from exc

    def execute(self, task, script, external_context=None):
        try:
            self.sandbox.execute(script, task.data)
        except BudgetExceeded as exc:
            raise task_failure(task, f"script stopped: {exc}", limit=exc.kind) from exc
        except ScriptRejected as exc:
            raise task_failure(task, f"script refused: {exc}") from exc
        except ScriptError as exc:
            raise task_failure(task, f"script failed: {exc}") from exc
        except EngineFailure:
            raise
        except Exception as exc:
            raise task_failure(task, f"script failed: {type(exc).__name__}: {exc}") from exc
        return True

    def call_service(self, task, **kwargs):
        raise task_failure(task, "service tasks run through connectors, not call_service")

    def _check_storable(self, task: Any, name: str, value: Any) -> None:
        """Fail at ``task`` when ``value`` is too large or has no JSON form: a decision or
        connector result, or connector parameters (stored in the outbox), as for scripts."""
        try:
            check_storable(name, value, self.sandbox.max_variable_chars)
        except (BudgetExceeded, ValueError) as exc:
            raise task_failure(task, str(exc), limit="size") from exc

    # -- decisions --------------------------------------------------------------------------

    def run_decision(self, task: Any, spec: Any) -> None:
        if self.decisions is None:
            raise task_failure(task, "no decision port is configured")
        inputs = dict(task.data)
        try:
            binding = getattr(spec, "binding", None)
            outcome = self.decisions.evaluate(spec.decision_ref, inputs, binding=binding) \
                if binding is not None else self.decisions.evaluate(spec.decision_ref, inputs)
        except EngineFailure:
            raise
        except Exception as exc:
            raise task_failure(task, f"decision {spec.decision_ref!r} failed: {exc}",
                               decision=spec.decision_ref) from exc
        if not isinstance(outcome, DecisionOutcome):
            outcome = DecisionOutcome(value=outcome)
        try:
            result = map_decision_result(outcome.value, spec.mapping)
        except ValueError as exc:
            raise task_failure(task, f"decision {spec.decision_ref!r}: {exc}") from exc
        target = spec.result_variable
        if not target and not isinstance(result, dict):
            # one output column: its value goes under the column's name, as SpiffWorkflow
            # stores it; a column without a name of its own, under the decision id
            target = outcome.outputs[0] if len(outcome.outputs) == 1 else spec.decision_ref
        self._check_storable(task, target or spec.decision_ref, result)
        if target:
            task.data[target] = result
        else:
            task.data.update(result)
        self.recorder.emit("decision_evaluated", task, decision=spec.decision_ref,
                           mapping=spec.mapping, result=result, record=outcome.record)

    # -- connectors -------------------------------------------------------------------------

    def run_connector(self, task: Any, spec: Any) -> bool | None:
        params = dict(evaluate_parameters(task, spec.params))
        return self._call(task, spec.connector, params, spec.result_variable)

    def run_external(self, task: Any, spec: Any) -> bool | None:
        """Run an external task with the service's own connector for its topic, if it has one
        (``ConnectorPort.handles``; a port without it runs every topic, as before), else leave
        it waiting for a worker."""
        port = self.connectors
        handles = getattr(port, "handles", None)
        if port is not None and (handles is None or handles(spec.topic)):
            mapping = getattr(spec, "io_mapping", None)
            names = [p.target.split(".")[0] for p in (mapping.inputs if mapping else ())]
            params = {name: task.data.get(name) for name in names}
            return self._call(task, spec.topic, params, spec.result_variable)
        task.internal_data[EXTERNAL_KEY] = {"topic": spec.topic, "since": self.now().isoformat()}
        self.recorder.emit("external_task_created", task, topic=spec.topic)
        return None

    def _call(self, task: Any, name: str, params: dict, result_variable: str) -> bool | None:
        if self.connectors is None:
            raise task_failure(task, "no connector port is configured")
        self._check_storable(task, f"{name} parameters", params)
        key = f"{self.instance_id}:{task.id}"
        try:
            result = self.connectors.call(name, params, idempotency_key=key)
        except ConnectorError as exc:
            self.recorder.emit("connector_called", task, connector=name, params=params,
                               idempotency_key=key, error=exc.message,
                               bpmn_error_code=exc.bpmn_error_code)
            if exc.bpmn_error_code and route_error(task, exc.bpmn_error_code, exc.message,
                                                   {"error_code": exc.bpmn_error_code,
                                                    "message": exc.message}):
                return None
            raise task_failure(task, f"connector {name!r} failed: {exc.message}",
                               retryable=exc.retryable, connector=name,
                               bpmn_error_code=exc.bpmn_error_code) from exc
        self._check_storable(task, result_variable, result)
        task.data[result_variable] = result
        self.recorder.emit("connector_called", task, connector=name, params=params,
                           idempotency_key=key, result=result)
        return True


def map_decision_result(value: Any, mapping: str) -> Any:
    """Shape a decision value the way Camunda's ``mapDecisionResult`` does."""
    if not isinstance(value, (list, dict)):
        return value
    rows = value if isinstance(value, list) else [value]
    if mapping == "resultList":
        return rows
    if mapping == "dmnResult":
        # Camunda 8: the decision's value as FEEL has it; one output column is the bare value.
        values = [next(iter(r.values())) if isinstance(r, dict) and len(r) == 1 else r for r in rows]
        return None if not values else values[0] if len(values) == 1 else values
    if mapping == "collectEntries":
        out = []
        for row in rows:
            if isinstance(row, dict):
                if len(row) != 1:
                    raise ValueError(f"collectEntries needs one output per rule, got {sorted(row)}")
                out.append(next(iter(row.values())))
            else:
                out.append(row)
        return out
    if len(rows) > 1:
        raise ValueError(f"{mapping} expects at most one matched rule, got {len(rows)}")
    if not rows:
        return None
    row = rows[0]
    if mapping == "singleEntry" and isinstance(row, dict):
        if len(row) != 1:
            raise ValueError(f"singleEntry needs exactly one output, got {sorted(row)}")
        return next(iter(row.values()))
    return row
