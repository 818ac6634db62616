"""Store a running instance as one versioned JSON document, without its process spec.

SpiffWorkflow's serializer writes the whole parsed spec (and every subprocess spec) into each
instance's state: kilobytes of definition repeated per instance and per save, and a copy that can
drift from the deployed version. We serialize only the workflow and task state with a converter
that leaves the specs out, and reattach the cached spec (``library``) on load.

The document::

    {"format": 1, "spiff": "1.5", "instance_id": ..., "process": key, "status": ...,
     "failure": {...} | null, "workflow": {...SpiffWorkflow workflow dict without specs...}}

``format`` is ours; ``MIGRATIONS`` maps an older format to the step that upgrades it by one, as
SpiffWorkflow's ``version_migration`` does for its own ``serializer_version``.
"""
from __future__ import annotations

import json
import threading
from datetime import date, time
from decimal import Decimal
from typing import Any, Callable
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.config import DEFAULT_CONFIG
from SpiffWorkflow.bpmn.serializer.default.event_definition import (
    TimerConditionalEventDefinitionConverter,
)
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.helpers.encoder import create_encoder
from SpiffWorkflow.bpmn.serializer.workflow import VERSION as SPIFF_VERSION
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

from .messages import CorrelatedMessage
from .spiff_compat import encoder_mode
from .timers import ClockCycle, ClockDuration, ClockTimeDate

__all__ = ["FORMAT_VERSION", "MIGRATIONS", "StateError", "decode", "encode", "migrate",
           "unstorable"]

FORMAT_VERSION = 1


class StateError(ValueError):
    """A stored state that cannot be read (malformed, or a format we cannot migrate)."""


class _SpeclessWorkflowConverter(BpmnWorkflowConverter):
    """SpiffWorkflow's workflow converter minus ``spec`` and ``subprocess_specs``."""

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct, spec=None, subprocess_specs=None):
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _message_to_dict(definition: CorrelatedMessage) -> dict:
    return {"name": definition.name, "correlation": definition.correlation,
            "result_var": definition.result_var, "payload_expression": definition.payload_expression}


def _registry():
    # Our event definitions can sit in task internals too (an event-based gateway keeps the
    # event that fired it), so each needs a converter, as SpiffWorkflow's own classes have.
    registry = BpmnWorkflowSerializer.configure({
        **DEFAULT_CONFIG, BpmnWorkflow: _SpeclessWorkflowConverter,
        ClockTimeDate: TimerConditionalEventDefinitionConverter,
        ClockDuration: TimerConditionalEventDefinitionConverter,
        ClockCycle: TimerConditionalEventDefinitionConverter,
    })
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda v: Decimal(v["value"]))
    registry.register(date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"]))
    registry.register(time, lambda v: {"value": v.isoformat()}, lambda v: time.fromisoformat(v["value"]))
    registry.register(CorrelatedMessage, _message_to_dict, lambda v: CorrelatedMessage(**v))
    return registry


# SpiffWorkflow's registry keeps a mode flag while encoding: one registry per thread.
_local = threading.local()


def _thread_registry():
    registry = getattr(_local, "registry", None)
    if registry is None:
        registry = _local.registry = _registry()
        _local.encoder = create_encoder(registry, None)
    return registry, _local.encoder


def encode(workflow: BpmnWorkflow, **envelope: Any) -> str:
    """Return the JSON state document of ``workflow`` with the envelope fields given."""
    registry, encoder = _thread_registry()
    with encoder_mode(registry):
        doc = {"format": FORMAT_VERSION, "spiff": SPIFF_VERSION, **envelope,
               "workflow": registry.convert(workflow)}
        return json.dumps(doc, cls=encoder, separators=(",", ":"))


def unstorable(workflow: BpmnWorkflow) -> tuple[Any, list[str]]:
    """Replace each value :func:`encode` cannot write by its text (at most 1,000 characters).

    Returns the first task that held one (``None`` if only the workflow data did) and where the
    values were, for the failure that reports them. Only task data, task internals and workflow
    data are looked at: that is where process values live.
    """
    registry, encoder = _thread_registry()
    first, repaired = None, []
    for wf in [workflow, *workflow.subprocesses.values()]:
        places = [(None, "process data", wf.data)]
        places += [(task, label, mapping) for task in wf.tasks.values()
                   for label, mapping in (("data", task.data), ("internals", task.internal_data))]
        for task, label, mapping in places:
            for key, value in list(mapping.items()):
                try:
                    with encoder_mode(registry):
                        json.dumps(registry.convert(value), cls=encoder)
                except (TypeError, ValueError):
                    mapping[key] = repr(value)[:1000]
                    element = getattr(task.task_spec, "bpmn_id", None) if task is not None else None
                    where = f"{label} {key!r}" + (f" of {element}" if element else "")
                    if where not in repaired:
                        repaired.append(where)
                    if first is None and element:
                        first = task
    return first, repaired


def decode(text: str | bytes, spec: Any, subprocess_specs: dict) -> tuple[BpmnWorkflow, dict]:
    """Rebuild the workflow from a state document; return it and the envelope fields."""
    try:
        doc = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise StateError(f"stored state is not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise StateError("stored state is not a JSON object")
    migrate(doc)
    registry, _ = _thread_registry()
    workflow_dct = dict(doc.pop("workflow"))
    workflow_dct.pop("typename", None)
    from_dict = registry.convert_from_dict[registry.typenames[BpmnWorkflow]]
    workflow = from_dict(workflow_dct, spec=spec, subprocess_specs=subprocess_specs)
    return workflow, doc


def from_format_0(doc: dict) -> None:
    """Upgrade a state written by SpiffWorkflow's own ``BpmnWorkflowSerializer`` (format 0).

    That document is the bare workflow dict with ``serializer_version`` and the full ``spec`` and
    ``subprocess_specs``; the specs are dropped (the library supplies them) and the rest is
    wrapped in our envelope.
    """
    version = doc.pop("serializer_version", None)
    if version != SPIFF_VERSION:
        raise StateError(f"SpiffWorkflow state version {version!r} is not supported")
    workflow = {k: doc.pop(k) for k in list(doc)}
    workflow.pop("spec", None)
    workflow.pop("subprocess_specs", None)
    workflow.setdefault("typename", "BpmnWorkflow")
    doc.update({"format": 1, "spiff": version, "instance_id": None, "status": None,
                "failure": None, "workflow": workflow})


MIGRATIONS: dict[int, Callable[[dict], None]] = {
    0: from_format_0,
}


def migrate(doc: dict) -> None:
    """Upgrade ``doc`` in place, one format step at a time, to :data:`FORMAT_VERSION`."""
    fmt = doc.get("format", 0)
    while fmt != FORMAT_VERSION:
        step = MIGRATIONS.get(fmt)
        if step is None:
            raise StateError(f"stored state format {fmt!r} is not supported (current {FORMAT_VERSION})")
        step(doc)
        fmt = doc.get("format", 0)
    if doc.get("spiff") != SPIFF_VERSION:
        raise StateError(f"state was written by SpiffWorkflow serializer {doc.get('spiff')!r}, "
                         f"this engine uses {SPIFF_VERSION!r}")
