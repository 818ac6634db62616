"""The HTTP API: blueprints, authentication and problem+json errors.

Views parse the request, call one use case (``service.usecases``) and answer; they never touch
tables or the engines. Add a resource by importing its blueprint module here.
"""
from __future__ import annotations
from . import migrations  # instance migration (issue 14)

from . import (audit, case_diagrams, cases, decisions, deployments, engine_rest, health, incidents,
               kpis, messages, metrics, models, notifications, signals, tasks, users, validations)

_MODULES = [cases, case_diagrams, tasks, deployments, validations, decisions, audit, users, models,
            signals, messages, incidents, notifications, kpis, health,
            metrics]


def blueprints():
    return [module.blp for module in _MODULES] + [migrations.blp] + engine_rest.blueprints()
