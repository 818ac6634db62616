"""GET /cases/{id}/diagram, GET /kpis and POST /validations on the shipped order exception."""
from __future__ import annotations

import io
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ORDER = {"order_id": "1001", "reason": "damaged", "channel": "web", "value": 420, "margin": 0.3,
         "customer_tier": "gold", "days_late": 2, "prior_contacts_90d": 3,
         "prior_exceptions_90d": 1, "order_weekday": 2}


@pytest.fixture
def team(users, deployed):
    return {"oms": users.make("oms", ["oms"], client=True),
            "agent": users.make("agent", ["customer_service"], {"refund": 100}),
            "sup": users.make("sup", ["cs_supervisor"], {"refund": 500}),
            "analyst": users.make("analyst", ["analyst"]),
            "outsider": users.make("outsider", ["merchandising"])}


def open_case(team):
    response = team["oms"].post("/api/v1/cases", json={"type": "order_exception", "data": ORDER})
    assert response.status_code == 201
    return response.get_json()


def test_the_diagram_marks_what_ran_and_what_waits(team):
    case = open_case(team)
    d = team["agent"].get(f"/api/v1/cases/{case['id']}/diagram").get_json()
    assert d["definition"]["key"] == "order_exception" and "<bpmn:process" in d["xml"]
    states = d["elements"]
    assert states["route_exception"] == "completed"          # the routing table ran
    assert states["resolution_gw"] == "completed" and states["flow_manual"] == "completed"
    assert states["handle_exception"] == "active"            # the agent's task waits
    assert states["resolve_manually"] == "active"            # and so its sub-process
    assert states["sla_breached"] == "active"                # the SLA timer on it is armed
    assert "reship" not in states                            # a branch not taken
    assert d["path"][:3] == ["order_received", "route_exception", "resolution_gw"] or \
        d["path"][1:3] == ["route_exception", "resolution_gw"]
    task = case["tasks"][0]["id"]
    team["agent"].post(f"/api/v1/tasks/{task}/claim")
    team["agent"].post(f"/api/v1/tasks/{task}/complete",
                       json={"data": {"resolution": "refund", "refund_amount": 300}})
    after = team["sup"].get(f"/api/v1/cases/{case['id']}/diagram").get_json()["elements"]
    assert after["handle_exception"] == "completed" and after["approve_refund"] == "active"
    assert "sla_breached" not in after                       # cancelled with its task


def test_a_case_nobody_showed_you_has_no_diagram(team):
    case = open_case(team)
    response = team["outsider"].get(f"/api/v1/cases/{case['id']}/diagram")
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_kpis_count_open_work_and_closed_cases(team):
    case = open_case(team)
    body = team["sup"].get("/api/v1/kpis?days=7").get_json()
    assert body["window"]["days"] == 7
    groups = {g["group"]: g for g in body["open_tasks"]}
    assert groups["customer_service"]["by_age"]["under 1 h"] == 1
    escalations = {e["case_type"]: e for e in body["escalations"]}
    assert escalations["order_exception"]["cases_opened"] == 1
    assert [m["model"] for m in body["model_drift"]]
    task = case["tasks"][0]["id"]
    team["agent"].post(f"/api/v1/tasks/{task}/claim")
    team["agent"].post(f"/api/v1/tasks/{task}/complete", json={"data": {"resolution": "reship"}})
    body = team["sup"].get("/api/v1/kpis").get_json()
    cycle = {c["case_type"]: c for c in body["cycle_time"]}["order_exception"]
    assert cycle["closed"] == 1 and cycle["p50_hours"] is not None
    auto = {c["case_type"]: c for c in body["auto_resolution"]}["order_exception"]
    assert auto == {"case_type": "order_exception", "closed": 1, "automatic": 0, "rate": 0.0}
    sla = {c["case_type"]: c for c in body["sla"]}["order_exception"]
    assert sla["met"] == 1 and sla["attainment"] == 1.0


def test_kpis_refuse_machines_and_bad_windows(team):
    assert team["oms"].get("/api/v1/kpis").status_code == 403
    bad = team["sup"].get("/api/v1/kpis?days=0")
    assert bad.status_code == 422 and bad.get_json()["field"] == "days"


def test_validation_names_the_element_at_fault_and_stores_nothing(team):
    source = (ROOT / "dmn" / "exception_routing.dmn").read_text()
    ok = team["analyst"].client.post(
        "/api/v1/validations", headers=team["analyst"].headers, content_type="multipart/form-data",
        data={"files": (io.BytesIO(source.encode()), "exception_routing.dmn")})
    assert ok.status_code == 200 and ok.get_json()["definitions"][0]["key"] == "exception_routing"
    broken = source.replace("&gt;= 0.7", "&gt;= = 0.7", 1)
    bad = team["analyst"].client.post(
        "/api/v1/validations", headers=team["analyst"].headers, content_type="multipart/form-data",
        data={"files": (io.BytesIO(broken.encode()), "exception_routing.dmn")})
    assert bad.status_code == 422
    assert bad.get_json()["element"] and bad.get_json()["file"] == "exception_routing.dmn"
    versions = team["analyst"].get("/api/v1/definitions/exception_routing?kind=dmn").get_json()
    assert len(versions["versions"]) == 1
    refused = team["agent"].client.post(
        "/api/v1/validations", headers=team["agent"].headers, content_type="multipart/form-data",
        data={"files": (io.BytesIO(source.encode()), "exception_routing.dmn")})
    assert refused.status_code == 403


def test_the_new_operations_are_documented_with_their_errors(client, db):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path, method, codes in [("/api/v1/cases/{case_id}/diagram", "get", {"200", "401", "404"}),
                                ("/api/v1/kpis", "get", {"200", "401", "403", "422"}),
                                ("/api/v1/validations", "post", {"200", "401", "403", "422"})]:
        responses = paths[path][method]["responses"]
        assert codes <= set(responses), (path, sorted(responses))
        assert "application/problem+json" in responses["401"]["content"]
