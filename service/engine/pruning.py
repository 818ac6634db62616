"""Keep a long-lived instance's task tree as small as its live state, not its history.

SpiffWorkflow never forgets a finished task: every pass through a loop hangs about four more
tasks below the last one, so a load-run-save cycle gets slower and the stored state larger with
every pass, and past depth 1,000 SpiffWorkflow's tree iterators stop looking (the ready task is
no longer seen and the instance "completes"). History belongs to the audit trail (the recorder's
events), so we cut it from the tree:

0. a repeating (cycle) timer's duplicate waiting join instances are dropped (one is kept);
1. sub-process workflows whose sub-process task has finished (or is gone) are dropped;
2. finished leaves (completed/cancelled tasks with no children) are removed;
3. a completed task with a single child is spliced out: the child takes its place under its
   parent (task data is held in full in memory, and the serializer stores each task's data as a
   delta against its parent at save time, so nothing is lost).

What must stay, because SpiffWorkflow looks at it later:

* the root task (the serializer's anchor) and anything not finished;
* the nearest ancestor named by a pending join's ``split_task`` (boundary-event and start-event
  joins find their split with ``find_ancestor``), and that split's direct children;
* the parent of every join instance of a parallel/inclusive/end join (``UnstructuredJoin``
  reads ``task.parent`` of its other instances to know which inputs arrived and merges their
  data), and cancelled join instances while that join is still pending (they count as arrived
  inputs); once it fired they only carry stale data of earlier loop passes. For the process end join, their
  branch data is merged into the workflow data before removal, as the end join would have;
* the last merged child of a running multi-instance task (its completion condition reads it).
"""
from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask, MultiInstanceTask
from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

from .spiff_compat import child_ids, is_end_join, parent_id, remove_child, splice_out

__all__ = ["prune", "max_depth"]

_FINISHED = TaskState.COMPLETED | TaskState.CANCELLED


def prune(workflow: Any) -> int:
    """Prune the top-level ``workflow`` and its sub-processes in place; return tasks removed."""
    removed = _drop_finished_subprocesses(workflow)
    for wf in [workflow, *workflow.subprocesses.values()]:
        removed += _prune_tree(wf)
    return removed


def max_depth(workflow: Any) -> int:
    """Return the deepest task depth of the top workflow or any sub-process."""
    deepest = 0
    for wf in [workflow, *workflow.subprocesses.values()]:
        stack = [(wf.task_tree, 0)]
        while stack:
            task, depth = stack.pop()
            deepest = max(deepest, depth)
            stack.extend((wf.tasks[c], depth + 1) for c in child_ids(task) if c in wf.tasks)
    return deepest


def _drop_finished_subprocesses(workflow: Any) -> int:
    removed = 0
    changed = True
    while changed:
        changed = False
        owners = {}
        for wf in [workflow, *workflow.subprocesses.values()]:
            owners.update(wf.tasks)
        for sp_id in list(workflow.subprocesses):
            owner = owners.get(sp_id)
            if owner is None or owner.has_state(_FINISHED):
                removed += len(workflow.subprocesses.pop(sp_id).tasks)
                changed = True
    return removed


def _postorder(root: Any, tasks: dict) -> list:
    order, stack = [], [(root, False)]
    while stack:
        task, expanded = stack.pop()
        if expanded:
            order.append(task)
            continue
        stack.append((task, True))
        stack.extend((tasks[c], False) for c in reversed(child_ids(task)) if c in tasks)
    return order


def _protected(wf: Any) -> set:
    """Ids that must stay: split tasks still needed by a pending join, and their children."""
    keep = set()
    for task in wf.tasks.values():
        spec = task.task_spec
        split = getattr(spec, "split_task", None)
        if split and isinstance(spec, Join) and not task.has_state(_FINISHED):
            ancestor = task.parent
            while ancestor is not None and ancestor.task_spec.name != split:
                ancestor = ancestor.parent
            if ancestor is not None:
                keep.add(ancestor.id)
                keep.update(child_ids(ancestor))
    return keep


def _join_status(wf: Any) -> tuple[set, dict]:
    pending, last_fired = set(), {}
    for task in wf.tasks.values():
        spec = task.task_spec
        if not isinstance(spec, UnstructuredJoin):
            continue
        if not task.has_state(_FINISHED):
            pending.add(spec.name)
        elif task.state == TaskState.COMPLETED:
            last_fired[spec.name] = max(last_fired.get(spec.name, 0.0), task.last_state_change)
    return pending, last_fired


def _drop_cycle_join_duplicates(wf: Any) -> int:
    """A repeating timer adds a waiting join instance on every firing; one is enough.

    The non-interrupting cycle boundary event creates a child for each of its outputs each time
    it fires, including the boundary join, which then waits for the main task. The waiting copies
    are identical (same parent, nothing below them); all but the newest are dropped.
    """
    removed = 0
    for task in list(wf.tasks.values()):
        definition = getattr(task.task_spec, "event_definition", None)
        if not isinstance(definition, CycleTimerEventDefinition):
            continue
        seen = set()
        for child_id in reversed(list(child_ids(task))):
            child = wf.tasks.get(child_id)
            if child is None or not isinstance(child.task_spec, Join) or child_ids(child):
                continue
            if child.state != TaskState.WAITING:
                continue
            if child.task_spec.name in seen:
                remove_child(task, child_id)
                del wf.tasks[child_id]
                removed += 1
            seen.add(child.task_spec.name)
    return removed


def _prune_tree(wf: Any) -> int:
    tasks = wf.tasks
    root = wf.task_tree
    removed = _drop_cycle_join_duplicates(wf)
    protected = _protected(wf)
    pending_joins, last_fired = _join_status(wf)
    subprocesses = wf.top_workflow.subprocesses
    for task in _postorder(root, tasks):
        if task is root or task.id in protected or not task.has_state(_FINISHED):
            continue
        if task.id in subprocesses:
            continue
        parent = tasks.get(parent_id(task))
        if parent is None:
            continue
        spec = task.task_spec
        if isinstance(spec, MultiInstanceTask):
            merged = task.internal_data.get("merged")
            if merged and len(merged) > 1:
                task.internal_data["merged"] = merged[-1:]
        children = child_ids(task)
        if not children:
            if isinstance(spec, UnstructuredJoin) and task.state == TaskState.CANCELLED:
                if is_end_join(spec):
                    DeepMerge.merge(wf.data, parent.data)
                elif spec.name in pending_joins and task.last_state_change > last_fired.get(spec.name, -1.0):
                    continue
            if isinstance(parent.task_spec, LoopTask) and not parent.has_state(_FINISHED):
                merged = parent.internal_data.get("merged") or []
                if merged and merged[-1] == str(task.id):
                    continue
            remove_child(parent, task.id)
            del tasks[task.id]
            removed += 1
        elif len(children) == 1 and task.state == TaskState.COMPLETED:
            child = tasks.get(children[0])
            if child is None or isinstance(child.task_spec, UnstructuredJoin):
                continue
            splice_out(task, parent, child)
            del tasks[task.id]
            removed += 1
    if wf.last_task is not None and wf.last_task.id not in tasks:
        wf.last_task = None
    return removed
