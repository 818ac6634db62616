"""/metrics scraped over real HTTP from `serve` (gunicorn, two processes, multiprocess mode):
the omniflow_* families are there and move when a case is opened."""
import re

import pytest
from prometheus_client.parser import text_string_to_metric_families

from . import served as serving

ORDER = {"type": "order_exception", "external_ref": "order-metrics-1",
         "data": {"order_id": "1001", "reason": "damaged", "channel": "web", "value": 420,
                  "margin": 0.3, "customer_tier": "gold", "days_late": 2,
                  "prior_contacts_90d": 3, "prior_exceptions_90d": 1, "order_weekday": 2}}


@pytest.fixture
def served(config, db, tmp_path):
    token = serving.token_of(serving.cli(config, "users", "add", "metrics-oms", "--groups",
                                         "oms", "--client"))
    server = serving.start(config, tmp_path, workers=2)
    try:
        yield server, token
    finally:
        serving.stop(server)


def _scrape(server) -> dict:
    response, body = server.call("GET", "/metrics")
    assert response.status == 200
    assert response.getheader("Content-Type").startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(body.decode()):
        assert family.name.startswith("omniflow_"), family.name
        for sample in family.samples:
            key = (sample.name, tuple(sorted(sample.labels.items())))
            samples[key] = sample.value
    return samples


def _value(samples, name, **labels):
    return sum(v for (n, ls), v in samples.items()
               if n == name and all(dict(ls).get(k) == val for k, val in labels.items()))


def test_metrics_move_when_a_case_is_opened(served):
    server, token = served
    before = _scrape(server)
    opened_before = _value(before, "omniflow_cases_opened_total", type="order_exception")

    response, body = server.call("POST", "/api/v1/cases", token, ORDER)
    assert response.status == 201, body
    signal = {"id": "metrics-sig-1", "type": "return.received", "at": "2026-01-01T00:00:00",
              "data": {"return_id": "r1", "sku": "SKU1", "region": "west", "value": 40.0}}
    assert server.call("POST", "/api/v1/signals", token, [signal, signal])[0].status == 202
    for _ in range(3):                  # several requests: they spread over both processes
        assert server.call("GET", "/api/v1/cases", token)[0].status == 200

    after = _scrape(server)
    assert _value(after, "omniflow_cases_opened_total", type="order_exception") \
        == opened_before + 1
    assert _value(after, "omniflow_audit_chain_length") > _value(before,
                                                                 "omniflow_audit_chain_length")
    assert _value(after, "omniflow_http_request_duration_seconds_count",
                  route="/api/v1/cases", method="POST", status="201") == 1
    assert _value(after, "omniflow_http_request_duration_seconds_count",
                  route="/api/v1/cases", method="GET", status="200") == 3
    assert _value(after, "omniflow_scoring_seconds_count") >= 1
    assert _value(after, "omniflow_decisions_evaluated_total", outcome="ok") >= 1
    assert _value(after, "omniflow_decision_evaluation_seconds_count") >= 1
    assert _value(after, "omniflow_open_tasks") >= 1       # the agent's review task
    assert _value(after, "omniflow_signals_ingested_total", type="return.received") == 1
    # The database's families are exposed even at zero.
    response, text = server.call("GET", "/metrics")
    for family in ("omniflow_cases_closed", "omniflow_sla_breaches", "omniflow_job_queue_depth",
                   "omniflow_job_queue_lag_seconds", "omniflow_open_incidents"):
        assert re.search(rf"^# TYPE {family}", text.decode(), re.M), family
