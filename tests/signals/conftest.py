"""Fixtures for the signals tests: the shipped rulesets and small processes for their case types.

The real processes for these case types come with a later issue; until then each case type is
a start event, one user task and an end (``fixtures/``), so these tests do not depend on them.
"""
from __future__ import annotations

from pathlib import Path

import pytest

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
