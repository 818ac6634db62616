"""What one operation on one instance may do, beyond the CPU budget every evaluation shares.

An operation (start, complete a task, fire timers, deliver a message, retry) runs the engine to
the next wait state in one unit of work. The CPU budget (``Runtime(script_cpu_seconds=...)``,
``service.sandbox``) bounds its time; these bound what it leaves for the caller to write: the
automatic steps it runs and the audit events it records (each event is an audit row written in
the same transaction), the task tree it builds and the state it stores. Past any of them the
instance fails with an ``EngineFailure`` naming the element where it stopped, which the service
turns into an incident.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EngineLimits"]


@dataclass(frozen=True)
class EngineLimits:
    #: automatic tasks (scripts, gateways, decisions, connectors, events) run in one operation;
    #: a shipped process runs fewer than 50
    steps: int = 10_000
    #: events recorded for the audit trail in one operation
    events: int = 1_000
    #: task tree depth; SpiffWorkflow's task iterators stop looking at 1,000
    depth: int = 800
    #: characters of one instance's stored state (data, live tasks and their internals)
    state_chars: int = 8_000_000
    #: timer firings one ``fire_due_timers`` call may process (a cycle far behind the clock)
    timer_firings: int = 10_000
