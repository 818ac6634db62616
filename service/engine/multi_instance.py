"""Multi-instance activities as Camunda runs them, on SpiffWorkflow's multi-instance specs.

* the collection may be an expression (``camunda:collection="${reviewers}"``,
  ``zeebe:loopCharacteristics inputCollection="=items"``), evaluated when the activity starts
  (:class:`ExpressionReference`); a plain name reads that variable;
* each instance gets ``loopCounter`` (0, 1, ...) and its element variable as local variables,
  which do not leak into the process afterwards (SpiffWorkflow merges every child variable);
* the completion condition may read ``nrOfInstances``, ``nrOfCompletedInstances``,
  ``nrOfActiveInstances`` and ``loopCounter``.
"""
from __future__ import annotations

from copy import deepcopy
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowDataException
from SpiffWorkflow.bpmn.specs.data_spec import TaskDataReference
from SpiffWorkflow.spiff.specs.defaults import ParallelMultiInstanceTask, SequentialMultiInstanceTask
from SpiffWorkflow.util.task import TaskState

from .spiff_compat import add_child, instances_of, refresh

__all__ = ["ExpressionReference", "ParallelInstances", "SequentialInstances"]

_LOCALS = "omniflow_mi_locals"
LOOP_COUNTER = "loopCounter"


class ExpressionReference(TaskDataReference):
    """A data input given by an expression: read (evaluated) against the task's data."""

    def __init__(self, expression: str):
        super().__init__(expression)
        self.expression = expression

    def get(self, my_task: Any) -> Any:
        value = my_task.workflow.script_engine.evaluate(my_task, self.expression)
        return [] if value is None else value

    def exists(self, my_task: Any) -> bool:
        return True

    def set(self, my_task: Any, value: Any) -> None:
        raise WorkflowDataException(f"cannot write to the expression {self.expression!r}", my_task)


class _CamundaInstances:
    """Shared by the parallel and sequential kinds (mixed in before SpiffWorkflow's class)."""

    def _update_hook(self, my_task):
        if _LOCALS not in my_task.internal_data:
            names = [LOOP_COUNTER] + ([self.input_item.bpmn_id] if self.input_item else [])
            my_task.internal_data[_LOCALS] = {n: (deepcopy(my_task.data[n]) if n in my_task.data
                                                  else None) for n in names}
            my_task.internal_data[_LOCALS + "_present"] = [n for n in names if n in my_task.data]
            for name in names:        # a local of the instances, not a process variable
                my_task.data.pop(name, None)
        return super()._update_hook(my_task)

    def create_child(self, my_task, item, key_or_index=None):
        task_spec = my_task.workflow.spec.task_specs[self.task_spec]
        if not task_spec.completed_event.is_connected(self.merge_child):
            task_spec.completed_event.connect(self.merge_child)
        counter = len(instances_of(my_task))
        child = add_child(my_task, task_spec, TaskState.WAITING)
        child.data[LOOP_COUNTER] = counter
        if self.input_item is not None:
            self.input_item.set(child, deepcopy(item))
        if key_or_index is not None:
            child.internal_data["key_or_index"] = key_or_index
        else:
            child.internal_data["item"] = item
        refresh(child)

    def _drop_locals(self, my_task) -> None:
        for name in my_task.internal_data.get(_LOCALS, {}):
            my_task.data.pop(name, None)

    def add_next_child(self, my_task):
        # Sequential: the merged instance's locals must not reach the next instance.
        self._drop_locals(my_task)
        super().add_next_child(my_task)

    def merge_child(self, workflow, child):
        my_task = child.parent
        super().merge_child(workflow, child)
        self._drop_locals(my_task)
        if my_task.state == TaskState.READY:          # every instance is done: restore
            present = my_task.internal_data.get(_LOCALS + "_present", [])
            for name, value in my_task.internal_data.get(_LOCALS, {}).items():
                if name in present:
                    my_task.data[name] = value

    def check_completion_condition(self, my_task):
        merged = my_task.internal_data.get("merged", [])
        if not merged or self.condition is None:
            return None
        last = next(c for c in my_task.children if str(c.id) == merged[-1])
        instances = instances_of(my_task)
        done = sum(1 for c in instances if c.state == TaskState.COMPLETED)
        counts = {"nrOfInstances": self._total(my_task, instances), "nrOfCompletedInstances": done,
                  "nrOfActiveInstances": sum(1 for c in instances
                                             if not c.has_state(TaskState.FINISHED_MASK))}
        return my_task.workflow.script_engine.evaluate(last, self.condition, external_context=counts)

    def _total(self, my_task, instances) -> int:
        cardinality = my_task.internal_data.get("cardinality")
        if cardinality is not None:
            return cardinality
        return len(instances) + len(my_task.internal_data.get("remaining", []))


class ParallelInstances(_CamundaInstances, ParallelMultiInstanceTask):
    pass


class SequentialInstances(_CamundaInstances, SequentialMultiInstanceTask):
    pass
