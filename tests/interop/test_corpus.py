"""Every BPMN file of the public corpus either deploys or is refused naming the element, and
every process that deploys, driven as a tester would, ends, waits for something nameable, or
fails naming the element: never a silent stall and never a crash."""
from __future__ import annotations

from pathlib import Path

import pytest

from service.decisions import DecisionModel, DmnError
from service.engine import (ConnectorRegistry, DecisionOutcome, FixedClock, ProcessLibrary, Runtime,
                            parse_definitions)
from service.engine.stall import is_waiting
from service.errors import DefinitionInvalid

from .conftest import CORPUS

BPMN = sorted((CORPUS / "bpmn").glob("*.bpmn")) if CORPUS.exists() else []


class _AllDecisions:
    def __init__(self):
        self.models = {}
        for path in sorted((CORPUS / "dmn").glob("*.dmn")):
            try:
                model = DecisionModel.parse(path.read_bytes())
            except DmnError:
                continue
            for decision in model.decisions:
                self.models.setdefault(decision.id, model)

    def evaluate(self, ref, inputs):
        if ref not in self.models:
            raise LookupError(f"no decision {ref!r} in the corpus")
        model = self.models[ref]
        return DecisionOutcome(model.evaluate(ref, inputs).value, {},
                               outputs=model.output_names(ref))


def _plausible(form: dict) -> dict:
    out = {}
    for name, prop in (form.get("properties") or {}).items():
        kind = prop.get("type")
        if prop.get("enum"):
            out[name] = prop["enum"][0]
        elif prop.get("examples"):
            out[name] = prop["examples"][0]
        elif kind == "boolean":
            out[name] = True
        elif kind in ("number", "integer"):
            out[name] = 1
        elif kind == "string":
            out[name] = prop.get("default") or "x"
    return out


def _deployable() -> dict[str, tuple[str, object]]:
    found = {}
    for path in BPMN:
        try:
            for definition in parse_definitions({path.name: path.read_bytes()}):
                found[definition.key] = (path.name, definition)
        except DefinitionInvalid:
            pass
    return found


@pytest.mark.skipif(not BPMN, reason="the interop corpus is not in ../shared")
@pytest.mark.parametrize("path", BPMN, ids=lambda p: p.name)
def test_a_file_deploys_or_is_refused_naming_the_element(path: Path):
    try:
        parse_definitions({path.name: path.read_bytes()})
    except DefinitionInvalid as exc:
        assert exc.extra["file"] == path.name
        if "no executable bpmn:process" not in exc.detail:
            assert exc.extra.get("element") and exc.extra.get("line"), exc.detail


@pytest.mark.slow
@pytest.mark.skipif(not BPMN, reason="the interop corpus is not in ../shared")
def test_every_deployable_process_ends_waits_or_fails_naming_the_element():
    processes = _deployable()
    decisions = _AllDecisions()
    outcomes = {}
    for key, (file, definition) in sorted(processes.items()):
        sources = {file: (CORPUS / "bpmn" / file).read_bytes()}
        missing = [k for k in definition.called_processes if k not in processes]
        if missing:
            continue                # the service refuses it at deploy: the callee is not there
        for called in definition.called_processes:
            sources.setdefault(processes[called][0], (CORPUS / "bpmn" / processes[called][0]).read_bytes())
        clock = FixedClock()
        runtime = Runtime(decisions=decisions, connectors=ConnectorRegistry(), clock=clock)
        instance = runtime.start(ProcessLibrary().spec(key, 1, sources), {}, initiator="tester")
        for _ in range(40):
            if instance.status != "waiting":
                break
            if instance.user_tasks():
                task = instance.user_tasks()[0]
                instance.complete_task(task.id, _plausible(task.form), actor="tester")
            elif instance.external_tasks():
                instance.complete_external(instance.external_tasks()[0].id, {})
            elif instance.next_due_at() is not None:
                clock.now = max(clock.now, instance.next_due_at())
                instance.fire_due_timers()
            elif instance.waiting_messages():
                waiting = instance.waiting_messages()[0]
                instance.deliver_message(waiting.name, dict(waiting.correlation), task_id=waiting.task_id)
            else:
                break
        outcomes[key] = instance.status
        if instance.status == "waiting":
            tasks = [t for wf in [instance.workflow, *instance.workflow.subprocesses.values()]
                     for t in wf.tasks.values()]
            assert any(is_waiting(t) for t in tasks), f"{file}: {key} waits for nothing"
        elif instance.status == "failed":
            assert instance.failure.extra.get("element"), f"{file}: {instance.failure.detail}"
    assert outcomes and list(outcomes.values()).count("completed") >= 20, outcomes
