"""The API contract, checked: every operation documents success and problem+json errors and
its security; unknown query parameters are a 400; and Schemathesis, run against the served
service from its own OpenAPI document, finds no 5xx and no answer that breaks the document."""
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from . import served as serving

METHODS = ("get", "put", "post", "delete", "patch")


def test_every_operation_documents_success_errors_and_security(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["components"]["schemas"]["Problem"]["properties"]["request_id"]
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            if method not in METHODS:
                continue
            where = f"{method.upper()} {path}"
            codes = set(op["responses"])
            assert any(c.startswith("2") for c in codes), f"{where}: no success answer"
            assert "security" in op, f"{where}: no security"
            if path.startswith("/engine-rest"):
                continue            # Camunda's error shape, documented by those views
            default = op["responses"]["default"]["content"]
            assert list(default) == ["application/problem+json"], where
            assert default["application/problem+json"]["schema"] == {
                "$ref": "#/components/schemas/Problem"}, where
            if path.startswith("/api/v1"):
                assert op["security"] == [{"bearer": []}, {"session": []}], where
                assert {"400", "401"} <= codes, where
                for code in codes - {"default"}:
                    if code.startswith(("4", "5")):
                        content = op["responses"][code]["content"]
                        assert "application/problem+json" in content, f"{where} {code}"
            else:
                assert op["security"] == [], where        # the probes and /metrics


def test_unknown_query_parameters_are_a_400_naming_the_parameter(users, client):
    oms = users.make("oms-q", ["oms"], client=True)
    answer = oms.get("/api/v1/cases?q=2002")
    assert answer.status_code == 400 and answer.mimetype == "application/problem+json"
    body = answer.get_json()
    assert body["field"] == "q" and "type" in body["known"] and body["request_id"]
    assert oms.get("/api/v1/cases?type=order_exception").status_code == 200
    assert oms.get("/api/v1/users/me?verbose=1").status_code == 400
    assert client.get("/healthz?x=1").status_code == 400
    assert oms.get("/api/v1/cases?limit=5&cursor=").status_code in (200, 422)


@pytest.fixture
def served(config, db, tmp_path):
    token = serving.token_of(serving.cli(config, "users", "add", "contract-admin-7f3k",
                                         "--groups", "admin"))
    server = serving.start(config, tmp_path, workers=2)
    try:
        yield server, token, config
    finally:
        serving.stop(server)


def _wait_ready(server):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.call("GET", "/readyz")[0].status == 200:
            return
        time.sleep(0.3)
    raise AssertionError(server.call("GET", "/readyz")[1])


def _schemathesis(server, token, report, checks, *selection):
    st = shutil.which("st", path=str(Path(sys.executable).parent)) or "st"
    base = f"http://127.0.0.1:{server.port}"
    run = subprocess.run(
        [st, "run", f"{base}/api/v1/openapi.json", "--url", base, "--checks", checks,
         "--phases", "examples,fuzzing", "--max-examples", "3", "--seed", "20261203",
         "--workers", "1", "--request-timeout", "30", "--no-shrink",
         "--header", f"Authorization: Bearer {token}",
         "--suppress-health-check", "all", "--warnings", "off",
         "--report", "ndjson", "--report-ndjson-path", str(report), *selection],
        capture_output=True, text=True, timeout=300,
        cwd=report.parent)            # Schemathesis keeps a cache in its working directory
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-6000:]
    # It really exercised the operations (not an empty run).
    events = [json.loads(line) for line in report.read_text().splitlines() if line.strip()]
    assert len(events) > 20, output[-2000:]
    return output


def test_schemathesis_finds_no_server_error_and_no_answer_outside_the_document(served,
                                                                              tmp_path):
    server, token, config = served
    # A worker beside the service, as in production, so /readyz answers 200 (a 503 is a 5xx).
    worker = subprocess.Popen([sys.executable, "server.py", "worker"], cwd=serving.ROOT,
                              env=serving.env_for(config),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_ready(server)
        out = _schemathesis(server, token, tmp_path / "api.ndjson",
                            "not_a_server_error,response_schema_conformance",
                            "--exclude-path-regex", "^/engine-rest")
        assert "Tested:" in out
        # /engine-rest answers Camunda's error shape, owned by those views: no 5xx there either.
        _schemathesis(server, token, tmp_path / "engine-rest.ndjson", "not_a_server_error",
                      "--include-path-regex", "^/engine-rest")
    finally:
        worker.terminate()
        worker.wait(20)
