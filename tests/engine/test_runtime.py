"""Start, wait, complete, save and load: the core the case API relies on."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from service.engine import ConnectorError, EVENT_KINDS, FORMAT_VERSION
from service.errors import Conflict, EngineFailure, NotFound



def complete_first(instance, data=None, actor="alice"):
    task = instance.user_tasks()[0]
    instance.complete_task(task.id, data or {}, actor=actor)
    return task


def reload(runtime, spec, instance):
    return runtime.load(spec, instance.dumps())


def test_user_task_view_reads_camunda_attributes(runtime, spec_of, clock):
    instance = runtime.start(spec_of("review_loop", "loop.bpmn"), {"count": 0, "limit": 2, "notes": None})
    assert instance.status == "waiting"
    [task] = instance.user_tasks()
    assert task.element_id == "review" and task.name == "Review item"
    assert task.lane == "store_manager" and task.candidate_groups == ("store_manager",)
    assert task.due_at == clock.now + timedelta(hours=4)
    assert task.form["properties"]["approved"] == {"type": "boolean", "title": "Approved?"}
    assert task.form["properties"]["note"]["maxLength"] == 200
    assert task.properties == {"action": "review", "pass": 1}  # "=count + 1" is FEEL
    assert task.data["count"] == 0


def test_loop_runs_through_load_complete_dumps_to_its_end(runtime, spec_of):
    spec = spec_of("review_loop", "loop.bpmn")
    instance = runtime.start(spec, {"count": 0, "limit": 3, "notes": None})
    kinds = []
    while instance.status == "waiting":
        instance = reload(runtime, spec, instance)
        complete_first(instance, {"approved": True}, actor="bob")
        kinds.extend(e.kind for e in instance.drain_events())
    assert instance.status == "completed"
    assert instance.data["count"] == 3 and instance.data["approved"] is True
    assert kinds.count("task_completed") == 3 and kinds.count("script_run") == 3
    assert kinds[-1] == "process_completed"
    assert set(kinds) <= EVENT_KINDS


def test_events_name_elements_actor_and_flow(runtime, spec_of):
    instance = runtime.start(spec_of("review_loop", "loop.bpmn"), {"count": 0, "limit": 5, "notes": None})
    ready = instance.drain_events()
    assert [e.kind for e in ready] == ["task_ready"]
    complete_first(instance, {"note": "ok"}, actor="bob")
    events = instance.drain_events()
    completed = next(e for e in events if e.kind == "task_completed")
    assert completed.element_id == "review" and completed.detail["actor"] == "bob"
    assert completed.detail["data"] == {"note": "ok"}
    gateway = next(e for e in events if e.kind == "gateway_taken")
    assert gateway.detail["flow_id"] == "f_again" and gateway.detail["target"] == "review"


def test_state_has_no_spec_and_carries_a_format_version(runtime, spec_of):
    instance = runtime.start(spec_of("review_loop", "loop.bpmn"), {"count": 0, "limit": 2, "notes": None})
    doc = json.loads(instance.dumps())
    assert doc["format"] == FORMAT_VERSION and doc["process"] == "review_loop"
    assert "spec" not in doc["workflow"] and "subprocess_specs" not in doc["workflow"]
    assert len(instance.dumps()) < 8_000


def test_unknown_and_not_ready_tasks_are_refused(runtime, spec_of):
    instance = runtime.start(spec_of("review_loop", "loop.bpmn"), {"count": 0, "limit": 2, "notes": None})
    with pytest.raises(NotFound):
        instance.complete_task("00000000-0000-0000-0000-000000000000", {}, actor="x")
    with pytest.raises(NotFound):
        instance.complete_task("not-a-uuid", {}, actor="x")
    old = instance.user_tasks()[0].id
    complete_first(instance)
    with pytest.raises((Conflict, NotFound)):
        instance.complete_task(old, {}, actor="x")


def test_state_from_another_process_or_garbage_is_refused(runtime, spec_of):
    loop = spec_of("review_loop", "loop.bpmn")
    state = runtime.start(loop, {"count": 0, "limit": 2, "notes": None}).dumps()
    with pytest.raises(EngineFailure):
        runtime.load(spec_of("sla", "timers.bpmn"), state)
    with pytest.raises(EngineFailure):
        runtime.load(loop, "{not json")


def _order_ports(decisions, connectors):
    decisions.decisions.update({
        "exception_routing": [{"priority": "P2", "owner": "customer_service"}],
        "approval_authority": [{"approvers": 2, "group": "finance"}],
    })
    calls = []
    connectors.register("erp.post_refund", lambda p, idempotency_key: calls.append((p, idempotency_key)) or {"ref": "E1"})
    connectors.register("notify.email", lambda p: "sent")
    return calls


def test_decisions_connectors_and_messages(runtime, spec_of, decisions, connectors):
    calls = _order_ports(decisions, connectors)
    spec = spec_of("order_exception", "order.bpmn")
    instance = runtime.start(spec, {"order_id": "O1", "refund_amount": 120})
    [task] = instance.user_tasks()
    assert task.properties == {"action": "refund", "amount": 120, "approvals_required": 2}
    assert instance.data["routing"] == {"priority": "P2", "owner": "customer_service"}  # singleResult
    assert instance.data["approvers"] == 2  # spiff calledDecisionId merges the single result
    decision_events = [e for e in instance.drain_events() if e.kind == "decision_evaluated"]
    assert [e.detail["decision"] for e in decision_events] == ["exception_routing", "approval_authority"]
    assert decision_events[0].detail["record"] == {"decision": "exception_routing"}

    instance.complete_task(task.id, {"approved": True}, actor="carol")
    assert calls == [({"order_id": "O1", "amount": 120, "currency": "EUR"},
                      f"{instance.id}:{calls[0][1].split(':', 1)[1]}")]
    assert instance.data["erp"] == {"ref": "E1"} and instance.data["notified"] == "sent"
    assert [tuple(m) for m in instance.waiting_messages()] == [("supplier_confirmation", {"order_id": "O1"})]

    instance = reload(runtime, spec, instance)
    with pytest.raises(NotFound):
        instance.deliver_message("supplier_confirmation", {"order_id": "O2"})
    instance.deliver_message("supplier_confirmation", {"order_id": "O1", "confirmed": True})
    assert instance.status == "completed" and instance.data["confirmed"] is True


def test_connector_error_with_code_follows_the_error_boundary(runtime, spec_of, decisions, connectors):
    _order_ports(decisions, connectors)

    def erp_down(params):
        raise ConnectorError("ERP unreachable", bpmn_error_code="ERP_DOWN")

    connectors.register("erp.post_refund", erp_down)
    instance = runtime.start(spec_of("order_exception", "order.bpmn"), {"order_id": "O1", "refund_amount": 50})
    complete_first(instance)
    assert instance.status == "waiting"
    assert [t.element_id for t in instance.user_tasks()] == ["manual_refund"]
    assert instance.user_tasks()[0].candidate_groups == ("finance",)


def test_connector_failure_fails_the_instance_and_retry_resumes(runtime, spec_of, decisions, connectors):
    _order_ports(decisions, connectors)
    connectors.register("erp.post_refund", lambda p: 1 / 0)
    spec = spec_of("order_exception", "order.bpmn")
    instance = runtime.start(spec, {"order_id": "O1", "refund_amount": 50})
    complete_first(instance)
    assert instance.status == "failed"
    failure = instance.failure
    assert isinstance(failure, EngineFailure)
    assert failure.extra["element"] == "post_refund" and failure.extra["retryable"] is True
    assert "ZeroDivisionError" in failure.detail
    assert instance.drain_events()[-1].kind == "error"

    connectors.register("erp.post_refund", lambda p: {"ref": "E2"})
    instance = reload(runtime, spec, instance)
    assert instance.status == "failed"
    instance.retry()
    assert instance.status == "waiting" and instance.data["erp"] == {"ref": "E2"}


def test_parallel_branches_survive_save_and_merge_at_the_join(runtime, spec_of):
    spec = spec_of("parallel", "structures.bpmn")
    instance = runtime.start(spec, {"rounds": 0, "max_rounds": 1})
    assert sorted(t.element_id for t in instance.user_tasks()) == ["refund", "restock"]
    restock = next(t for t in instance.user_tasks() if t.element_id == "restock")
    instance.complete_task(restock.id, {"restock_choice": "resell"}, actor="a")
    instance = reload(runtime, spec, instance)
    [refund] = instance.user_tasks()
    instance.complete_task(refund.id, {"refunded": True}, actor="b")
    assert instance.status == "completed"
    assert instance.data["summary"] == "resell/True"


def test_cancel(runtime, spec_of):
    instance = runtime.start(spec_of("review_loop", "loop.bpmn"), {"count": 0, "limit": 2, "notes": None})
    instance.cancel()
    assert instance.status == "cancelled" and instance.user_tasks() == []
