"""Instance migration on the shipped order exception: version 2 (made here from the shipped
file) renames the agent's task and adds a check before the approval. Dry run, execute, then the
moved cases go on in version 2. Real engine, real database, HTTP through the test client."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from service.cli import cli
from service.store import AuditEvent, Case, Instance, Task

ROOT = Path(__file__).resolve().parents[2]
V1 = (ROOT / "bpmn" / "order_exception.bpmn").read_text()
ORDER = {"order_id": "1001", "reason": "damaged", "channel": "web", "value": 420, "margin": 0.3,
         "customer_tier": "gold", "days_late": 2, "prior_contacts_90d": 3,
         "prior_exceptions_90d": 1, "order_weekday": 2}


def version_2() -> str:
    text = V1.replace('"handle_exception"', '"handle_order_exception"')
    text = text.replace('<bpmn:userTask id="handle_order_exception" name="Handle order exception"',
                        '<bpmn:userTask id="handle_order_exception" name="Handle the order '
                        'exception" camunda:assignee="${triage_agent}"')
    old_flow = ('<bpmn:sequenceFlow id="flow_to_approve" sourceRef="refund_authority" '
                'targetRef="approve_refund" />')
    assert old_flow in text
    text = text.replace(old_flow, (
        '<bpmn:sequenceFlow id="flow_to_approve" sourceRef="refund_authority" '
        'targetRef="check_refund" />\n'
        '    <bpmn:userTask id="check_refund" name="Check the refund" '
        'camunda:candidateGroups="customer_service"><bpmn:incoming>flow_to_approve'
        '</bpmn:incoming><bpmn:outgoing>flow_checked</bpmn:outgoing></bpmn:userTask>\n'
        '    <bpmn:sequenceFlow id="flow_checked" sourceRef="check_refund" '
        'targetRef="approve_refund" />'))
    old_in = ('<bpmn:incoming>flow_to_approve</bpmn:incoming>\n'
              '      <bpmn:outgoing>flow_to_approved_gw</bpmn:outgoing>')
    assert old_in in text
    return text.replace(old_in, '<bpmn:incoming>flow_checked</bpmn:incoming>\n'
                                '      <bpmn:outgoing>flow_to_approved_gw</bpmn:outgoing>')


PLAN = {"process": "order_exception", "source_version": 1, "target_version": 2,
        "mapping": {"handle_exception": "handle_order_exception"},
        "variables": {"triage_agent": "agent"}}


@pytest.fixture
def team(users, deployed):
    return {"oms": users.make("oms", ["oms"], client=True),
            "agent": users.make("agent", ["customer_service"], {"refund": 100}),
            "sup": users.make("sup", ["cs_supervisor"], {"refund": 500}),
            "analyst": users.make("analyst", ["analyst"])}


@pytest.fixture
def running(team):
    """Three cases on version 1: two wait at the agent's task, one at the approval. Then
    version 2 is deployed."""
    cases = []
    for i in range(3):
        r = team["oms"].post("/api/v1/cases", json={"type": "order_exception",
                                                    "data": {**ORDER, "order_id": f"O-{i}"}})
        assert r.status_code == 201, r.get_json()
        cases.append(r.get_json())
    task = cases[2]["tasks"][0]["id"]
    team["agent"].post(f"/api/v1/tasks/{task}/claim")
    r = team["agent"].post(f"/api/v1/tasks/{task}/complete",
                           json={"data": {"resolution": "refund", "refund_amount": 300}})
    assert r.status_code == 200, r.get_json()
    r = team["analyst"].post("/api/v1/deployments", data={"files": [
        (io.BytesIO(version_2().encode()), "order_exception.bpmn")]},
        content_type="multipart/form-data")
    assert r.status_code == 201 and r.get_json()["created"][0]["version"] == 2, r.get_json()
    return [c["id"] for c in cases]


def open_elements(case_id) -> list[str]:
    return sorted(t.element_id for t in Task.select().where(
        Task.case == case_id, Task.status.in_(["open", "claimed"])))


def dry(actor, plan):
    return actor.post("/api/v1/migrations/dry-run", json=plan)


def test_the_dry_run_lists_what_cannot_move_and_why(team, running):
    before = (AuditEvent.select().count(), [i.state for i in Instance.select()])
    body = dry(team["analyst"], {**PLAN, "mapping": {}, "variables": {}}).get_json()
    assert body["instances"] == 3 and body["movable"] == 1 and body["blocked_count"] == 2
    assert {b["case_id"] for b in body["blocked"]} == set(running[:2])
    reasons = body["blocked"][0]["reasons"]
    assert [(r["element"], r["reason"]) for r in reasons] == [("handle_exception", "no-target")]
    body = dry(team["analyst"], {**PLAN, "variables": {}}).get_json()
    assert body["movable"] == 1 and body["blocked_count"] == 2
    assert [(r["element"], r["reason"], r["variable"]) for r in body["blocked"][0]["reasons"]] \
        == [("handle_order_exception", "missing-variable", "triage_agent")]
    body = dry(team["analyst"], PLAN).get_json()
    assert body["movable"] == 3 and body["blocked"] == []
    assert (AuditEvent.select().count(), [i.state for i in Instance.select()]) == before


@pytest.mark.parametrize("change, status, field, element", [
    ({"target_version": 9}, 422, "target_version", "order_exception"),
    ({"source_version": 2}, 422, "target_version", "order_exception"),
    ({"mapping": {"handle_exception": "handle_it"}}, 422, "mapping", "handle_it"),
    ({"mapping": {"no_such_task": "check_refund"}}, 422, "mapping", "no_such_task"),
    ({"process": "no_such_process"}, 422, "process", "no_such_process"),
    ({"variables": ["x"]}, 422, "variables", None),
])
def test_a_bad_plan_is_refused_naming_the_element(team, running, change, status, field, element):
    r = dry(team["analyst"], {**PLAN, **change})
    body = r.get_json()
    assert r.status_code == status and r.mimetype == "application/problem+json", body
    assert body["field"] == field and body.get("element") == element
    r = team["analyst"].post("/api/v1/migrations", json={**PLAN, **change})
    assert r.status_code == status
    assert {i.definition.version for i in Instance.select()} == {1}      # nothing moved
    assert team["agent"].post("/api/v1/migrations/dry-run", json=PLAN).status_code == 403


def test_execute_moves_each_instance_with_its_audit_and_they_go_on_in_version_2(team, running):
    [before] = Task.select().where(Task.case == running[0], Task.status == "open")
    broken = Instance.get(Instance.case == running[1])
    Instance.update(state='{"not": "a state"}').where(Instance.id == broken.id).execute()
    r = team["analyst"].post("/api/v1/migrations", json=PLAN)
    body = r.get_json()
    assert r.status_code == 200, body
    assert body["moved"] == 2 and body["blocked_count"] == 1 and body["failed_count"] == 0
    assert body["blocked"][0]["case_id"] == running[1]
    # the unreadable one moved nothing of itself
    broken = Instance.get_by_id(broken.id)
    assert broken.state == '{"not": "a state"}' and broken.definition.version == 1
    moved = [Instance.get(Instance.case == c) for c in (running[0], running[2])]
    assert {m.definition.version for m in moved} == {2}
    assert {Case.get_by_id(c).definition.version for c in (running[0], running[2])} == {2}
    events = list(AuditEvent.select().where(AuditEvent.kind == "instance.migrated"))
    assert sorted(e.case_id for e in events) == sorted([running[0], running[2]])
    # the renamed task is in the inbox under its new element, assigned as version 2 says
    assert open_elements(running[0]) == ["handle_order_exception"]
    [task] = Task.select().where(Task.case == running[0], Task.status.in_(["open", "claimed"]))
    assert task.assignee == "agent" and task.name == "Handle the order exception"
    assert task.engine_task_id == before.engine_task_id and task.due_at == before.due_at
    # the agent resolves it with a refund: version 2's new check comes before the approval
    r = team["agent"].post(f"/api/v1/tasks/{task.id}/complete",
                           json={"data": {"resolution": "refund", "refund_amount": 300}})
    assert r.status_code == 200, r.get_json()
    assert open_elements(running[0]) == ["check_refund"]
    # the case that waited for the approval goes on from it
    assert open_elements(running[2]) == ["approve_refund"]
    [approval] = Task.select().where(Task.case == running[2], Task.status.in_(["open", "claimed"]))
    team["sup"].post(f"/api/v1/tasks/{approval.id}/claim")
    r = team["sup"].post(f"/api/v1/tasks/{approval.id}/complete", json={"data": {"approved": True}})
    assert r.status_code == 200, r.get_json()
    assert open_elements(running[2]) == []
    # a second run finds nothing left to move but the broken one
    body = team["analyst"].post("/api/v1/migrations", json=PLAN).get_json()
    assert body["moved"] == 0 and body["blocked_count"] == 1


def test_the_command_line_dry_runs_and_migrates(team, running, config, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", config.database_url)
    monkeypatch.setenv("OMNIFLOW_AUDIT_KEY_FILE", config.audit_key_file)
    monkeypatch.setenv("OMNIFLOW_AUDIT_CHECKPOINTS", config.audit_checkpoint_file)
    args = ["migrate-instances", "order_exception", "--from", "1", "--to", "2",
            "--map", "handle_exception=handle_order_exception"]
    result = CliRunner().invoke(cli, [*args, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "1 of 3 running instances can move; 2 cannot" in result.output
    assert "triage_agent" in result.output
    result = CliRunner().invoke(cli, [*args, "--set", "triage_agent=\"agent\"", "--as", "ops"])
    assert result.exit_code == 0, result.output
    assert "moved 3; 0 blocked; 0 failed" in result.output
    assert {e.actor for e in AuditEvent.select().where(AuditEvent.kind == "instance.migrated")} \
        == {"ops"}


def test_an_instance_that_would_fail_in_the_target_moves_nothing(team, running):
    """The plan sets the variable the target reads to a value its due date cannot use: the
    move fails in memory and nothing of the instance is written."""
    text = version_2().replace('camunda:assignee="${triage_agent}"',
                               'camunda:assignee="${triage_agent}" camunda:followUpDate='
                               '"${triage_agent}"')
    r = team["analyst"].post("/api/v1/deployments", data={"files": [
        (io.BytesIO(text.encode()), "order_exception.bpmn")]},
        content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()
    states = {i.id: (i.state, i.version) for i in Instance.select()}
    body = team["analyst"].post("/api/v1/migrations", json={**PLAN, "target_version": 3}
                                ).get_json()
    assert body["moved"] == 1 and body["failed_count"] == 2, body       # the approval moves
    assert {f["case_id"] for f in body["failed"]} == set(running[:2])
    assert all(f["element"] == "handle_order_exception" for f in body["failed"])
    for i in Instance.select().where(Instance.case.in_(running[:2])):
        assert (i.state, i.version) == states[i.id] and i.definition.version == 1
    assert AuditEvent.select().where(AuditEvent.kind == "instance.migrated").count() == 1
