"""Run a script in an isolated process (see :mod:`.child`) and charge its work to the budget.

Each service process keeps a few idle script processes and starts one when none is free, so a
script costs a round trip through two pipes (tens of microseconds; see ``bench/sandbox.py``), not
a process start. A script process that the CPU timer or the memory limit ended, or that sent
something unreadable, is dropped and replaced on the next call. After a ``fork`` (gunicorn
workers) the child's pool starts empty: the parent's script processes belong to the parent.
"""
from __future__ import annotations

import atexit
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Mapping

from . import codec
from .budget import BudgetExceeded, current
from .restricted import ScriptError, ScriptRejected

__all__ = ["MAX_IDLE", "run"]

MAX_IDLE = 4
#: Wall-clock seconds a call may take beyond its CPU allowance before the process is killed:
#: the CPU timer ends a busy process by itself, this only catches one that stopped answering.
WALL_SLACK = 10.0

_ROOT = str(Path(__file__).resolve().parents[2])
_BOOT = "import sys; sys.path.insert(0, sys.argv[1]); from service.sandbox.child import main; main()"


class _Died(Exception):
    def __init__(self, returncode: int | None, out_of_time: bool):
        super().__init__(returncode)
        self.returncode = returncode
        self.out_of_time = out_of_time or returncode == -signal.SIGPROF


class _Process:
    """One script process and its two pipes."""

    def __init__(self):
        self.popen = subprocess.Popen(
            [sys.executable, "-I", "-c", _BOOT, _ROOT], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, close_fds=True, cwd=_ROOT)
        self.requests = self.popen.stdin.fileno()
        self.replies = self.popen.stdout.fileno()

    def call(self, payload: bytes, cpu_seconds: float, max_reply: int) -> bytes:
        try:
            _write_all(self.requests, codec.frame(payload))
        except (BrokenPipeError, OSError) as exc:
            raise self._died() from exc
        deadline = time.monotonic() + cpu_seconds + WALL_SLACK
        header = self._read(codec.HEADER, deadline)
        size = codec.length(header)
        if size > max_reply:
            self.kill()
            raise ScriptRejected(f"the script's reply of {size:,} bytes exceeds {max_reply:,}")
        return self._read(size, deadline)

    def _read(self, size: int, deadline: float) -> bytes:
        chunks, left = [], size
        while left:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([self.replies], [], [], wait)[0]:
                self.kill()
                raise self._died(out_of_time=True)
            chunk = os.read(self.replies, min(left, 1 << 20))
            if not chunk:
                raise self._died()
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def _died(self, out_of_time: bool = False) -> _Died:
        try:
            returncode = self.popen.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            self.kill()
            returncode = self.popen.wait()
        self.close()
        return _Died(returncode, out_of_time)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        if self.alive():
            self.popen.kill()

    def close(self) -> None:
        for pipe in (self.popen.stdin, self.popen.stdout):
            try:
                pipe.close()
            except OSError:
                pass

    def stop(self) -> None:
        """End an idle process: it exits when its request pipe closes."""
        self.close()
        try:
            self.popen.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class _Pool:
    def __init__(self):
        self.lock = threading.Lock()
        self.idle: list[_Process] = []
        self.pid = os.getpid()

    def take(self) -> _Process:
        with self.lock:
            if self.pid != os.getpid():          # forked: those processes are the parent's
                self.idle, self.pid = [], os.getpid()
            while self.idle:
                process = self.idle.pop()
                if process.alive():
                    return process
        return _Process()

    def give(self, process: _Process) -> None:
        with self.lock:
            if self.pid == os.getpid() and len(self.idle) < MAX_IDLE and process.alive():
                self.idle.append(process)
                return
        process.stop()

    def stop_all(self) -> None:
        with self.lock:
            idle, self.idle = self.idle, []
        if self.pid == os.getpid():
            for process in idle:
                process.stop()


_pool = _Pool()
atexit.register(_pool.stop_all)


def run(mode: str, source: str, data: Mapping[str, Any], *, max_variable: int,
        max_data: int) -> Any:
    """Run ``source`` isolated: ``eval`` returns its value, ``exec`` the variables it set or
    deleted (``{"set": {...}, "deleted": [...]}``).

    Raises :class:`ScriptRejected`, :class:`ScriptError` (the script raised) or
    :class:`BudgetExceeded`, and charges the CPU time and steps used to the current budget.
    """
    budget = current()
    budget.check_time()
    cpu = budget.remaining_seconds()
    try:
        data_text = codec.encode(dict(data)).decode()
    except (TypeError, ValueError) as exc:
        raise ScriptRejected(f"the process data cannot be passed to the script: {exc}") from exc
    request = {"mode": mode, "source": source, "data": data_text, "cpu": cpu,
               "steps": max(budget.steps_left, 0), "max_items": budget.limits.max_items,
               "max_string": budget.limits.max_string, "max_variable": max_variable,
               "max_data": max_data}
    payload = codec.encode(request)
    process = _pool.take()
    try:
        reply = codec.decode(process.call(payload, cpu, max_reply=2 * max_data + 4096))
    except _Died as exc:
        _charge_quietly(budget, cpu)
        if exc.out_of_time:
            raise BudgetExceeded("cpu", f"evaluation exceeded its CPU time limit of "
                                        f"{budget.limits.cpu_seconds:g} s") from None
        raise BudgetExceeded("memory", "the script's process ended while running it "
                                       f"(exit status {exc.returncode})") from None
    except ValueError as exc:
        process.kill()
        raise ScriptRejected(f"the script's process sent an unreadable reply: {exc}") from exc
    if reply.get("recycle"):
        process.stop()
    else:
        _pool.give(process)
    return _result(reply, budget)


def _charge_quietly(budget, seconds: float) -> None:
    """Charge work that already failed: the failure, not a second overrun, is what to report."""
    try:
        budget.charge(seconds)
    except BudgetExceeded:
        pass


def _result(reply: dict, budget) -> Any:
    if reply.get("error") == "budget":
        _charge_quietly(budget, reply["cpu"])
        raise BudgetExceeded(reply["kind"], reply["message"])
    budget.charge(reply["cpu"], reply.get("steps", 0))
    if reply["ok"]:
        return reply["value"]
    if reply["error"] == "rejected":
        raise ScriptRejected(reply["message"])
    raise ScriptError(reply["type"], reply["message"])
