"""Every use of SpiffWorkflow's private internals, for the one version they were checked on.

The engine needs a few things SpiffWorkflow does not publish: the task tree's id lists (pruning
rewires them), the process end join's class, one pass of the engine loop with callbacks, the
re-evaluation of a waiting task, forcing a failed task back to ready, the serializer's encoder
mode and the Spiff extension reader; and one replaced method, ``Task._set_state``, whose log
line is built only when it is written. Nothing else in ``service`` may touch a ``._`` attribute
of a SpiffWorkflow object: it goes through a function here, whose docstring says what we assume.

``tests/engine/test_spiff_compat.py`` checks each assumption against the installed SpiffWorkflow.
An untested version is refused at import, because a changed internal would not fail cleanly:
it would silently corrupt stored instances (a pruned tree that SpiffWorkflow reads differently).
To adopt a new version: run that test file against it, adapt the functions here, then add the
version to ``TESTED_VERSIONS``.
"""
from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from importlib.metadata import version as installed_version
from typing import Any, Callable, Iterator
from uuid import UUID

from SpiffWorkflow import task as spiff_task_module
from SpiffWorkflow.bpmn.specs.control import _EndJoin
from SpiffWorkflow.spiff.parser.task_spec import SpiffTaskParser
from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.task import TaskState

__all__ = ["TESTED_VERSIONS", "add_child", "check_version", "child_ids", "copy_task_attrs",
           "encoder_mode", "force_state", "install_lazy_state_logging", "instances_of",
           "is_end_join", "parent_id", "predict",
           "refresh", "remove_child", "run_ready_tasks", "spiff_extensions", "splice_out"]

TESTED_VERSIONS = ("3.2.0",)


def check_version(found: str) -> None:
    """Raise ImportError unless ``found`` is a SpiffWorkflow version the engine was checked on."""
    if found not in TESTED_VERSIONS:
        raise ImportError(
            f"SpiffWorkflow {found} is installed, but the Omniflow engine was only checked on "
            f"{', '.join(TESTED_VERSIONS)} (requirements.txt pins it). The engine relies on "
            "SpiffWorkflow internals that change between versions: install the pinned version, "
            "or run tests/engine/test_spiff_compat.py against the new one, adapt "
            "service/engine/spiff_compat.py and add the version to TESTED_VERSIONS.")


check_version(installed_version("SpiffWorkflow"))


# -- logging --------------------------------------------------------------------------------

def _set_state_logging_lazily(self, value: int) -> None:
    """``Task._set_state`` of 3.2.0 with its log line built only when the logger will write it.

    The original formats the state name and collects the task's log extras (a dict built per
    call, and ``TaskState.get_name`` builds another) at every state change, before the logger
    looks at its level: about a tenth of the engine's time, for lines that are off by default
    (``OMNIFLOW_ENGINE_LOG``). Same state change, same records when the logger is on.
    """
    if value != self.state:
        elapsed = time.time() - self.last_state_change
        self.last_state_change = time.time()
        self._state = value
        if _task_logger.isEnabledFor(logging.INFO):
            _task_logger.info(f"State changed to {TaskState.get_name(value)}",
                              extra=self.collect_log_extras({"elapsed": elapsed}))
    elif _task_logger.isEnabledFor(logging.DEBUG):
        _task_logger.debug(f"State set to {TaskState.get_name(value)}",
                           extra=self.collect_log_extras())


def install_lazy_state_logging() -> None:
    """Put :func:`_set_state_logging_lazily` in place of ``Task._set_state`` (at import)."""
    SpiffTask._set_state = _set_state_logging_lazily


_task_logger = spiff_task_module.logger
install_lazy_state_logging()


# -- the task tree ------------------------------------------------------------------------

def child_ids(task: Any) -> list[UUID]:
    """The ids of ``task``'s children, in order: the list itself, not a copy.

    ``Task.children`` builds Task objects from this list on every access, which pruning cannot
    afford on every node; read it, and change it only through the functions below.
    """
    return task._children


def parent_id(task: Any) -> UUID | None:
    """The id of ``task``'s parent (``None`` for the root), without a lookup in the task dict."""
    return task._parent


def remove_child(parent: Any, child_id: UUID) -> None:
    """Unlink a child from ``parent``; the caller removes it from ``workflow.tasks``."""
    parent._children.remove(child_id)


def splice_out(task: Any, parent: Any, child: Any) -> None:
    """Put ``child`` in ``task``'s place under ``parent`` (``task`` had ``child`` as its only
    child); the caller removes ``task`` from ``workflow.tasks``."""
    index = parent._children.index(task.id)
    parent._children[index] = child.id
    child._parent = parent.id


def is_end_join(spec: Any) -> bool:
    """Whether ``spec`` is the join SpiffWorkflow puts before a process's end (``<id>.EndJoin``):
    it merges every branch's data into the workflow data, which pruning must do for it when it
    removes a cancelled branch of it."""
    return isinstance(spec, _EndJoin)


# -- running ------------------------------------------------------------------------------

def run_ready_tasks(workflow: Any, will_complete: Callable[[Any], None] | None,
                    did_complete: Callable[[Any], None] | None) -> bool:
    """Run one pass of ready automatic tasks (sub-processes first); return whether it progressed.

    ``BpmnWorkflow.do_engine_steps`` loops over this until nothing moves, with no way in between
    to prune the tree or stop a loop that never waits; we drive the passes ourselves.
    ``will_complete(task)`` runs before and ``did_complete(task)`` after each task.

    This is ``BpmnWorkflow._do_engine_steps`` of 3.2.0 with one change: it finds a workflow's
    ready tasks by walking the whole task tree on every pass (about a tenth of an intake, most
    passes finding nothing). Every task of a tree is also in its workflow's ``tasks`` dict, so
    :func:`_ready_tasks` scans the dicts, and walks the tree only when the order matters.
    """
    def update_workflow(wf: Any) -> int:
        count = 0
        for task in _ready_tasks(workflow, wf):
            if will_complete is not None:
                will_complete(task)
            task.run()
            count += 1
            if did_complete is not None:
                did_complete(task)
        return count

    active = workflow.get_active_subprocesses()
    for subprocess in sorted(active, key=lambda v: v.depth, reverse=True):
        while update_workflow(subprocess) > 0:
            pass
        if subprocess.parent_task_id is not None:
            task = workflow.get_task_from_id(subprocess.parent_task_id)
            task.task_spec._update(task)
    count = update_workflow(workflow)
    return count > 0 or len(workflow.get_active_subprocesses()) > len(active)


def _ready_tasks(top: Any, wf: Any) -> list:
    """The ready automatic tasks of ``wf``'s tree, in the order SpiffWorkflow's walk gives them.

    The walk from ``wf``'s root also descends into the sub-processes under it. The dict scan is
    exact when at most one task is ready in ``wf`` and none in any other sub-process of ``top``:
    then order does not matter and nothing below ``wf`` is ready. Otherwise the walk decides.
    """
    ready = [task for task in wf.tasks.values()
             if task._state == TaskState.READY and not task.task_spec.manual]
    if len(ready) <= 1 and not any(
            task._state == TaskState.READY and not task.task_spec.manual
            for other in (top, *top.subprocesses.values()) if other is not wf
            for task in other.tasks.values()):
        return ready
    return [task for task in wf.get_tasks(state=TaskState.READY) if not task.task_spec.manual]


def predict(workflow: Any) -> None:
    """Predict the path ahead of every unfinished task of ``workflow`` and its sub-workflows
    again (after a migration dropped the predictions of the old version)."""
    for wf in (workflow, *workflow.subprocesses.values()):
        wf._predict()


def refresh(task: Any) -> None:
    """Let a task re-check whether it may run: a timer whose time came, a catch that was given
    its event (``task_spec.catch``), as ``EventManager.catch`` and ``refresh_timers`` do."""
    task.task_spec._update(task)


def add_child(task: Any, spec: Any, state: int) -> Any:
    """Add a child task of ``spec`` under ``task`` that SpiffWorkflow will not remove when it
    syncs the children with the spec's outputs (``triggered``), as its multi-instance tasks
    do for each instance; used for instances, compensation handlers and event sub-processes."""
    child = task._add_child(spec, state)
    child.triggered = True
    return child


def instances_of(task: Any) -> list:
    """The instance (child) tasks of a multi-instance or loop task."""
    return list(task.task_spec._instances(task))


def copy_task_attrs(parser: Any, original: Any, loop_characteristics: Any) -> None:
    """Move a task's flows and attributes onto the multi-instance task that wraps it (the
    parser renames the original ``<id> [child]``), as SpiffWorkflow's own loop parsing does."""
    parser._copy_task_attrs(original, loop_characteristics)


def force_state(task: Any, state: int) -> None:
    """Set ``task.state`` even backwards (an ERROR task made READY again for a retry): the public
    setter refuses any move backwards."""
    task._set_state(state)


# -- serializing and parsing --------------------------------------------------------------

@contextmanager
def encoder_mode(registry: Any) -> Iterator[None]:
    """Convert with ``registry`` for a JSON encoder from ``create_encoder``.

    In this mode ``registry.convert`` leaves nested values to the encoder, which converts them
    while it writes instead of building a second, converted copy of all task data first. It is
    the mode ``BpmnWorkflowSerializer.serialize_json`` uses; the registry is not thread-safe
    while in it (see ``state``).
    """
    registry._encoder_mode = True
    try:
        yield
    finally:
        registry._encoder_mode = False


def spiff_extensions(node: Any) -> dict:
    """The ``spiffworkflow:*`` extension elements of a BPMN node, as SpiffWorkflow reads them
    (``calledDecisionId``, ``properties``, ``serviceTaskOperator``, ...)."""
    return SpiffTaskParser._parse_extensions(node)
