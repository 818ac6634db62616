"""The HTTP API: blueprints, authentication and problem+json errors.

Views parse the request, call one use case (``service.usecases``) and answer; they never touch
tables or the engines. Add a resource by importing its blueprint module here.
"""
from __future__ import annotations

from . import (audit, cases, decisions, deployments, engine_rest, incidents, messages, models,
               notifications, signals, tasks, users)

_MODULES = [cases, tasks, deployments, decisions, audit, users, models, signals, messages,
            incidents, notifications]


def blueprints():
    return [module.blp for module in _MODULES] + engine_rest.blueprints()
