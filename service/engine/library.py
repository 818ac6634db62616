"""Parse each deployed process version once and share the spec between instances and threads.

Parsing is the costly part of loading an instance (XML, every task parser, every script and
expression compiled), and a spec never changes once deployed: ``(key, version)`` names it for
good. The library keeps an LRU of :class:`ProcessSpec` objects; the stored instance state holds no
spec at all (see ``state``) and gets this one reattached on load.

A shared spec must not carry per-instance state. Everything a run needs goes through the
instance's script engine; the only hooks attached here are stateless functions (``finalize``).
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Mapping

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.exceptions import SpiffWorkflowException

from service.errors import DefinitionInvalid

from .definitions import DEFAULT_MAX_BYTES, load_xml
from .parser import OmniflowParser
from .catching import INTERRUPT_HOOKS
from .compensation import COMPENSATION_HOOKS
from .io_mapping import IO_HOOKS
from .recorder import SPEC_HOOKS

__all__ = ["ProcessLibrary", "ProcessSpec"]


@dataclass(frozen=True, eq=False)
class ProcessSpec:
    """A parsed process version: SpiffWorkflow's spec and the specs of its (sub)processes."""

    key: str
    version: Any
    spec: Any = field(repr=False)
    subprocess_specs: dict = field(repr=False)


def finalize(specs: list) -> None:
    """Attach our hooks (input/output mappings, the recorder) and SpiffWorkflow's loop-merge
    callbacks to freshly parsed specs, in that order.

    Multi-instance and loop tasks connect their child's ``completed_event`` only when they create
    a child; an instance loaded in a new process after all children were created would never
    merge them, so we connect them up front.
    """
    for spec in specs:
        for task_spec in spec.task_specs.values():
            for event_name, fn in (*IO_HOOKS, *INTERRUPT_HOOKS, *COMPENSATION_HOOKS, *SPEC_HOOKS):
                event = getattr(task_spec, event_name)
                if not event.is_connected(fn):
                    event.connect(fn)
            if isinstance(task_spec, LoopTask):
                child = spec.task_specs.get(task_spec.task_spec)
                if child is not None and not child.completed_event.is_connected(task_spec.merge_child):
                    child.completed_event.connect(task_spec.merge_child)


class ProcessLibrary:
    """An LRU cache of parsed process versions, safe to share between threads."""

    def __init__(self, max_entries: int = 256, max_bytes: int = DEFAULT_MAX_BYTES):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._cache: OrderedDict[tuple[str, Any], ProcessSpec] = OrderedDict()
        self._lock = threading.Lock()

    def spec(self, key: str, version: Any, sources: Mapping[str, bytes],
             bindings: Mapping[str, Any] | None = None) -> ProcessSpec:
        """Return the parsed spec of process ``key`` at ``version``.

        ``sources`` maps file names to the BPMN of this version and of every process it calls
        (the same file may appear under two names when a process calls another of its file: it
        is parsed once); ``bindings`` maps a source name to its connector bindings
        (``ProcessDefinition.bindings``). Both are read only on a cache miss. Two threads missing
        at once may both parse; the first result stored wins, which is harmless because parsing
        is deterministic.
        """
        cache_key = (key, version)
        with self._lock:
            found = self._cache.get(cache_key)
            if found is not None:
                self._cache.move_to_end(cache_key)
                return found
        parsed = self._parse(key, version, sources, bindings)
        with self._lock:
            found = self._cache.setdefault(cache_key, parsed)
            self._cache.move_to_end(cache_key)
            while len(self._cache) > self.max_entries:
                self._cache.popitem(last=False)
        return found

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()

    def __len__(self) -> int:
        return len(self._cache)

    def _parse(self, key: str, version: Any, sources: Mapping[str, bytes],
               bindings: Mapping[str, Any] | None = None) -> ProcessSpec:
        parser = OmniflowParser(bindings=bindings)
        current = None
        try:
            for name, content in sources.items():
                current = name
                parser.add_bpmn_xml(load_xml(name, content, self.max_bytes), filename=name)
            current = None
            spec = parser.get_spec(key)
            subprocess_specs = parser.get_subprocess_specs(key)
        except ValidationException as exc:
            raise DefinitionInvalid(str(exc.args[0]) if exc.args else str(exc),
                                    file=exc.file_name or current, element=exc.id or None) from exc
        except SpiffWorkflowException as exc:
            raise DefinitionInvalid(f"cannot build process {key!r}: {exc}", file=current) from exc
        missing = [name for name, sub in subprocess_specs.items() if sub is None]
        if missing:
            raise DefinitionInvalid(f"process {key!r} calls {', '.join(sorted(missing))}, "
                                    "which is not among the sources given")
        finalize([spec, *subprocess_specs.values()])
        return ProcessSpec(key=key, version=version, spec=spec, subprocess_specs=subprocess_specs)
