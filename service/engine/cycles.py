"""Refuse, at deploy, the cycles in a process that can never be run: checked on the parsed spec.

Two kinds, both found as cycles in the graph of task specs that remain once some nodes are taken
out (a strongly connected component with more than one node, or a node that flows to itself):

* **no gateway decides**: take out exclusive, inclusive and event-based gateways and boundary
  events. SpiffWorkflow predicts every task a definite path leads to when a workflow is created
  or a task completes, and only those nodes make a path uncertain, so a cycle without one is
  predicted without end (a ``RecursionError`` when the first instance starts, whatever the
  cycle contains);
* **no wait state**: take out every node that may wait (user and manual tasks, catch events with
  an event definition, receive tasks, event-based gateways, call activities and sub-processes,
  and any element type not known to run straight through). What remains runs without stopping:
  each pass through such a cycle is a few automatic steps, and nothing but the engine's per
  operation budget would end it.

The elements are named in the order the parser met them.
"""
from __future__ import annotations

from typing import Any, Iterable

from SpiffWorkflow.bpmn.specs.control import (BoundaryEventJoin, BoundaryEventSplit,
                                              SimpleBpmnTask, StartEventJoin, StartEventSplit)
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent, ThrowingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import (BoundaryEvent,
                                                                       EventBasedGateway,
                                                                       IntermediateCatchEvent)
from SpiffWorkflow.bpmn.specs.mixins.exclusive_gateway import ExclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.none_task import NoneTask
from SpiffWorkflow.bpmn.specs.mixins.parallel_gateway import ParallelGateway
from SpiffWorkflow.bpmn.specs.mixins.script_task import ScriptTask
from SpiffWorkflow.specs.StartTask import StartTask

from .spiff_compat import is_end_join
from .tasks import ConnectorTask, DecisionTask, ExpressionTask

__all__ = ["unbounded_cycle"]

_DECIDING = (ExclusiveGateway, InclusiveGateway, EventBasedGateway, BoundaryEvent)
_RUNS_THROUGH = (ScriptTask, DecisionTask, ConnectorTask, ExpressionTask, ExclusiveGateway,
                 InclusiveGateway, ParallelGateway, ThrowingEvent, NoneTask, SimpleBpmnTask,
                 StartTask, BoundaryEventSplit, BoundaryEventJoin, StartEventSplit, StartEventJoin)


def _undecided(spec: Any) -> bool:
    return not isinstance(spec, _DECIDING)


def _runs_through(spec: Any) -> bool:
    """Whether ``spec`` never waits: only element types known to run straight on."""
    if getattr(spec, "manual", False):
        return False
    if isinstance(spec, IntermediateCatchEvent) and not isinstance(spec, BoundaryEvent):
        return isinstance(getattr(spec, "event_definition", None), NoneEventDefinition)
    if isinstance(spec, CatchingEvent):
        return False
    return isinstance(spec, _RUNS_THROUGH) or is_end_join(spec)


_UNDECIDED = ("no exclusive, inclusive or event-based gateway decides whether to go round "
              "again, and SpiffWorkflow cannot run a cycle that nothing decides to leave")
_NO_WAIT = ("it never waits (no user task, receive task or catch event): once entered it would "
            "run until the engine stops the operation")


def unbounded_cycle(spec: Any, *, require_wait: bool = True) -> tuple[str, list[str]] | None:
    """Return ``(why, element ids)`` for the first cycle of ``spec`` that cannot run, or None.

    ``require_wait=False`` looks only for cycles no gateway decides (those that cannot even
    start); a deployed process may still loop without waiting, bounded by the operation budget.
    """
    specs = list(spec.task_specs.values())
    kinds = [(_UNDECIDED, _undecided)] + ([(_NO_WAIT, _runs_through)] if require_wait else [])
    for why, keep in kinds:
        for component in _cycles([s for s in specs if keep(s)]):
            ids = [s.bpmn_id for s in specs if s in component and getattr(s, "bpmn_id", None)]
            return why, ids or [s.name for s in specs if s in component]
    return None


def _cycles(nodes: list) -> Iterable[set]:
    """Yield the strongly connected components among ``nodes`` that contain a cycle (Tarjan's
    algorithm, iterative: a large process must not exhaust the Python stack)."""
    members = set(map(id, nodes))
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list = []
    counter = 0
    for root in nodes:
        if id(root) in index:
            continue
        work = [(root, iter(_outputs(root, members)))]
        index[id(root)] = low[id(root)] = counter
        counter += 1
        stack.append(root)
        on_stack.add(id(root))
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if id(child) not in index:
                    index[id(child)] = low[id(child)] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(id(child))
                    work.append((child, iter(_outputs(child, members))))
                elif id(child) in on_stack:
                    low[id(node)] = min(low[id(node)], index[id(child)])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[id(parent)] = min(low[id(parent)], low[id(node)])
            if low[id(node)] == index[id(node)]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(id(member))
                    component.append(member)
                    if member is node:
                        break
                if len(component) > 1 or node in _outputs(node, members):
                    yield set(component)


def _outputs(spec: Any, members: set[int]) -> list:
    return [out for out in spec.outputs if id(out) in members]
