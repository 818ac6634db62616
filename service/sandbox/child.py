"""The isolated script process: runs scripts that are not plain, under hard CPU and memory limits.

Started by :mod:`.isolation` as ``python -I -c ...`` with pipes on stdin and stdout; it serves
one request at a time until stdin closes. A request carries the source, the process data (as
JSON text, read twice: once for the script, once to see what it changed) and what is left of the
caller's budget; the reply carries the value or the variables the script set or deleted (checked
for storage here, so an oversized value never crosses the pipe) or the failure, and the CPU time
and steps used.

Limits the tracer cannot enforce, because one C call (``pow(10, 10**8)``, ``str`` of a huge
nested list, ``'a'.ljust(10**9)``) never returns to it:

* CPU: a ``SIGPROF`` interval timer of the remaining CPU time (plus a small grace) is armed for
  each request; its default action ends the process mid-call, and the parent reports the budget
  spent and starts a fresh process;
* memory: ``RLIMIT_AS`` caps the address space at what the loaded interpreter uses plus
  ``MEMORY_BYTES``; an allocation past it raises ``MemoryError``, reported as a ``memory``
  overrun, after which this process exits (its heap may be fragmented) and is replaced;
* no files (``RLIMIT_FSIZE`` 0), no child processes (``RLIMIT_NPROC`` 0), no core dumps.
"""
from __future__ import annotations

import os
import resource
import signal
import sys
import time
from typing import Any

from . import codec
from .budget import BudgetExceeded, Limits, bounded
from .restricted import (GUARDS, ScriptRejected, check_variables, compile_source, describe,
                         run_traced, scope_for, variables)
from .sizes import text_size

__all__ = ["MEMORY_BYTES", "CPU_GRACE", "main"]

MEMORY_BYTES = 256 * 1024 * 1024
CPU_GRACE = 0.05


def _address_space() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()


def _limit_resources() -> None:
    ceiling = _address_space() + MEMORY_BYTES
    resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))


def _read_exact(fd: int, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _changes(result: dict, before: dict) -> dict:
    """What the script set (new or different from ``before``, an untouched copy of its input)
    and deleted: only that is checked and sent back."""
    changed = {}
    for name, value in result.items():
        try:
            same = name in before and value == before[name]
        except Exception:  # noqa: BLE001 - a comparison that fails means "changed"
            same = False
        if not same:
            changed[name] = value
    return {"set": changed, "deleted": [name for name in before if name not in result]}


def serve(request: dict) -> dict:
    """Run one request; return the reply (never raises for anything the script does)."""
    limits = Limits(cpu_seconds=request["cpu"], steps=request["steps"],
                    max_items=request["max_items"], max_string=request["max_string"])
    started = time.thread_time()
    reply: dict[str, Any]
    with bounded(limits) as budget:
        try:
            code = compile_source(request["source"], request["mode"])
            scope = scope_for(codec.decode(request["data"]))
            value = run_traced(code, scope, budget)
            if request["mode"] == "exec":
                value = _changes(variables(scope, GUARDS), codec.decode(request["data"]))
                check_variables(value["set"], request["max_variable"], request["max_data"])
            else:
                text_size(value, request["max_variable"], "the expression's value")
            reply = {"ok": True, "value": value}
        except ScriptRejected as exc:
            reply = {"ok": False, "error": "rejected", "message": str(exc)}
        except BudgetExceeded as exc:
            reply = {"ok": False, "error": "budget", "kind": exc.kind, "message": exc.message}
        except MemoryError:
            reply = {"ok": False, "error": "budget", "kind": "memory", "recycle": True,
                     "message": f"the script needed more than {MEMORY_BYTES // 2**20} MB of memory"}
        except Exception as exc:  # the analyst's code raised: report its type and message
            reply = {"ok": False, "error": "script", "type": type(exc).__name__,
                     "message": describe(exc)}
        reply["steps"] = limits.steps - budget.steps_left
    reply["cpu"] = time.thread_time() - started
    return reply


def main() -> None:
    requests = sys.stdin.fileno()
    replies = os.dup(sys.stdout.fileno())
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())    # stray output must not reach the pipe
    _limit_resources()
    while True:
        header = _read_exact(requests, codec.HEADER)
        if header is None:
            return
        body = _read_exact(requests, codec.length(header))
        if body is None:
            return
        request = codec.decode(body)
        signal.setitimer(signal.ITIMER_PROF, request["cpu"] + CPU_GRACE)
        try:
            reply = serve(request)
        finally:
            signal.setitimer(signal.ITIMER_PROF, 0)
        try:
            payload = codec.encode(reply)
        except (TypeError, ValueError) as exc:
            payload = codec.encode({"ok": False, "error": "rejected", "cpu": reply["cpu"],
                                    "steps": reply.get("steps", 0),
                                    "message": f"the script's result cannot be returned: {exc}"})
        _write_all(replies, codec.frame(payload))
        if reply.get("recycle"):
            return
