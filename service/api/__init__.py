"""The HTTP API: blueprints, authentication and problem+json errors.

Add a resource by appending its blueprint module to ``BLUEPRINTS``.
"""
from __future__ import annotations

import importlib

BLUEPRINTS = [
    "service.api.cases",
    "service.api.tasks",
    "service.api.deployments",
    "service.api.decisions",
    "service.api.audit",
    "service.api.users",
    "service.api.models",
    "service.api.signals",
    "service.api.messages",
    "service.api.incidents",
]


def blueprints():
    return [importlib.import_module(name).blp for name in BLUEPRINTS]
