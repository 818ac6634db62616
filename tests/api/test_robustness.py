"""Whatever a client sends: a 4xx problem+json, never a 500, never rows left behind.

Each test names the input a fuzzing run found answering 500 (or accepting what it should not),
and checks both the answer and that a refused request wrote nothing.
"""
import base64
import io
import json

import pytest

from service import store

ORDER = {"order_id": "O-1", "reason": "late_shipment", "channel": "web", "value": 120.5,
         "margin": 0.2, "customer_tier": "gold", "days_late": 3}
JSON = {"Content-Type": "application/json"}
EVALUATE = "/api/v1/decisions/approval_authority/evaluate"


def _counts():
    return {t._meta.table_name: t.select().count() for t in store.ALL_TABLES
            if t._meta.table_name not in ("user", "api_token", "schema_version")}


def problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["type"].startswith("/problems/")
    return body


def refused(call, status):
    """``call()`` answers ``status`` as problem+json and leaves every table as it was."""
    before = _counts()
    body = problem(call(), status)
    assert _counts() == before
    return body


def cursor(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


@pytest.fixture
def people(users, deployed):
    return {"oms": users.make("oms", ["oms"], client=True),
            "agent": users.make("cs_agent", ["customer_service"], {"refund": 100}),
            "sup": users.make("cs_sup", ["cs_supervisor", "customer_service"], {"refund": 500}),
            "store": users.make("sam", ["store_associate"]),
            "analyst": users.make("ana", ["analyst"]),
            "auditor": users.make("aud", ["auditor"]),
            "admin": users.make("root", ["admin"])}


@pytest.fixture
def case(people):
    response = people["oms"].post("/api/v1/cases", json={"type": "order_exception",
                                                         "data": ORDER})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


# --- JSON bodies: one check at the edge for every endpoint ---------------------------------

UNSTORABLE = [
    '{"type": "order_exception", "data": {"a": ' + '[' * 5000 + ']' * 5000 + '}}',   # was 500
    '{"type": "order_exception", "data": ' + '{"a":' * 100 + '1' + '}' * 100 + '}',
    '{"type": "order_exception", "data": {"value": ' + '9' * 5000 + '}}',            # was 500
    '{"type": "order_exception", "data": {"value": NaN}}',
    '{"type": "order_exception", "data": {"value": Infinity}}',
    '{"type": "order_exception", "data": {"order_id": "a\\u0000b"}}',
    '{"type": "order_exception", "data": {"order_id": "\\ud800"}}',
    '{"type": ',
]


def test_json_bodies_that_cannot_be_stored_are_400(people):
    for raw in UNSTORABLE:
        refused(lambda: people["oms"].post("/api/v1/cases", data=raw, headers=JSON), 400)
    _nul_in_any_json_body_is_400(people)


def _nul_in_any_json_body_is_400(people):
    # Was a 500 on PostgreSQL, which refuses NUL in text.
    body = refused(lambda: people["admin"].post("/api/v1/users", json={"name": "\x00"}), 400)
    assert body["field"] == "name"


def test_wrong_json_types_on_case_submission_are_422(people):
    for raw in ("", "null", "[]", "1", '"x"', '{"type": 5}', '{"type": ["a"]}',
                '{"type": "order_exception", "data": []}',
                '{"type": "order_exception", "external_ref": 5}'):
        refused(lambda: people["oms"].post("/api/v1/cases", data=raw, headers=JSON), 422)
    _non_json_content_types_are_4xx(people)


def _non_json_content_types_are_4xx(people):
    for data, ctype in (("<a/>", "application/xml"), ("type=x", "application/x-www-form-urlencoded")):
        response = people["oms"].post("/api/v1/cases", data=data, headers={"Content-Type": ctype})
        problem(response, 422)


def test_invalid_case_data_writes_nothing(people):
    for data in (dict(ORDER, value=-3), dict(ORDER, value="1"), dict(ORDER, extra=1),
                 dict(ORDER, promised_at="garbage")):           # date-time was not checked
        body = refused(lambda: people["oms"].post("/api/v1/cases", json={
            "type": "order_exception", "data": data}, headers={"Idempotency-Key": "k"}), 422)
        assert body["field"] in ("value", "extra", "promised_at")
    assert people["oms"].post("/api/v1/cases", json={
        "type": "order_exception", "data": dict(ORDER, promised_at="2026-01-31T10:00:00Z")},
        headers={"Idempotency-Key": "k"}).status_code == 201


# --- ids, query strings and cursors -------------------------------------------------------

HUGE_IDS = [
    ("GET", "/api/v1/cases/99999999999999999999999"),                   # were 500 on SQLite
    ("GET", "/api/v1/cases/99999999999999999999999/timeline"),
    ("POST", "/api/v1/cases/99999999999999999999999/cancel"),
    ("GET", "/api/v1/tasks/99999999999999999999"),
    ("POST", "/api/v1/tasks/99999999999999999999/claim"),
    ("POST", "/api/v1/tasks/99999999999999999999/unclaim"),
    ("POST", "/api/v1/tasks/99999999999999999999/complete"),
    ("POST", "/api/v1/tasks/99999999999999999999/delegate"),
    ("GET", "/api/v1/incidents/99999999999999999999"),
    ("POST", "/api/v1/incidents/99999999999999999999/retry"),
    ("GET", "/api/v1/models/escalation_risk/versions/99999999999999999999"),
]


def test_ids_beyond_64_bits_are_404(people):
    for method, url in HUGE_IDS:
        kw = {"json": {"reason": "x", "to": "root", "data": {}}} if method == "POST" else {}
        call = people["admin"].post if method == "POST" else people["admin"].get
        refused(lambda: call(url, **kw), 404)
    _non_integer_path_ids_are_404(people)


def test_unauthenticated_still_401_before_the_id_check(client):
    problem(client.get("/api/v1/cases/99999999999999999999999"), 401)


def _non_integer_path_ids_are_404(people):
    for url in ("/api/v1/cases/abc", "/api/v1/cases/-1", "/api/v1/cases/1.5",
                "/api/v1/tasks/x/claim"):
        problem(people["admin"].get(url), 404)


def test_cursors_of_the_wrong_shape_are_400(people):
    # Each was a 500 (int() of a string, list or dict; fromisoformat of garbage; overflow).
    raws = [cursor(v) for v in ("abc", [1, 2], {"a": 1}, 10**30, None, -1, ["garbage", 1],
                                [None, "1"])] + [base64.urlsafe_b64encode(b"1e999").decode()]
    for raw in raws:
        for url in ("/api/v1/cases", "/api/v1/tasks", "/api/v1/audit"):
            problem(people["admin"].get(url, query_string={"cursor": raw}), 400)
    problem(people["admin"].get("/api/v1/cases", query_string={"cursor": cursor([None, 1])}),
            400)
    problem(people["admin"].get("/api/v1/tasks", query_string={"cursor": cursor(1)}), 400)


def test_cursors_still_page(people, case):
    people["oms"].post("/api/v1/cases", json={"type": "order_exception", "data": ORDER})
    first = people["admin"].get("/api/v1/cases?limit=1").get_json()
    second = people["admin"].get("/api/v1/cases", query_string={"limit": 1,
                                                                "cursor": first["next"]})
    assert second.status_code == 200 and second.get_json()["items"][0]["id"] == case["id"]
    audit = people["auditor"].get("/api/v1/audit?limit=2").get_json()
    assert people["auditor"].get("/api/v1/audit", query_string={
        "limit": 2, "cursor": audit["next"]}).status_code == 200


def _nul_in_path_or_query_is_400(people):
    for url in ("/api/v1/cases?type=%00", "/api/v1/definitions/%00", "/api/v1/signals/%00",
                "/api/v1/tasks?case_type=a%00"):
        problem(people["admin"].get(url), 400)          # was 500 on PostgreSQL


BAD_QUERIES = [
    ("/api/v1/audit?case=abc", 422),                  # was the whole trail, unfiltered
    ("/api/v1/audit?case=99999999999999999999", 422),  # was 500
    ("/api/v1/audit?limit=0", 422),
    ("/api/v1/definitions/order_exception?version=abc", 422),   # was the newest, silently
    ("/api/v1/definitions/order_exception?version=0", 422),
    ("/api/v1/definitions?kind=nope", 422),
]


def test_bad_query_parameters_are_refused(people):
    for url, status in BAD_QUERIES:
        problem(people["auditor"].get(url), status)
    _nul_in_path_or_query_is_400(people)


# --- decisions ----------------------------------------------------------------------------

BAD_TYPED = [
    {"type": "date", "value": "garbage"}, {"type": "date", "value": 5},
    {"type": "time", "value": "25:99"}, {"type": "datetime", "value": "2020-13-45T99"},
    {"type": "duration", "value": "garbage"},               # was null, answered 200
    {"type": "duration", "value": '") + 1 + ("'},           # was spliced into FEEL
    {"type": "years and months duration", "value": "PT4H"},
    {"type": "number", "value": "Infinity"},                # was 500
    {"type": "number", "value": "sNaN"},                    # was 500
    {"type": "number", "value": "NaN"},
    {"type": "number", "value": "1e999999999"},             # hung the request (int() of it)
    {"type": "number", "value": "9" * 5000},                # was 500
    {"type": "number", "value": [1]},
    {"type": "weird", "value": "1"}, {"type": ["date"], "value": "1"},
]


def test_typed_decision_inputs_are_checked(people):
    for value in BAD_TYPED:
        body = refused(lambda: people["agent"].post(
            EVALUATE, json={"inputs": {"amount": value, "action": "refund"}}), 422)
        assert body["field"] == "amount", value
    _decision_bodies_of_the_wrong_shape_are_422(people)


def test_typed_decision_inputs_that_are_fine(people):
    for value, group in (({"type": "number", "value": "50"}, "cs_supervisor"),
                         ({"type": "number", "value": 20000}, "finance")):
        response = people["agent"].post(EVALUATE, json={"inputs": {"amount": value,
                                                                   "action": "refund"}})
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["outputs"]["required_group"] == group
    duration = people["agent"].post(EVALUATE, json={"inputs": {
        "amount": {"type": "duration", "value": "P1D"}, "action": "refund"}})
    assert duration.status_code == 200


def _decision_bodies_of_the_wrong_shape_are_422(people):
    for raw in ('{"inputs": []}', '{"inputs": 5}', "[]", "null", ""):
        refused(lambda: people["agent"].post(EVALUATE, data=raw, headers=JSON), 422)


def test_decision_version_parameter(people):
    problem(people["agent"].post(EVALUATE + "?version=abc", json={"inputs": {}}), 422)
    problem(people["agent"].post(EVALUATE + "?version=99999999999999999999",
                                 json={"inputs": {}}), 422)           # was 500
    problem(people["agent"].post(EVALUATE + "?version=99", json={"inputs": {}}), 404)


# --- models -------------------------------------------------------------------------------

def test_model_versions_beyond_64_bits_are_422(people):
    for path in ("activation", "shadow"):                                # were 500
        refused(lambda: people["admin"].post(f"/api/v1/models/escalation_risk/{path}",
                                             json={"version": 10**20}), 422)
    _shadow_of_an_unknown_model_is_404(people)


def _shadow_of_an_unknown_model_is_404(people):
    # Was 200 {"name": "nope", "shadow_version": null}.
    refused(lambda: people["admin"].post("/api/v1/models/nope/shadow", json={"version": None}),
            404)


def test_bad_score_features_are_422(people):
    good = {"reason": "damaged", "channel": "web", "order_value": 100, "margin": 0.1,
            "customer_tier": "gold", "days_late": 1, "prior_contacts_90d": 0,
            "prior_exceptions_90d": 0, "order_weekday": 2}
    for features in ({"reason": None}, {"order_value": "x"}, {"order_value": [1]},
                     {"order_value": 1e308}, {"customer_tier": "diamond"}, {"extra": 1}):
        refused(lambda: people["agent"].post("/api/v1/models/escalation_risk/score",
                                             json={"features": {**good, **features}}), 422)


# --- tasks --------------------------------------------------------------------------------

def test_task_inputs(people, case):
    task = case["tasks"][0]["id"]
    agent = people["agent"]
    url = f"/api/v1/tasks/{task}/complete"
    for data in ({"resolution": 5}, {"resolution": "reship", "extra": 1},
                 {"resolution": "reship", "refund_amount": 1.5},
                 {"resolution": "reship", "refund_amount": -1}):
        refused(lambda: agent.post(url, json={"data": data}), 422)
    refused(lambda: agent.post(url, data='{"data": {"resolution": "reship", '
                                          '"refund_amount": Infinity}}', headers=JSON), 400)
    refused(lambda: people["store"].post(url, json={"data": {"resolution": "reship"}}), 404)
    refused(lambda: people["auditor"].post(f"/api/v1/tasks/{task}/claim"), 403)
    for body in ({}, {"to": ""}, {"to": "nobody"}, {"to": 5}, {"to": "x" * 500}):
        refused(lambda: agent.post(f"/api/v1/tasks/{task}/delegate", json=body), 422)
    assert agent.post(url, json={"data": {"resolution": "reship"}}).status_code == 200


def test_conflict_keeps_the_http_status_member(people, case):
    task = case["tasks"][0]["id"]
    people["agent"].post(f"/api/v1/tasks/{task}/complete", json={"data": {"resolution": "reship"}})
    # Was {"status": "completed"}: the task's state overwrote the problem's HTTP status.
    body = refused(lambda: people["agent"].post(f"/api/v1/tasks/{task}/claim"), 409)
    assert body["context"] == {"status": "completed"}


def test_cancel_inputs(people, case):
    url = f"/api/v1/cases/{case['id']}/cancel"
    for body in ({}, {"reason": ""}, {"reason": "   "}, {"reason": 5}, {"reason": "x" * 3000}):
        refused(lambda: people["sup"].post(url, json=body), 422)
    refused(lambda: people["store"].post(url, json={"reason": "not mine"}), 404)


# --- deployments --------------------------------------------------------------------------

PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="x">
  <bpmn:process id="{pid}" isExecutable="true">
    <bpmn:startEvent id="begin"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="begin" targetRef="work" />
    <bpmn:userTask id="work" name="{name}" camunda:candidateGroups="finance">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="finish" />
    <bpmn:endEvent id="finish"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def deploy(actor, **named):
    files = [(io.BytesIO(v if isinstance(v, bytes) else v.encode()), k) for k, v in named.items()]
    return actor.post("/api/v1/deployments", data={"files": files},
                      content_type="multipart/form-data")


def process(pid="fz_ok", name="Count"):
    return PROCESS.format(pid=pid, name=name)


WERE_500 = [
    {"u.bpmn": process().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")},
    {"x.case.json": json.dumps({"type": "fz_ok", "cancel_groups": 5})},              # was 500
    {"r.json": "[" * 100000 + "]" * 100000},                                          # was 500
]


def test_deployments_that_were_500(people):
    for files in WERE_500:
        refused(lambda: deploy(people["analyst"], **files), 422)
    _malformed_multipart_is_422(people)


REFUSED = [
    {"p.bpmn": process(pid="p" * 300)},                         # key over the column (PG 500)
    {"n.bpmn": process(name="N" * 400)},                        # task name over the column
    {"x.case.json": json.dumps({"type": "fz_ok", "cancel_groups": "admin"})},  # was 5 groups
    {"x.case.json": json.dumps({"type": "fz_ok", "cancel_groups": [{"a": 1}]})},
    {"x.case.json": json.dumps({"type": "fz_ok", "scoring": {"model": "nope"}})},
    {"x.case.json": json.dumps({"type": "fz_ok", "scoring": {"model": 5}})},
    {"x.case.json": json.dumps({"type": "fz_ok", "schema": {"$ref": "http://example.com/s"}})},
    {"x.case.json": '{"type": "fz_ok", "schema": {"maximum": NaN}}'},
    {"b.bpmn": "<bpmn:definitions"},
    {"e.bpmn": ""},
    {"x.bpmn": '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
               '<d>&e;</d>'},
    {"d.bpmn": "<a>" * 10000 + "</a>" * 10000},
    {"x.txt": "hello"},
    {"x.dmn": "<definitions"},
]


def test_deployments_refused_before_anything_is_stored(people):
    for files in REFUSED:
        refused(lambda: deploy(people["analyst"], **files), 422)
    _deployment_file_names(people)


def _deployment_file_names(people):
    for name in ("a\x00.bpmn", "a" * 400 + ".bpmn", "\u202egpj.bpmn"):
        body = refused(lambda: deploy(people["analyst"], **{name: process()}), 422)
        assert body["field"] == "files"


def _malformed_multipart_is_422(people):
    for data, ctype in ((b'--xx\r\nContent-Disposition: form-data; name="files"; '
                         b'filename="a.bpmn"\r\n\r\nabc', "multipart/form-data; boundary=xx"),
                        (b"abc", "multipart/form-data"), (b'{"files": []}', "application/json")):
        refused(lambda: people["analyst"].post("/api/v1/deployments", data=data,
                                               headers={"Content-Type": ctype}), 422)


def test_a_good_deployment_still_works(people):
    response = deploy(people["analyst"], **{"../../x.bpmn": process(name="Zählen")})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["created"][0]["file"] == "x.bpmn"


# --- afterwards ---------------------------------------------------------------------------

def test_audit_chain_verifies_after_nasty_inputs(people, case):
    for raw in ('{"inputs": {"amount": {"type": "number", "value": "Infinity"}}}',
                '{"inputs": ' + "[" * 3000 + "]" * 3000 + "}"):
        people["agent"].post(EVALUATE, data=raw, headers=JSON)
    people["admin"].post("/api/v1/models/nope/shadow", json={"version": None})
    people["agent"].get("/api/v1/cases", query_string={"cursor": cursor("x")})
    result = people["auditor"].get("/api/v1/audit/verify").get_json()
    assert result["ok"] is True and result["first_bad_seq"] is None, result
