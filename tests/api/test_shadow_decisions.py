"""Shadow decisions: a candidate routing table evaluated beside the live one on real cases,
recorded in the decision record, never acted on; the report compares them."""
from __future__ import annotations

import io
from pathlib import Path

import pytest

from service.store import AuditEvent, Case, DecisionRecord, Task

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = (ROOT / "dmn" / "exception_routing.dmn").read_text()
ORDER = {"order_id": "1001", "reason": "payment_failed", "channel": "web", "value": 50,
         "margin": 0.2, "customer_tier": "bronze", "days_late": 0, "prior_contacts_90d": 0,
         "prior_exceptions_90d": 0, "order_weekday": 2}
RUNAWAY = 'count(for i in 1..100000000, j in 1..100000000 return 1)'


def rule_8(old: str, new: str) -> str:
    start = SHIPPED.index('<rule id="Rule_exception_routing_08">')
    end = SHIPPED.index("</rule>", start)
    return SHIPPED[:start] + SHIPPED[start:end].replace(old, new, 1) + SHIPPED[end:]


@pytest.fixture
def team(users, deployed):
    return {"oms": users.make("oms", ["oms"], client=True),
            "analyst": users.make("analyst", ["analyst"]),
            "auditor": users.make("auditor", ["auditor"]),
            "agent": users.make("agent", ["customer_service"])}


def set_shadow(actor, text, name="exception_routing.dmn", key="exception_routing"):
    return actor.post(f"/api/v1/decisions/{key}/shadow",
                      data={"files": [(io.BytesIO(text.encode()), name)]},
                      content_type="multipart/form-data")


def delete(actor, url):
    return actor.client.delete(url, headers=actor.headers)


def open_cases(team, n=3):
    ids = []
    for i in range(n):
        r = team["oms"].post("/api/v1/cases", json={"type": "order_exception",
                                                    "data": {**ORDER, "order_id": f"S-{i}"}})
        assert r.status_code == 201, r.get_json()
        ids.append(r.get_json()["id"])
    return ids


def routing_records(case_ids):
    return list(DecisionRecord.select().where(DecisionRecord.case.in_(case_ids),
                                              DecisionRecord.definition_key
                                              == "exception_routing"))


def test_the_shadow_is_recorded_beside_the_live_outcome_and_never_acted_on(team):
    r = set_shadow(team["analyst"], rule_8('"P2"', '"P1"'))
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["shadow_version"] == 1 and r.get_json()["live_version"] == 1
    assert AuditEvent.select().where(AuditEvent.kind == "decision.shadow_set").count() == 1
    cases = open_cases(team)
    records = routing_records(cases)
    assert len(records) == 3 and all(r.shadow["version"] == 1 for r in records)
    on_8 = [r for r in records if {m["rule_id"] for ms in r.matched_rules.values()
                                   for m in ms} == {"Rule_exception_routing_08"}]
    assert on_8, [r.matched_rules for r in records]
    for record in on_8:
        assert record.outputs["priority"] == "P2" and record.shadow["outputs"]["priority"] == "P1"
        assert Case.get_by_id(record.case_id).priority == "P2"         # the live outcome routes
    r = team["analyst"].post("/api/v1/decisions/exception_routing/evaluate", json={"inputs": {
        "reason": "payment_failed", "customer_tier": "bronze", "value": 10, "margin": 0.2,
        "escalation_risk": 0.1}})
    assert r.status_code == 200 and r.get_json()["outputs"]["priority"] == "P2"
    report = team["auditor"].get("/api/v1/decisions/exception_routing/shadow").get_json()
    assert report["compared"] == 4 and report["differed"] == len(on_8) + 1
    assert report["transitions"] == [{"output": "priority", "from": "P2", "to": "P1",
                                      "count": len(on_8) + 1,
                                      "case_ids": sorted((r.case_id for r in on_8),
                                                         reverse=True)}]
    assert report["shadow"] == {"version": 1}
    # removed: live evaluations stop evaluating it
    assert delete(team["analyst"], "/api/v1/decisions/exception_routing/shadow").status_code == 200
    later = open_cases(team, 1)
    assert [r.shadow for r in routing_records(later)] == [None]
    assert delete(team["analyst"], "/api/v1/decisions/exception_routing/shadow").status_code == 404


def test_a_runaway_shadow_is_recorded_as_an_error_and_the_case_goes_on(team):
    assert set_shadow(team["analyst"], rule_8('"P2"', RUNAWAY)).status_code == 201
    [case] = open_cases(team, 1)
    [record] = routing_records([case])
    assert Case.get_by_id(case).status == "open" and Task.select().where(Task.case == case).count()
    if {m["rule_id"] for ms in record.matched_rules.values()
            for m in ms} == {"Rule_exception_routing_08"}:
        assert "error" in record.shadow and record.outputs["priority"] == "P2"
    report = team["analyst"].get("/api/v1/decisions/exception_routing/shadow").get_json()
    assert report["compared"] + report["failed"] == 1


def test_a_bad_shadow_is_refused(team):
    r = set_shadow(team["analyst"], SHIPPED, name="other.dmn")
    assert r.status_code == 422 and r.get_json()["element"] == "exception_routing"
    r = set_shadow(team["analyst"], "<definitions")
    assert r.status_code == 422 and r.get_json()["file"] == "exception_routing.dmn"
    assert set_shadow(team["agent"], SHIPPED).status_code == 403
    assert set_shadow(team["analyst"], SHIPPED, key="nothing_here").status_code == 404
    assert team["agent"].get("/api/v1/decisions/exception_routing/shadow").status_code == 403
