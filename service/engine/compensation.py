"""Compensation: undo completed work by running its handlers, newest first.

SpiffWorkflow has no compensation. The model (BPMN 2.0, as Camunda runs it):

* an activity with a compensation boundary event is associated with a *handler* activity
  (``isForCompensation="true"``, no sequence flows). When such an activity completes, it is
  recorded in its scope (process or sub-process) as compensable (:data:`COMPENSATION_HOOKS`;
  the record lives in the scope's root task, which pruning keeps);
* a compensation throw event (intermediate or end, :class:`CompensationThrow`) runs the
  handlers of its scope's recorded activities in reverse order of completion, one after the
  other, and continues when the last one is done (``waitForCompletion``, Camunda's default);
  with ``activityRef`` only that activity's handlers run. Each record is compensated once.

A handler is a normal activity of the same process: a service, external, script or user task,
with the process data as it is when compensation runs. Handlers of activities inside an
embedded sub-process that already completed are not run from the enclosing scope (the
sub-process's records end with it); throw the compensation inside the sub-process instead.
"""
from __future__ import annotations

from typing import Any, Callable

from SpiffWorkflow.spiff.specs.spiff_task import SpiffBpmnTask
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

from .spiff_compat import add_child, force_state, refresh

__all__ = ["COMPENSATION_HOOKS", "CompensationThrow"]

_LOG = "omniflow_compensable"
_PENDING = "omniflow_compensating"


def _log(workflow: Any) -> list:
    return workflow.task_tree.internal_data.setdefault(_LOG, [])


class CompensationThrow(SpiffBpmnTask):
    """An intermediate or end event with a ``compensateEventDefinition``."""

    def __init__(self, wf_spec, bpmn_id, activity_ref: str | None = None, **kwargs):
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.activity_ref = activity_ref

    def _run_hook(self, my_task):
        pending = my_task.internal_data.get(_PENDING)
        if pending is None:                      # first run: choose the handlers
            log = _log(my_task.workflow)
            chosen = [entry for entry in reversed(log)
                      if self.activity_ref in (None, entry["activity"])]
            for entry in chosen:
                log.remove(entry)
            pending = my_task.internal_data[_PENDING] = [entry["handler"] for entry in chosen]
            my_task.workflow.script_engine.recorder.emit(
                "compensation_started", my_task, handlers=list(pending),
                activities=[entry["activity"] for entry in chosen])
        if not pending:
            return True
        _start_next(my_task)
        return None


def _start_next(thrower: Any) -> None:
    pending = thrower.internal_data[_PENDING]
    name = pending.pop(0)
    spec = thrower.workflow.spec.task_specs[name]
    child = add_child(thrower, spec, TaskState.WAITING)
    child.internal_data["omniflow_compensates_for"] = str(thrower.id)
    refresh(child)


def _on_completed(workflow: Any, task: Any) -> None:
    spec = task.task_spec
    handler = getattr(spec, "compensation_handler", None)
    if handler is not None:
        _log(task.workflow).append({"activity": getattr(spec, "bpmn_id", spec.name),
                                    "handler": handler, "task": str(task.id)})
    if "omniflow_compensates_for" in task.internal_data:
        thrower = task.parent
        DeepMerge.merge(thrower.data, task.data)
        if thrower.internal_data.get(_PENDING):
            _start_next(thrower)
        else:
            force_state(thrower, TaskState.READY)


#: Connected to every spec's ``completed_event`` by ``library.finalize``.
COMPENSATION_HOOKS: tuple[tuple[str, Callable], ...] = (("completed_event", _on_completed),)
