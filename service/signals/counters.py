"""What detection did in this process, counted for the service to expose (health, metrics).

Counts start at zero with the process; the signal table holds the durable record (each
signal's status and outcome), these say what happened lately without a query.

    processed     signals whose outcome a consumer committed
    late          of those, signals that came too late for a window (status or outcome "late")
    redelivered   broker messages seen again after a consumer died or let them go (JetStream)
    already_done  redelivered messages whose signal already had an outcome: acknowledged only
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field, fields


@dataclass
class Counters:
    processed: int = 0
    late: int = 0
    redelivered: int = 0
    already_done: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)

    def snapshot(self) -> dict:
        with self._lock:
            return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "_lock"}


#: This process's counts (the worker's, in the embedded default).
COUNTERS = Counters()
