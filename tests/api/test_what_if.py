"""POST /api/v1/decisions/{key}/what-if: past decisions of the shipped routing table replayed
against candidate tables, on the real engine's records; nothing is written."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from service.cli import cli
from service.store import AuditEvent, Case, DecisionRecord
from tests.api.test_decisions_api import DATED

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = (ROOT / "dmn" / "exception_routing.dmn").read_text()
ORDER = {"order_id": "1001", "reason": "payment_failed", "channel": "web", "value": 50,
         "margin": 0.2, "customer_tier": "bronze", "days_late": 0, "prior_contacts_90d": 0,
         "prior_exceptions_90d": 0, "order_weekday": 2}


def rule(text: str, rule_id: str) -> tuple[int, int]:
    start = text.index(f'<rule id="{rule_id}">')
    return start, text.index("</rule>", start) + len("</rule>")


def with_rule_output(rule_id: str, old: str, new: str) -> str:
    a, b = rule(SHIPPED, rule_id)
    return SHIPPED[:a] + SHIPPED[a:b].replace(old, new, 1) + SHIPPED[b:]


def without_rule(rule_id: str) -> str:
    a, b = rule(SHIPPED, rule_id)
    return SHIPPED[:a] + SHIPPED[b:]


@pytest.fixture
def team(users, deployed):
    return {"oms": users.make("oms", ["oms"], client=True),
            "analyst": users.make("analyst", ["analyst"]),
            "auditor": users.make("auditor", ["auditor"]),
            "agent": users.make("agent", ["customer_service"], {"refund": 100})}


@pytest.fixture
def history(team):
    """Cases opened through the API (the engine evaluates the routing table for each) and two
    evaluations on request."""
    cases = []
    for i, (reason, value) in enumerate([("payment_failed", 50), ("payment_failed", 60),
                                         ("payment_failed", 70), ("address_invalid", 40),
                                         ("address_invalid", 45), ("short_pick", 20)]):
        r = team["oms"].post("/api/v1/cases", json={
            "type": "order_exception", "data": {**ORDER, "order_id": f"O-{i}",
                                                "reason": reason, "value": value}})
        assert r.status_code == 201, r.get_json()
        cases.append(r.get_json()["id"])
    for value in (10, 900):
        r = team["analyst"].post("/api/v1/decisions/exception_routing/evaluate", json={
            "inputs": {"reason": "payment_failed", "customer_tier": "bronze", "value": value,
                       "margin": 0.2, "escalation_risk": 0.1}})
        assert r.status_code == 200, r.get_json()
    records = list(DecisionRecord.select().where(DecisionRecord.kind == "decision",
                                                 DecisionRecord.definition_key
                                                 == "exception_routing"))
    assert len(records) == 8
    return cases, records


def what_if(actor, text, key="exception_routing", name="exception_routing.dmn", **query):
    return actor.post(f"/api/v1/decisions/{key}/what-if", query_string=query,
                      data={"files": [(io.BytesIO(text.encode()), name)]},
                      content_type="multipart/form-data")


def matched(record) -> set:
    return {r["rule_id"] for rules in record.matched_rules.values() for r in rules}


def counts():
    return DecisionRecord.select().count(), AuditEvent.select().count(), Case.select().count()


def test_the_engine_records_name_their_decision(history):
    _, records = history
    assert {r.element_id for r in records} == {"exception_routing"}


def test_an_unchanged_table_changes_nothing(team, history):
    before = counts()
    r = what_if(team["analyst"], SHIPPED)
    body = r.get_json()
    assert r.status_code == 200, body
    assert body["replayed"] == 8 and body["changed"] == 0 and body["failed"] == 0
    assert body["transitions"] == [] and body["rules"] == {"started_matching": [],
                                                           "stopped_matching": []}
    assert body["deployed"] == {"key": "exception_routing", "version": 1}
    assert body["history"]["selected"] == 8 and body["history"]["truncated"] is False
    assert body["candidate"]["same_as_deployed"] is True
    assert counts() == before                                  # no record, no audit, no case


def test_a_changed_output_counts_transitions_by_output(team, history):
    cases, records = history
    on_rule_8 = [r for r in records if matched(r) == {"Rule_exception_routing_08"}]
    assert len(on_rule_8) >= 4               # the two evaluations at least, and the low-risk cases
    r = what_if(team["analyst"], with_rule_output("Rule_exception_routing_08", '"P2"', '"P3"'))
    body = r.get_json()
    assert r.status_code == 200, body
    assert body["replayed"] == 8 and body["changed"] == len(on_rule_8)
    assert body["by_output"] == {"priority": len(on_rule_8)}
    assert body["transitions"] == [{"output": "priority", "from": "P2", "to": "P3",
                                    "count": len(on_rule_8),
                                    "case_ids": sorted((r.case_id for r in on_rule_8
                                                        if r.case_id), reverse=True)}]
    assert body["rules"]["started_matching"] == [] == body["rules"]["stopped_matching"]
    assert {e["case_id"] for e in body["examples"]} == {r.case_id for r in on_rule_8}
    assert set(body["example_case_ids"]) <= set(cases)


def test_a_removed_rule_stops_matching_and_others_start(team, history):
    _, records = history
    on_rule_8 = [r for r in records if matched(r) == {"Rule_exception_routing_08"}]
    body = what_if(team["analyst"], without_rule("Rule_exception_routing_08")).get_json()
    stopped = body["rules"]["stopped_matching"]
    assert [(s["rule_id"], s["row"], s["count"]) for s in stopped] == [
        ("Rule_exception_routing_08", 8, len(on_rule_8))]
    assert sum(s["count"] for s in body["rules"]["started_matching"]) == len(on_rule_8)
    assert "Rule_exception_routing_08" not in {s["rule_id"]
                                               for s in body["rules"]["started_matching"]}


def test_filters_narrow_the_history(team, history):
    cases, records = history
    body = what_if(team["analyst"], SHIPPED, case_type="order_exception").get_json()
    assert body["replayed"] == len(cases)                  # the two evaluations have no case
    body = what_if(team["analyst"], SHIPPED, limit=3).get_json()
    assert body["replayed"] == 3 and body["history"]["truncated"] is True
    newest = max(r.created_at for r in records)
    body = what_if(team["analyst"], SHIPPED, since=(newest.replace(year=newest.year + 1))
                   .isoformat()).get_json()
    assert body["replayed"] == 0 and body["changed"] == 0
    body = what_if(team["auditor"], SHIPPED, decision="exception_routing").get_json()
    assert body["replayed"] == 8                            # auditors read


@pytest.mark.parametrize("text, name, status, element", [
    ("<definitions", "exception_routing.dmn", 422, None),
    (SHIPPED, "other_table.dmn", 422, "exception_routing"),
    (SHIPPED.replace('decision id="exception_routing"', 'decision id="routing_2"'),
     "exception_routing.dmn", 422, "exception_routing"),
])
def test_a_bad_candidate_is_a_422_naming_it(team, history, text, name, status, element):
    r = what_if(team["analyst"], text, name=name)
    body = r.get_json()
    assert r.status_code == status and r.mimetype == "application/problem+json", body
    assert body["file"] == name
    if element:
        assert body["element"] == element


def test_bad_requests_name_the_field(team, history):
    r = what_if(team["analyst"], SHIPPED, since="yesterday")
    assert r.status_code in (400, 422) and r.mimetype == "application/problem+json"
    assert "since" in str(r.get_json())
    r = what_if(team["analyst"], SHIPPED, key="no_such_table")
    assert r.status_code == 404 and r.get_json()["decision"] == "no_such_table"
    r = what_if(team["agent"], SHIPPED)
    assert r.status_code == 403
    r = team["analyst"].post("/api/v1/decisions/exception_routing/what-if", data={},
                             content_type="multipart/form-data")
    assert r.status_code == 422 and r.get_json()["field"] == "files"


def test_the_command_line_replays_with_a_progress_bar(team, history, config, tmp_path,
                                                      monkeypatch):
    candidate = tmp_path / "exception_routing.dmn"
    candidate.write_text(with_rule_output("Rule_exception_routing_09", '"P2"', '"P1"'))
    monkeypatch.setenv("DATABASE_URL", config.database_url)
    monkeypatch.setenv("OMNIFLOW_AUDIT_KEY_FILE", config.audit_key_file)
    monkeypatch.setenv("OMNIFLOW_AUDIT_CHECKPOINTS", config.audit_checkpoint_file)
    before = counts()
    result = CliRunner().invoke(cli, ["what-if", "exception_routing", str(candidate)])
    assert result.exit_code == 0, result.output
    on_rule_9 = [r for r in history[1] if matched(r) == {"Rule_exception_routing_09"}]
    assert re.search(rf"{len(on_rule_9)} of 8 past decisions of exception_routing would change",
                     result.output)
    assert "priority: 'P2' -> 'P1'" in result.output
    assert counts() == before


def test_recorded_dates_and_durations_replay_as_dates_and_durations(team):
    """JSON records a date as text; the replay reads it back as the input's type, so an
    unchanged table with date and duration inputs changes nothing."""
    text = DATED.replace("{soon}", "expedite")
    r = team["analyst"].post("/api/v1/deployments", data={"files": [
        (io.BytesIO(text.encode()), "promo_window.dmn")]}, content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()
    for starts, lead in (("2026-11-28", "P5D"), ("2026-12-05", "P1D"), ("2026-12-24", "P9D")):
        r = team["analyst"].post("/api/v1/decisions/launch_check/evaluate", json={"inputs": {
            "starts": {"type": "date", "value": starts},
            "lead": {"type": "duration", "value": lead}}})
        assert r.status_code == 200, r.get_json()
    body = what_if(team["analyst"], text, key="promo_window", name="promo_window.dmn").get_json()
    assert body["replayed"] == 3 and body["changed"] == 0 and body["warnings"] == [], body
    body = what_if(team["analyst"], DATED.replace("{soon}", "escalate"), key="promo_window",
                   name="promo_window.dmn").get_json()
    assert body["changed"] == 1 and body["transitions"][0]["to"] == "escalate", body
