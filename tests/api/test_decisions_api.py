"""POST /api/v1/decisions/{key}/evaluate: typed inputs, versions, records and audit."""
import io
from pathlib import Path

import pytest

from service.store import AuditEvent, DecisionRecord

ROOT = Path(__file__).resolve().parents[2]

DATED = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="promo_window"
    name="Promotion window" namespace="http://omniflow.example/dmn/promo_window">
  <decision id="launch_check" name="Launch check">
    <decisionTable id="launch_table" hitPolicy="UNIQUE">
      <input id="i1" label="Starts"><inputExpression typeRef="date"><text>starts</text></inputExpression></input>
      <input id="i2" label="Lead"><inputExpression typeRef="days and time duration"><text>lead</text></inputExpression></input>
      <output id="o1" name="status" typeRef="string" />
      <rule id="soon"><inputEntry><text>&lt; date("2026-12-01")</text></inputEntry>
        <inputEntry><text>&gt; duration("P2D")</text></inputEntry><outputEntry><text>"{soon}"</text></outputEntry></rule>
      <rule id="fine"><inputEntry><text>-</text></inputEntry>
        <inputEntry><text>&lt;= duration("P2D")</text></inputEntry><outputEntry><text>"ok"</text></outputEntry></rule>
      <rule id="late"><inputEntry><text>&gt;= date("2026-12-01")</text></inputEntry>
        <inputEntry><text>&gt; duration("P2D")</text></inputEntry><outputEntry><text>"later"</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>
"""


@pytest.fixture
def analyst(users):
    return users.make("ana", ["analyst"])


def deploy(actor, name, text):
    data = {"files": [(io.BytesIO(text.encode()), name)]}
    response = actor.post("/api/v1/deployments", data=data, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()


def test_evaluate_shipped_table_records_and_audits(analyst):
    deploy(analyst, "approval_authority.dmn", (ROOT / "dmn/approval_authority.dmn").read_text())
    response = analyst.post("/api/v1/decisions/approval_authority/evaluate",
                            json={"inputs": {"action": "refund", "amount": 800}})
    body = response.get_json()
    assert response.status_code == 200, body
    assert body["outputs"] == {"required_group": "district_manager", "approvers": 1}
    assert body["version"] == 1 and body["matched_rules"]
    record = DecisionRecord.get()
    assert record.definition_key == "approval_authority" and record.actor == "ana"
    assert record.outputs == body["outputs"]
    assert AuditEvent.select().where(AuditEvent.kind == "decision.evaluated").count() == 1


def test_typed_inputs_and_versions(analyst):
    deploy(analyst, "promo_window.dmn", DATED.replace("{soon}", "expedite"))
    deploy(analyst, "promo_window.dmn", DATED.replace("{soon}", "escalate"))
    inputs = {"starts": {"type": "date", "value": "2026-11-28"},
              "lead": {"type": "duration", "value": "P5D"}}
    latest = analyst.post("/api/v1/decisions/launch_check/evaluate", json={"inputs": inputs})
    assert latest.get_json()["outputs"] == "escalate"     # one output column: the value itself
    assert latest.get_json()["version"] == 2
    first = analyst.post("/api/v1/decisions/launch_check/evaluate?version=1",
                         json={"inputs": inputs})
    assert first.get_json()["outputs"] == "expedite"
    assert first.get_json()["matched_rules"]["launch_table"][0]["rule_id"] == "soon"


def test_bad_inputs_are_4xx(analyst):
    deploy(analyst, "promo_window.dmn", DATED.replace("{soon}", "x"))
    url = "/api/v1/decisions/launch_check/evaluate"
    bad_date = analyst.post(url, json={"inputs": {"starts": {"type": "date", "value": "soon"}}})
    assert bad_date.status_code == 422 and bad_date.get_json()["field"] == "starts"
    unknown_type = analyst.post(url, json={"inputs": {"starts": {"type": "moon", "value": 1}}})
    assert unknown_type.status_code == 422
    assert analyst.post(url, json={"inputs": []}).status_code == 422
    assert analyst.post("/api/v1/decisions/nope/evaluate", json={"inputs": {}}).status_code == 404
    assert analyst.post(url + "?version=9", json={"inputs": {}}).status_code == 404
