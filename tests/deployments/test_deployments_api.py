"""Deploying analysts' files over the API: validation before storage, versions, all or nothing."""
import io
from pathlib import Path

import pytest

from service.store import Definition

ROOT = Path(__file__).resolve().parents[2]

SIMPLE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d1" targetNamespace="x">
  <bpmn:process id="{pid}" isExecutable="true">
    <bpmn:startEvent id="{start}"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="{start}" targetRef="review" />
    <bpmn:userTask id="review" name="Review" camunda:candidateGroups="store_manager">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="done" />
    <bpmn:endEvent id="done"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def bpmn(pid="simple_review", start="start", extra=""):
    return SIMPLE.format(pid=pid, start=start).replace("</bpmn:process>", extra + "</bpmn:process>")


@pytest.fixture
def analyst(users):
    return users.make("ana", ["analyst"])


def upload(actor, files: dict):
    data = {"files": [(io.BytesIO(content.encode() if isinstance(content, str) else content), name)
                      for name, content in files.items()]}
    return actor.post("/api/v1/deployments", data=data, content_type="multipart/form-data")


def test_deploy_creates_versions_and_unchanged_content_keeps_them(analyst):
    first = upload(analyst, {"review.bpmn": bpmn()})
    assert first.status_code == 201, first.get_json()
    assert [(c["key"], c["version"]) for c in first.get_json()["created"]] == [("simple_review", 1)]
    again = upload(analyst, {"review.bpmn": bpmn()})
    assert again.get_json()["created"] == []
    assert again.get_json()["unchanged"][0]["version"] == 1
    changed = upload(analyst, {"review.bpmn": bpmn().replace('name="Review"', 'name="Check"')})
    assert changed.get_json()["created"][0]["version"] == 2
    detail = analyst.get("/api/v1/definitions/simple_review").get_json()
    assert [v["version"] for v in detail["versions"]] == [1, 2]
    assert 'name="Check"' in detail["source"]
    v1 = analyst.get("/api/v1/definitions/simple_review?version=1").get_json()
    assert 'name="Review"' in v1["source"]
    listing = analyst.get("/api/v1/definitions").get_json()["items"]
    assert [(d["key"], d["version"]) for d in listing] == [("simple_review", 2)]


def test_running_instances_keep_their_version(analyst, users):
    upload(analyst, {"review.bpmn": bpmn()})
    client = users.make("pos", ["pos"], client=True)
    case = client.post("/api/v1/cases", json={"type": "simple_review", "data": {}}).get_json()
    upload(analyst, {"review.bpmn": bpmn().replace('name="Review"', 'name="Check"')})
    manager = users.make("mgr", ["store_manager"])
    task = case["tasks"][0]
    assert task["name"] == "Review"
    done = manager.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {}})
    assert done.status_code == 200 and done.get_json()["case_status"] == "completed"
    new = client.post("/api/v1/cases", json={"type": "simple_review", "data": {}}).get_json()
    assert new["tasks"][0]["name"] == "Check"


def test_all_or_nothing(analyst):
    response = upload(analyst, {"good.bpmn": bpmn("good_one"), "bad.bpmn": "<bpmn:definitions"})
    assert response.status_code == 422
    assert response.get_json()["file"] == "bad.bpmn"
    assert Definition.select().count() == 0


def test_parse_errors_name_file_element_and_line(analyst):
    broken = bpmn().replace('targetRef="done"', 'targetRef="nowhere"')
    body = upload(analyst, {"broken.bpmn": broken}).get_json()
    assert body["type"] == "/problems/definition-invalid"
    assert body["file"] == "broken.bpmn"
    assert body.get("element") and body.get("line")


def test_reserved_ids_are_refused(analyst):
    body = upload(analyst, {"reserved.bpmn": bpmn(start="Start")}).get_json()
    assert body["status"] == 422 and body["element"] == "Start"


def test_entities_and_dtds_are_refused(analyst):
    bomb = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]>'
            + bpmn().split("?>", 1)[1].replace('name="Review"', 'name="&lol;"'))
    response = upload(analyst, {"bomb.bpmn": bomb})
    assert response.status_code == 422 and response.get_json()["file"] == "bomb.bpmn"
    dmn = ('<?xml version="1.0"?><!DOCTYPE d SYSTEM "http://example.com/x.dtd">'
           '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="x" name="x" '
           'namespace="x"/>')
    assert upload(analyst, {"x.dmn": dmn}).status_code == 422


def test_size_cap(analyst, app):
    cap = app.extensions["omniflow"].max_definition_bytes
    huge = bpmn().replace("</bpmn:definitions>", "<!--" + "x" * cap + "--></bpmn:definitions>")
    response = upload(analyst, {"huge.bpmn": huge})
    assert response.status_code == 413 and response.get_json()["file"] == "huge.bpmn"


def with_step(pid, step):
    """The simple process with one more element between the review and the end."""
    return (bpmn(pid).replace('<bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="done" />',
                              '<bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="step" />'
                              '<bpmn:sequenceFlow id="f3" sourceRef="step" targetRef="done" />')
            .replace('<bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>',
                     '<bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>' + step))


def test_missing_decision_and_connector_are_errors(analyst):
    rule_task = ('<bpmn:businessRuleTask id="step" camunda:decisionRef="nope_table" '
                 'camunda:mapDecisionResult="singleResult" camunda:resultVariable="r">'
                 '<bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>'
                 '</bpmn:businessRuleTask>')
    body = upload(analyst, {"d.bpmn": with_step("with_decision", rule_task)}).get_json()
    assert body["status"] == 422 and body["element"] == "nope_table", body
    service = ('<bpmn:serviceTask id="step"><bpmn:extensionElements><camunda:connector>'
               '<camunda:connectorId>erp.teleport</camunda:connectorId></camunda:connector>'
               '</bpmn:extensionElements>'
               '<bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>'
               '</bpmn:serviceTask>')
    body = upload(analyst, {"s.bpmn": with_step("with_call", service)}).get_json()
    assert body["status"] == 422 and body["element"] == "erp.teleport", body


def test_an_external_topic_no_connector_handles_waits_for_workers(analyst):
    service = ('<bpmn:serviceTask id="step" camunda:type="external" camunda:topic="erp.teleport">'
               '<bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>'
               '</bpmn:serviceTask>')
    response = upload(analyst, {"s.bpmn": with_step("with_worker", service)})
    assert response.status_code == 201, response.get_json()
    [created] = response.get_json()["created"]
    assert created["key"] == "with_worker"


def test_decision_in_the_same_deployment_resolves(analyst):
    files = {p.name: p.read_bytes() for p in (ROOT / "dmn").glob("*.dmn")}
    files["order_exception.bpmn"] = (ROOT / "bpmn/order_exception.bpmn").read_bytes()
    response = upload(analyst, files)
    assert response.status_code == 201, response.get_json()


def test_bad_dmn_cell_names_rule_and_column(analyst):
    source = (ROOT / "dmn/approval_authority.dmn").read_text()
    broken = source.replace("&lt;= 500", "&lt;= 500 +", 1)
    body = upload(analyst, {"approval_authority.dmn": broken}).get_json()
    assert body["type"] == "/problems/definition-invalid"
    assert "rule" in body["detail"].lower() or "Rule" in body["detail"]


def test_only_analysts_deploy_and_bad_uploads_are_4xx(users, analyst):
    clerk = users.make("clerk", ["store_associate"])
    assert upload(clerk, {"review.bpmn": bpmn()}).status_code == 403
    assert analyst.post("/api/v1/deployments", json={}).status_code == 422
    assert upload(analyst, {"notes.txt": "hello"}).status_code == 422
    assert analyst.get("/api/v1/definitions/missing").status_code == 404


def test_a_decision_id_has_one_owner_across_deployments(analyst, deployed):
    """A copy of a live table under another file name would silently take over routing."""
    source = (ROOT / "dmn" / "exception_routing.dmn").read_text()
    copy = upload(analyst, {"routing_copy.dmn": source})
    assert copy.status_code == 422, copy.get_json()
    problem = copy.get_json()
    assert problem["element"] == "exception_routing" and problem["file"] == "routing_copy.dmn"
    assert "exception_routing.dmn" in problem["detail"]
    # A new version of the owning file is of course fine.
    changed = upload(analyst, {"exception_routing.dmn": source.replace(
        "</definitions>", "<!-- v2 --></definitions>")})
    assert changed.status_code == 201, changed.get_json()
    assert changed.get_json()["created"][0]["version"] == 2


def test_a_case_type_deployed_by_another_process_is_known_at_once(analyst, config, users,
                                                                  monkeypatch):
    """The deploy runs in another process (the CLI) against the same database; this process's
    snapshot of definitions must not answer 'unknown case type' meanwhile. (The snapshot's
    refresh period is stretched so that the test cannot pass by waiting it out.)"""
    import os
    import subprocess
    import sys
    from service.domain import definitions
    monkeypatch.setattr(definitions, "REFRESH_SECONDS", 3600.0)
    oms = users.make("oms", ["oms"], client=True)
    assert oms.post("/api/v1/cases", json={"type": "simple_review", "data": {}}).status_code == 422
    path = Path(config.database_url.removeprefix("sqlite:///")) if config.is_sqlite else None
    folder = (path.parent if path else Path(os.environ.get("TMPDIR", "/tmp"))) / "content"
    folder.mkdir(exist_ok=True)
    (folder / "review.bpmn").write_text(bpmn())
    subprocess.run([sys.executable, "server.py", "deploy", str(folder / "review.bpmn")],
                   cwd=ROOT, env={**os.environ, "DATABASE_URL": config.database_url,
                                  "OMNIFLOW_AUDIT_KEY_FILE": config.audit_key_file},
                   check=True, capture_output=True)
    response = oms.post("/api/v1/cases", json={"type": "simple_review", "data": {}})
    assert response.status_code == 201, response.get_json()


PRICING = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="pricing" name="Pricing"
    namespace="http://omniflow.example/test/pricing">
  <import namespace="http://omniflow.example/test/discounts" name="discounts"
          importType="https://www.omg.org/spec/DMN/20191111/MODEL/" />
  <decision id="price" name="price">
    <informationRequirement><requiredDecision href="http://omniflow.example/test/discounts#discount" />
    </informationRequirement>
    <literalExpression><text>100 * (1 - discounts.discount)</text></literalExpression>
  </decision>
</definitions>"""

DISCOUNTS = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="discounts" name="Discounts"
    namespace="http://omniflow.example/test/discounts">
  <decision id="discount" name="discount">
    <literalExpression><text>{rate}</text></literalExpression>
  </decision>
</definitions>"""


def test_dmn_files_of_one_deployment_import_each_other(analyst, users):
    deployed = upload(analyst, {"pricing.dmn": PRICING,
                                "discounts.dmn": DISCOUNTS.format(rate="0.1")})
    assert deployed.status_code == 201, deployed.get_json()
    evaluate = analyst.post("/api/v1/decisions/price/evaluate", json={"inputs": {}})
    assert evaluate.status_code == 200, evaluate.get_json()
    assert evaluate.get_json()["outputs"] == 90
    # A new version of the imported table makes a new version of the one importing it.
    again = upload(analyst, {"discounts.dmn": DISCOUNTS.format(rate="0.25")})
    assert again.status_code == 201, again.get_json()
    redeploy = upload(analyst, {"pricing.dmn": PRICING})
    assert [(c["key"], c["version"]) for c in redeploy.get_json()["created"]] == [("pricing", 2)]
    assert analyst.post("/api/v1/decisions/price/evaluate",
                        json={"inputs": {}}).get_json()["outputs"] == 75
    # An import that resolves nowhere is refused naming the file.
    lonely = upload(analyst, {"lonely.dmn": PRICING.replace("test/pricing", "test/lonely")
                              .replace("test/discounts", "test/none")
                              .replace('id="price" name="price"', 'id="lone" name="lone"')})
    assert lonely.status_code == 422 and lonely.get_json()["file"] == "lonely.dmn"
    assert "http://omniflow.example/test/none" in lonely.get_json()["detail"]
