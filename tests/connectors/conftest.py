"""Connector tests: a real receiving HTTP server and a config that points connectors at it."""
from __future__ import annotations

import pytest

from .receiver import serve


@pytest.fixture
def receiver():
    receiver, server = serve()
    yield receiver
    server.shutdown()
    server.server_close()


@pytest.fixture
def config(config, receiver):
    """The base config plus the environment an operator gives connectors."""
    return config.with_(connector_env={"OMNIFLOW_CONNECTOR_OMS_URL": receiver.url,
                                       "OMNIFLOW_CONNECTOR_OMS_TOKEN": "s3cret"})
