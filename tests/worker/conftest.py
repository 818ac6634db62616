"""What the worker tests share: a test clock, a fake ERP at the connector port, plain rows,
deployed BPMN fixtures."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from service.connectors import Connector, ConnectorRegistry
from service.engine.ports import FixedClock
from service.store import Case, Definition, Deployment, Instance, Job

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def clock():
    """Starts at the real now (cases are started by the API on the real clock)."""
    return FixedClock(dt.datetime.now(dt.timezone.utc).replace(microsecond=0))


class Transport:
    """A fake ERP at the connector port: records calls, fails while told to."""

    def __init__(self):
        self.calls = []
        self.failures = 0            # fail this many calls, then succeed
        self.error = None            # exception to raise while failing

    def __call__(self, name, params, idempotency_key):
        self.calls.append((name, params, idempotency_key))
        if self.failures:
            self.failures -= 1
            raise self.error or ConnectionError("ERP is down")
        return {"posted": True, "reference": f"ERP-{len(self.calls)}"}


@pytest.fixture
def erp():
    return Transport()


@pytest.fixture
def registry(erp):
    reg = ConnectorRegistry()
    reg.register(Connector("erp.post_refund", "erp", "Post a refund"))
    reg.transports["erp"] = erp
    return reg


@pytest.fixture
def make_case(db):
    """A case with an instance row (engine state not needed by the outbox)."""
    def make(status="open"):
        dep = Deployment.create(deployed_by="test")
        version = Definition.select().count() + 1
        definition = Definition.create(kind="bpmn", key="p", version=version,
                                       file="p.bpmn", source="<x/>", sha256="0" * 64,
                                       deployment=dep, deployed_by="test")
        case = Case.create(type="p", definition=definition, submitted_by="oms", status=status)
        inst = Instance.create(case=case, definition=definition, state="{}", status="waiting")
        return case, inst
    return make


def outbox_job(case, inst, now, *, key="k-1", max_attempts=3, amount=120):
    return Job.create(kind="outbox", case=case, instance=inst, due_at=now,
                      max_attempts=max_attempts, idempotency_key=key,
                      payload={"connector": "erp.post_refund", "system": "erp",
                               "params": {"order_id": "A-1", "amount": amount},
                               "idempotency_key": key, "element_id": "post_refund"})


@pytest.fixture
def deploy_fixture(app):
    """Deploy BPMN files from tests/worker/fixtures (as an analyst would)."""
    from service.usecases.deployments import store_files as deploy

    def run(*names):
        files = {name: (FIXTURES / name).read_bytes() for name in names}
        with app.app_context():
            return deploy(files, actor="analyst", max_bytes=1 << 20)
    return run


@pytest.fixture
def oms(users):
    return users.make("oms", ["oms"], client=True)


def submit(actor, case_type, data=None):
    response = actor.post("/api/v1/cases", json={"type": case_type, "data": data or {}})
    assert response.status_code == 201, response.get_json()
    return response.get_json()
