"""Move a stored instance onto another version of its process (instance migration).

A stored state holds the live tasks, the path from the root to them (finished history is
pruned) and the engine's predictions of what comes next. Migrating keeps the live tasks and
their path, renames their elements by the plan's mapping (an element id the mapping does not
name keeps its id: the default is same-id), drops the predictions, loads the state against the
target version and predicts again from there, so a task added after the active one in the
target is reached, and one removed is not. Task ids, data and timers stay.

:func:`check` says why an instance cannot move (nothing is changed): an active element, or an
element on its path, has no element in the target; a variable the target's active task reads
(its assignment) is missing from the instance's data. :func:`migrate` does it in memory; the
caller stores the result as one unit of work.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

from SpiffWorkflow.util.task import TaskState

from service.errors import EngineFailure

from .assignment import ASSIGNMENT_KEY, KEPT_DUE_KEY
from .library import ProcessSpec
from .recorder import ANNOUNCED_KEY
from .suggestions import assignment_reads
from .tasks import HumanTask

__all__ = ["Blocker", "check", "rewrite"]

_PREDICTED = (TaskState.MAYBE, TaskState.LIKELY, TaskState.FUTURE)
_ACTIVE = (TaskState.WAITING, TaskState.READY, TaskState.STARTED)


@dataclass(frozen=True)
class Blocker:
    """Why an instance cannot move: ``element`` is the source element (or the target task
    whose variable is missing), ``reason`` ``no-target`` or ``missing-variable``."""
    element: str
    reason: str
    detail: str
    variable: str | None = None

    def to_json(self) -> dict:
        return {"element": self.element, "reason": self.reason, "detail": self.detail,
                "variable": self.variable}


def _mapped(name: str, mapping: Mapping[str, str]) -> str:
    """An element id, or a name SpiffWorkflow derives from one (``x.BoundaryEventSplit``)."""
    if name in mapping:
        return mapping[name]
    head, dot, tail = name.partition(".")
    if dot and head in mapping:
        return f"{mapping[head]}.{tail}"
    return name


def _element(name: str) -> str:
    return name.partition(".")[0]


def _workflows(doc: dict):
    """(label, workflow dict, spec name) of the process and each of its sub-workflows."""
    workflow = doc["workflow"]
    yield None, workflow
    for sub in (workflow.get("subprocesses") or {}).values():
        yield sub.get("spec"), sub


def _load(state: str | bytes) -> dict:
    try:
        doc = json.loads(state)
        doc["workflow"]["tasks"]
    except (TypeError, ValueError, KeyError) as exc:
        raise EngineFailure(f"cannot read the instance state: {exc}") from exc
    return doc


def _spec_for(target: ProcessSpec, spec_name: str | None):
    if spec_name is None:
        return target.spec
    return target.subprocess_specs.get(spec_name)


def check(state: str | bytes, target: ProcessSpec, mapping: Mapping[str, str],
          data: Mapping[str, Any] | None = None) -> list[Blocker]:
    """Why the instance in ``state`` cannot move to ``target`` (empty: it can). ``data`` is
    the instance's process data plus what the plan sets."""
    doc = _load(state)
    blockers: list[Blocker] = []
    for spec_name, workflow in _workflows(doc):
        target_name = _mapped(spec_name, mapping) if spec_name else None
        spec = _spec_for(target, target_name)
        if spec_name is not None and spec is None:
            blockers.append(Blocker(spec_name, "no-target",
                                    f"sub-process {spec_name!r} has no element "
                                    f"{target_name!r} in the target"))
            continue
        for task in workflow["tasks"].values():
            if task["state"] in _PREDICTED:
                continue
            name = _mapped(task["task_spec"], mapping)
            if name not in spec.task_specs:
                active = task["state"] in _ACTIVE
                blockers.append(Blocker(
                    _element(task["task_spec"]), "no-target",
                    f"{'active' if active else 'passed'} element "
                    f"{_element(task['task_spec'])!r} has no element {_element(name)!r} in the "
                    "target (map it to one)"))
                continue
            target_task = spec.task_specs[name]
            if task["state"] in _ACTIVE and isinstance(target_task, HumanTask):
                for variable in assignment_reads(target_task):
                    if data is not None and variable not in data:
                        blockers.append(Blocker(
                            target_task.bpmn_id, "missing-variable",
                            f"task {target_task.bpmn_id!r} of the target reads {variable!r}, "
                            "which the instance does not have (set it in the plan)", variable))
    unique = {(b.element, b.reason, b.variable): b for b in blockers}
    return list(unique.values())


def _set(task: dict, variables: Mapping[str, Any]) -> None:
    """Set ``variables`` on a stored task: in its delta over its parent's data when it has
    one (what SpiffWorkflow restores from), else in its data."""
    delta = task.get("delta")
    if delta and task.get("parent") is not None:
        delta.setdefault("updates", {}).update(variables)
        delta["deletions"] = [n for n in delta.get("deletions", []) if n not in variables]
    else:
        task.setdefault("data", {}).update(variables)


def rewrite(state: str | bytes, target: ProcessSpec, mapping: Mapping[str, str],
            variables: Mapping[str, Any] | None = None) -> str:
    """The state moved onto ``target``: elements renamed, predictions dropped, ``variables``
    set on the active tasks. Raises ``EngineFailure`` when :func:`check` finds a blocker."""
    blockers = [b for b in check(state, target, mapping) if b.reason == "no-target"]
    if blockers:
        raise EngineFailure(blockers[0].detail, element=blockers[0].element)
    doc = _load(state)
    for spec_name, workflow in _workflows(doc):
        if spec_name is not None:
            workflow["spec"] = _mapped(spec_name, mapping)
        tasks = workflow["tasks"]
        dropped = {tid for tid, task in tasks.items() if task["state"] in _PREDICTED}
        for tid in dropped:
            del tasks[tid]
        for task in tasks.values():
            task["children"] = [c for c in task.get("children", []) if c not in dropped]
            old = task["task_spec"]
            task["task_spec"] = _mapped(old, mapping)
            if task["state"] in _ACTIVE:
                if task["task_spec"] != old:
                    # resolved and announced again from the target; its times stay
                    internal = task.setdefault("internal_data", {})
                    stored = internal.pop(ASSIGNMENT_KEY, None)
                    internal.pop(ANNOUNCED_KEY, None)
                    if isinstance(stored, dict):
                        internal[KEPT_DUE_KEY] = {k: stored.get(k)
                                                  for k in ("due_at", "follow_up_at")}
                if variables:
                    _set(task, variables)
        if workflow.get("last_task") in dropped:
            workflow["last_task"] = None
    doc["process"] = target.key
    return json.dumps(doc, separators=(",", ":"))
