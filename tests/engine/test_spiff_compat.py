"""Contract tests: each SpiffWorkflow internal the engine relies on exists and behaves as assumed.

Run them first against a new SpiffWorkflow version (see ``service/engine/spiff_compat.py``): a
failure here names the assumption that no longer holds, where the rest of the suite would only
show instances misbehaving.
"""
from __future__ import annotations

import ast
import json
from datetime import datetime, timedelta, timezone
from importlib.metadata import version as installed_version
from pathlib import Path

import pytest
from lxml import etree
from SpiffWorkflow.bpmn.serializer.config import DEFAULT_CONFIG
from SpiffWorkflow.bpmn.serializer.helpers.encoder import create_encoder
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState

from service.engine.definitions import RESERVED_IDS, _RESERVED_SUFFIXES
from service.engine.ports import FixedClock
from service.sandbox.python import Sandbox
from service.engine.script_engine import InstanceScriptEngine
from service.engine.spiff_compat import (
    TESTED_VERSIONS,
    check_version,
    child_ids,
    encoder_mode,
    force_state,
    is_end_join,
    parent_id,
    refresh,
    remove_child,
    run_ready_tasks,
    spiff_extensions,
    splice_out,
)

from conftest import FIXTURES


def _workflow(spec, clock=None):
    engine = InstanceScriptEngine(sandbox=Sandbox(), decisions=None, connectors=None,
                                  clock=clock or FixedClock(), instance_id="contract")
    return BpmnWorkflow(spec.spec, spec.subprocess_specs, script_engine=engine)


def _run(workflow):
    while run_ready_tasks(workflow, None, None):
        pass


def test_the_installed_version_is_a_tested_one_and_others_are_refused_clearly():
    check_version(installed_version("SpiffWorkflow"))
    assert installed_version("SpiffWorkflow") in TESTED_VERSIONS
    with pytest.raises(ImportError) as info:
        check_version("3.3.0")
    message = str(info.value)
    assert "SpiffWorkflow 3.3.0" in message and "3.2.0" in message
    assert "tests/engine/test_spiff_compat.py" in message and "TESTED_VERSIONS" in message


def test_child_and_parent_ids_are_what_children_and_parent_read(spec_of):
    workflow = _workflow(spec_of("parallel", "structures.bpmn"))
    _run(workflow)
    assert len(workflow.tasks) > 5
    for task in workflow.tasks.values():
        assert child_ids(task) == [child.id for child in task.children]
        assert parent_id(task) == (task.parent.id if task.parent is not None else None)
    root = workflow.task_tree
    assert child_ids(root) is child_ids(root)          # the live list, not a copy


def test_remove_child_and_splice_out_rewire_what_spiff_reads(spec_of):
    workflow = _workflow(spec_of("review_loop", "loop.bpmn"))
    _run(workflow)
    root = workflow.task_tree
    [start] = root.children
    [below] = start.children
    splice_out(start, root, below)
    del workflow.tasks[start.id]
    assert root.children == [below] and below.parent is root
    leaf = next(t for t in workflow.tasks.values() if not child_ids(t) and t.parent is not None)
    parent = leaf.parent
    remove_child(parent, leaf.id)
    del workflow.tasks[leaf.id]
    assert leaf not in parent.children
    assert workflow.get_tasks(state=TaskState.READY, manual=True)   # the tree still walks


def test_end_join_is_the_join_before_end_that_merges_branch_data(spec_of):
    spec = spec_of("parallel", "structures.bpmn")
    joins = [s for s in spec.spec.task_specs.values() if is_end_join(s)]
    assert [s.name for s in joins] == ["parallel.EndJoin"]
    assert isinstance(joins[0], UnstructuredJoin)
    assert [s.name for s in joins[0].outputs] == ["End"]
    workflow = _workflow(spec)
    workflow.task_tree.data.update({"rounds": 0, "max_rounds": 1})
    _run(workflow)
    for task in workflow.get_tasks(state=TaskState.READY, manual=True):
        task.data[task.task_spec.bpmn_id + "_done"] = True
        if task.task_spec.bpmn_id == "restock":
            task.data["restock_choice"] = "resell"
        else:
            task.data["refunded"] = True
        task.run()
        _run(workflow)
    assert workflow.is_completed()
    assert workflow.data["restock_done"] is True and workflow.data["refund_done"] is True


def test_one_pass_runs_ready_automatic_tasks_and_reports_each(spec_of):
    workflow = _workflow(spec_of("review_loop", "loop.bpmn"))
    workflow.task_tree.data.update({"count": 0, "limit": 2, "notes": None})
    before, after = [], []
    passes = 0
    while run_ready_tasks(workflow, before.append, after.append):
        passes += 1
    assert passes >= 1 and before == after and before
    assert all(not t.task_spec.manual for t in after)
    assert run_ready_tasks(workflow, before.append, after.append) is False
    [ready] = workflow.get_tasks(state=TaskState.READY, manual=True)
    assert ready.task_spec.bpmn_id == "review"                 # user tasks are left waiting


def test_refresh_lets_a_waiting_timer_run_once_its_time_came(spec_of):
    clock = FixedClock()
    workflow = _workflow(spec_of("wait_then_act", "timers.bpmn"), clock)
    _run(workflow)
    [timer] = [t for t in workflow.tasks.values() if t.state == TaskState.WAITING]
    assert timer.task_spec.bpmn_id == "w_wait"
    refresh(timer)
    assert timer.state == TaskState.WAITING
    clock.advance(minutes=30)
    refresh(timer)
    assert timer.state == TaskState.READY


def test_force_state_moves_backwards_where_the_public_setter_refuses(spec_of):
    workflow = _workflow(spec_of("review_loop", "loop.bpmn"))
    _run(workflow)
    [task] = workflow.get_tasks(state=TaskState.READY, manual=True)
    task.state = TaskState.ERROR
    with pytest.raises(WorkflowException):
        task.state = TaskState.READY
    force_state(task, TaskState.READY)
    assert task.state == TaskState.READY


def test_encoder_mode_defers_conversion_to_the_encoder_with_the_same_result():
    registry = BpmnWorkflowSerializer.configure(DEFAULT_CONFIG)
    encoder = create_encoder(registry, None)
    when = datetime(2024, 1, 1, tzinfo=timezone.utc)
    value = {"when": when, "wait": timedelta(hours=2), "nested": {"at": when}}
    plain = registry.convert(value)
    assert plain["when"] != when                               # converted up front
    with encoder_mode(registry):
        deferred = registry.convert(value)
        assert deferred["when"] is when                        # left to the encoder
        text = json.dumps(deferred, cls=encoder)
    assert json.loads(text) == json.loads(json.dumps(plain))
    assert registry.convert(value) == plain                    # the mode ends with the block



def test_spiff_extensions_reads_the_spiffworkflow_elements():
    node = etree.fromstring(
        b'<bpmn:businessRuleTask xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        b'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="t">'
        b'<bpmn:extensionElements><spiffworkflow:calledDecisionId>routing</spiffworkflow:calledDecisionId>'
        b'<spiffworkflow:properties><spiffworkflow:property name="a" value="1"/></spiffworkflow:properties>'
        b'</bpmn:extensionElements></bpmn:businessRuleTask>')
    extensions = spiff_extensions(node)
    assert extensions["calledDecisionId"] == "routing"
    assert extensions["properties"] == {"a": "1"}


@pytest.mark.parametrize("key,files", [
    ("review_loop", ("loop.bpmn",)), ("order_exception", ("order.bpmn",)),
    ("parallel", ("structures.bpmn",)), ("sub_loop", ("structures.bpmn",)),
    ("per_item", ("structures.bpmn",)), ("sla", ("timers.bpmn",)), ("ticker", ("timers.bpmn",)),
])
def test_spiff_names_its_own_tasks_only_with_the_reserved_ids(spec_of, key, files):
    """``definitions.RESERVED_IDS`` refuses element ids that would replace an engine task, and
    ``Instance`` finds the process end by the spec name ``End``."""
    spec = spec_of(key, *files)
    for process in [spec.spec, *spec.subprocess_specs.values()]:
        internal = [name for name, s in process.task_specs.items()
                    if getattr(s, "bpmn_id", None) is None]
        assert "End" in internal and "Start" in internal
        for name in internal:
            assert (name in RESERVED_IDS or name.endswith(_RESERVED_SUFFIXES)
                    or name == f"{process.name}.EndJoin"), name
    assert (FIXTURES / files[0]).exists()


ENGINE = Path(__file__).resolve().parents[2] / "service" / "engine"


def _private_names_defined_by_us(trees) -> set[str]:
    names = set()
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name.startswith("_"):
                names.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) \
                    and node.attr.startswith("_") and isinstance(node.value, ast.Name) \
                    and node.value.id == "self":
                names.add(node.attr)
            elif isinstance(node, ast.Name) and node.id.startswith("_"):
                names.add(node.id)
    return names


def test_no_engine_module_but_spiff_compat_reaches_a_private_attribute_of_spiff():
    trees = {str(path.relative_to(ENGINE)): ast.parse(path.read_text()) for path in ENGINE.rglob("*.py")}
    ours = _private_names_defined_by_us(trees) | {"_Element"}    # lxml's documented element type
    found = []
    for name, tree in trees.items():
        if name == "spiff_compat.py":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") \
                    and not node.attr.startswith("__") and node.attr not in ours:
                found.append(f"{name}:{node.lineno} .{node.attr}")
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("SpiffWorkflow"):
                found.extend(f"{name}:{node.lineno} import {a.name}" for a in node.names
                             if a.name.startswith("_"))
    assert found == []



def test_state_changes_log_as_before_but_only_build_the_line_when_it_is_written(spec_of, caplog):
    import logging
    from SpiffWorkflow.task import Task as SpiffTask
    from service.engine.spiff_compat import _set_state_logging_lazily
    assert SpiffTask._set_state is _set_state_logging_lazily       # installed at import

    def run_logged(level):
        caplog.clear()
        workflow = _workflow(spec_of("review_loop", "loop.bpmn"))
        workflow.task_tree.data.update({"count": 0, "limit": 2, "notes": None})
        with caplog.at_level(level, logger="spiff.task"):
            _run(workflow)
        [ready] = workflow.get_tasks(state=TaskState.READY, manual=True)
        return ready, [r for r in caplog.records if r.name == "spiff.task"]

    ready, records = run_logged(logging.INFO)
    assert ready.task_spec.bpmn_id == "review" and ready.last_state_change > 0
    changed = [r for r in records if r.getMessage().startswith("State changed to ")]
    assert changed and {"task_spec", "task_id", "state", "elapsed"} <= set(vars(changed[0]))
    assert "State changed to READY" in {r.getMessage() for r in changed}
    ready, records = run_logged(logging.WARNING)                   # off: nothing is built
    assert ready.task_spec.bpmn_id == "review" and records == []
