"""/engine-rest: the Camunda 7 REST subset, so Camunda workers, Modeler and tools run unchanged.

``engine`` (version, deployment create, start by key, message, decision evaluate), ``tasks``
(user tasks) and ``external_tasks`` (fetchAndLock and the worker calls). Every view calls a use
case of ``service.usecases``; answers and errors follow Camunda's shapes (``values``,
``errors``); callers authenticate with a bearer token or Basic auth (``auth``).
"""
from __future__ import annotations

from . import engine, external_tasks, tasks

_MODULES = [engine, tasks, external_tasks]


def blueprints():
    return [module.blp for module in _MODULES]
