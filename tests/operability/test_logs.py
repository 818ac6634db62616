"""Logs of the served service: one JSON line per request and per audit event of a case or
task, no engine chatter, and the request id in the response header and every problem+json
body."""
import json

import pytest

from . import served as serving
from .test_metrics import ORDER


@pytest.fixture
def served(config, db, tmp_path):
    token = serving.token_of(serving.cli(config, "users", "add", "logs-oms", "--groups",
                                         "oms", "--client"))
    server = serving.start(config, tmp_path, workers=1)
    try:
        yield server, token
    finally:
        serving.stop(server)


def _lines(server):
    out = []
    for line in server.log.read_text().splitlines():
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def test_json_request_and_event_lines_with_the_request_id(served):
    server, token = served
    response, body = server.call("POST", "/api/v1/cases", token, {**ORDER, "external_ref": "lg-1"},
                                 headers={"X-Request-Id": "trace-abc-123"})
    assert response.status == 201, body
    assert response.getheader("X-Request-Id") == "trace-abc-123"

    # A problem+json body names the request; an unusable incoming id is replaced.
    response, body = server.call("GET", "/api/v1/cases/999999", token,
                                 headers={"X-Request-Id": "bad id\twith spaces"})
    problem = json.loads(body)
    assert response.status == 404 and response.getheader("Content-Type") == \
        "application/problem+json"
    assert problem["request_id"] == response.getheader("X-Request-Id")
    assert len(problem["request_id"]) == 32
    response, body = server.call("GET", "/api/v1/cases")          # no token: 401
    assert json.loads(body)["request_id"] == response.getheader("X-Request-Id")

    serving.stop(server)         # flush the log
    lines = _lines(server)
    requests = [line for line in lines if line.get("logger") == "omniflow.access"]
    opened = next(line for line in requests if line["request_id"] == "trace-abc-123")
    assert opened["route"] == "/api/v1/cases" and opened["method"] == "POST"
    assert opened["status"] == 201 and opened["user"] == "logs-oms"
    assert isinstance(opened["duration_ms"], float)
    missing = next(line for line in requests if line["status"] == 404)
    assert missing["route"] == "/api/v1/cases/<int:case_id>"
    # The engine events of that request, each a line carrying the same request id.
    events = [line for line in lines if line.get("logger") == "omniflow.events"
              and line.get("request_id") == "trace-abc-123"]
    assert {"case.submitted", "task.created"} <= {line["event"] for line in events}
    assert all(line["case_id"] for line in events if line["event"] == "case.submitted")
    # SpiffWorkflow's per-task chatter and the engine's per-element events (in the audit
    # trail all the same) are off by default.
    text = server.log.read_text()
    assert "State changed" not in text
    assert not [line for line in lines if str(line.get("event", "")).startswith("engine.")]
    # gunicorn's own lines are JSON too (only the command's printed banner is not).
    assert any(line.get("logger") == "gunicorn.error" for line in lines)
    assert not [line for line in text.splitlines() if line.startswith("[")]


def test_engine_events_log_only_when_the_engine_log_is_on(config, deployed, users, caplog):
    """``OMNIFLOW_ENGINE_LOG=info`` turns the engine's per-element ``engine.*`` audit events into
    ``omniflow.events.engine`` lines; off (the default) they are in the audit trail only."""
    import dataclasses
    import logging

    from service.cli import logs
    from service.store import AuditEvent
    oms = users.make("oms-engine-log", ["oms"], client=True)

    def submit(ref):
        caplog.clear()
        response = oms.post("/api/v1/cases", json={**ORDER, "external_ref": ref})
        assert response.status_code == 201, response.json
        return {r.getMessage() for r in caplog.records if r.name == "omniflow.events.engine"}

    engine_logger = logging.getLogger("omniflow.events.engine")
    before = engine_logger.level
    try:
        with caplog.at_level(logging.INFO, logger="omniflow.events"):
            logs.configure(config)                                  # the default: off
            assert submit("engine-log-off") == set()
            logs.configure(dataclasses.replace(config, engine_log="info"))
            lines = submit("engine-log-on")
    finally:
        engine_logger.setLevel(before)
    assert lines and all(kind.startswith("engine.") for kind in lines)
    recorded = {e.kind for e in AuditEvent.select(AuditEvent.kind)
                .where(AuditEvent.kind.startswith("engine."))}
    assert lines <= recorded
