"""Fixtures for the signals tests: the shipped rulesets and small processes for their case types.

The real processes for these case types come with a later issue; until then each case type is
a start event, one user task and an end (``fixtures/``), so these tests do not depend on them.
"""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from service.config import Config
from service.signals import jetstream, streamed
from service.signals.jetstream import Names

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def rules_deployed(app, config):
    from service.usecases.deployments import store_files as deploy
    from .streams import rules_dir
    files = {p.name: p.read_bytes() for p in sorted(FIXTURES.glob("*.bpmn"))}
    files.update({p.name: p.read_bytes() for p in sorted(rules_dir().glob("*.json"))})
    with app.app_context():
        return deploy(files, actor="analyst", max_bytes=config.max_definition_bytes)


@pytest.fixture
def erp(users):
    return users.make("erp", client=True)


@pytest.fixture(autouse=True)
def _fresh_rules_state():
    yield
    from service.signals import consumer
    consumer.forget()
    streamed.stop_all()


NATS_URL = Config.from_env().signals_url or "nats://127.0.0.1:4222"
#: Run a test on the signal table and on NATS JetStream: ``@BOTH_PATHS`` with a ``config`` arg.
BOTH_PATHS = pytest.mark.parametrize("config", ["table", "jetstream"], indirect=True)


@pytest.fixture
def config(config, request):
    """The root ``config``; with the param ``"jetstream"``, signals go through the local NATS
    server on a stream, consumers and bucket named for this test only."""
    if getattr(request, "param", "table") == "table":
        yield config
        return
    suffix = uuid.uuid4().hex[:12]
    names = Names(stream=f"T{suffix}", subject=f"t{suffix}.signals", lease_seconds=3.0)
    yield config.with_(signals_url=NATS_URL, extra={**config.extra, "signal_stream": names})
    streamed.stop_all()
    bus = jetstream.bus(NATS_URL, names)
    bus.delete_everything()
    jetstream.close(NATS_URL, names)
