"""Input and output mappings of an activity (``camunda:inputOutput``, ``zeebe:ioMapping``).

Both Camunda dialects give an activity local variables: each *input* is evaluated against the
process data when the activity starts and visible only inside it (its form, its scripts, the
worker of an external task, the connector call); each *output* is evaluated against the
activity's data when it ends and written to the process. We run that on SpiffWorkflow's
per-task data: inputs overwrite the task's copy (the values they hide are kept in
``internal_data``), and on completion the outputs are computed, the hidden values restored (or
the locals dropped) and the outputs written. What the activity sets under other names (a form's
fields, a worker's variables) still reaches the process, as in Camunda.

A parameter's value is a :class:`Literal`, an expression text (FEEL ``=``, EL ``${}``, or
restricted Python), or a list or dict of values (``camunda:list``/``camunda:map``). Zeebe targets
may be dotted paths (``customer.address.city``).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Callable, Mapping

__all__ = ["IO_HOOKS", "IoMapping", "Literal", "Parameter", "Variable", "evaluate_parameters",
           "evaluate_value", "set_path", "shadow"]

_SHADOW = "omniflow_io_shadow"


@dataclass(frozen=True)
class Literal:
    """A constant written in the model (Camunda: text without ``${}``; Zeebe: no ``=``)."""

    value: Any


@dataclass(frozen=True)
class Variable:
    """The value of a process variable by name (``camunda:in source=``), ``None`` if unset."""

    name: str


@dataclass(frozen=True)
class Parameter:
    target: str
    value: Any            # Literal | expression text | list | dict of those


@dataclass(frozen=True)
class IoMapping:
    inputs: tuple[Parameter, ...] = ()
    outputs: tuple[Parameter, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.inputs or self.outputs)


def evaluate_value(value: Any, evaluate: Callable[[str], Any], data: Mapping[str, Any]) -> Any:
    """Evaluate a parameter value tree; ``evaluate(text)`` evaluates one expression against
    ``data``, which :class:`Variable` values read directly."""
    if isinstance(value, Literal):
        return copy.deepcopy(value.value)
    if isinstance(value, Variable):
        return copy.deepcopy(data.get(value.name))
    if isinstance(value, dict):
        return {k: evaluate_value(v, evaluate, data) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [evaluate_value(v, evaluate, data) for v in value]
    return evaluate(value)


def evaluate_parameters(task: Any, parameters: tuple[Parameter, ...],
                        data: Mapping[str, Any] | None = None) -> list[tuple[str, Any]]:
    """Evaluate parameters in order against ``data`` (default: ``task``'s data) with the task's
    instance engine; a failure names the task's element."""
    engine = task.workflow.script_engine
    scope = task.data if data is None else data
    return [(p.target, evaluate_value(p.value, lambda text: engine.evaluate_in(task, text, scope),
                                      scope))
            for p in parameters]


def shadow(task: Any, names: list[str]) -> None:
    """Make ``names`` local to ``task``: dropped (or restored) when it completes."""
    hidden = task.internal_data.setdefault(_SHADOW, {})
    for name in names:
        if name not in hidden:
            hidden[name] = {"value": copy.deepcopy(task.data[name])} if name in task.data else {}


def set_path(data: dict, target: str, value: Any) -> None:
    """Set ``data[a][b]`` for target ``a.b`` (intermediate maps created), or ``data[target]``."""
    parts = target.split(".")
    for part in parts[:-1]:
        nested = data.get(part)
        if not isinstance(nested, dict):
            nested = data[part] = {}
        data = nested
    data[parts[-1]] = value


def apply_inputs(task: Any, mapping: IoMapping) -> None:
    """Make the inputs local variables of ``task`` (once per activation)."""
    if not mapping.inputs or _SHADOW in task.internal_data:
        return
    values = evaluate_parameters(task, mapping.inputs)
    shadow(task, [target.split(".")[0] for target, _ in values])
    for target, value in values:
        set_path(task.data, target, value)


def apply_outputs(task: Any, mapping: IoMapping) -> None:
    """Compute the outputs from the activity's data, drop its locals, write the outputs."""
    values = evaluate_parameters(task, mapping.outputs)
    for name, hidden in task.internal_data.pop(_SHADOW, {}).items():
        if "value" in hidden:
            task.data[name] = hidden["value"]
        else:
            task.data.pop(name, None)
    for target, value in values:
        set_path(task.data, target, value)


def _on_update(workflow: Any, task: Any) -> None:
    mapping = getattr(task.task_spec, "io_mapping", None)
    if mapping:
        apply_inputs(task, mapping)


def _on_completed(workflow: Any, task: Any) -> None:
    mapping = getattr(task.task_spec, "io_mapping", None)
    if mapping and mapping.outputs or _SHADOW in task.internal_data:
        apply_outputs(task, mapping or IoMapping())


#: Connected to every task spec by ``library.finalize``: SpiffWorkflow emits ``update_event``
#: right after a task inherits its parent's data (before a call activity copies data into its
#: sub-process) and ``completed_event`` after the task's own completion work (before a
#: multi-instance parent merges it, which is connected later).
IO_HOOKS: tuple[tuple[str, Callable], ...] = (
    ("update_event", _on_update),
    ("completed_event", _on_completed),
)
