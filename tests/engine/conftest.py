"""Fixtures for the engine tests: real BPMN files, the real SpiffWorkflow, fakes only at ports."""
from __future__ import annotations

from pathlib import Path

import pytest

from service.engine import ConnectorRegistry, DictDecisionPort, FixedClock, ProcessLibrary, Runtime

FIXTURES = Path(__file__).parent / "fixtures"


def source(*names: str) -> dict[str, bytes]:
    return {name: (FIXTURES / name).read_bytes() for name in names}


@pytest.fixture
def library():
    return ProcessLibrary()


@pytest.fixture
def clock():
    return FixedClock()


@pytest.fixture
def connectors():
    return ConnectorRegistry()


@pytest.fixture
def decisions():
    return DictDecisionPort()


@pytest.fixture
def runtime(decisions, connectors, clock):
    return Runtime(decisions=decisions, connectors=connectors, clock=clock, script_cpu_seconds=0.5)


@pytest.fixture
def spec_of(library):
    def get(key: str, *files: str):
        return library.spec(key, 1, source(*files))
    return get



def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long-running (still in the default run, under ~20 s)")
