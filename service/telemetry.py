"""The service's own Prometheus instruments (``omniflow_*``), observed where the work happens.

Only what the database cannot tell afterwards is counted here, in-process: request latency,
decision and scoring latency, decisions evaluated, signals ingested. Everything the database
knows (cases, tasks, SLA breaches, the job queue, incidents, the audit chain) is read when
``/metrics`` is scraped (:mod:`service.usecases.operations`), so every process and worker
reports the same numbers.

Under gunicorn ``serve`` runs several HTTP processes (and a worker process): it points
``PROMETHEUS_MULTIPROC_DIR`` at an empty directory and calls :func:`use_multiprocess_dir`
before forking, and a scrape merges the files every process writes there (prometheus_client's
multiprocess mode). Every instrument has labels, so no value is created before that switch.
"""
from __future__ import annotations

import time
from contextlib import contextmanager

from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram,
                               generate_latest, values)
from prometheus_client.multiprocess import MultiProcessCollector

REGISTRY = CollectorRegistry(auto_describe=True)
_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_FAST = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)

HTTP_LATENCY = Histogram(
    "omniflow_http_request_duration_seconds",
    "HTTP requests by method, route template and status, and how long they took",
    ["method", "route", "status"], buckets=_LATENCY, registry=REGISTRY)
DECISIONS = Counter(
    "omniflow_decisions_evaluated", "DMN decisions evaluated, by decision key and outcome",
    ["decision", "outcome"], registry=REGISTRY)
DECISION_LATENCY = Histogram(
    "omniflow_decision_evaluation_seconds", "How long one DMN decision evaluation took",
    ["decision"], buckets=_FAST, registry=REGISTRY)
SCORING_LATENCY = Histogram(
    "omniflow_scoring_seconds", "How long scoring with a risk model took (XGBoost, with the "
    "contributions)", ["model"], buckets=_FAST, registry=REGISTRY)
SIGNALS = Counter(
    "omniflow_signals_ingested", "Signals accepted by intake (duplicates not counted), by type",
    ["type"], registry=REGISTRY)

_multiprocess_dir: str | None = None


def use_multiprocess_dir(path: str) -> None:
    """Write this process's (and its children's) values under ``path`` (which the caller has
    emptied and exported as ``PROMETHEUS_MULTIPROC_DIR``)."""
    global _multiprocess_dir
    _multiprocess_dir = path
    values.ValueClass = values.get_value_class()


@contextmanager
def timed(histogram, *labels):
    started = time.perf_counter()
    try:
        yield
    finally:
        histogram.labels(*labels).observe(time.perf_counter() - started)


def exposition(*collectors) -> tuple[bytes, str]:
    """The text exposition: this process's instruments (all processes' in multiprocess mode)
    and ``collectors`` read now."""
    extra = CollectorRegistry(auto_describe=False)
    for collector in collectors:
        extra.register(collector)
    if _multiprocess_dir is not None:
        merged = CollectorRegistry()
        MultiProcessCollector(merged, path=_multiprocess_dir)
        own = generate_latest(merged)
    else:
        own = generate_latest(REGISTRY)
    return own + generate_latest(extra), CONTENT_TYPE_LATEST


__all__ = ["DECISIONS", "DECISION_LATENCY", "HTTP_LATENCY", "REGISTRY", "SCORING_LATENCY",
           "SIGNALS", "exposition", "timed", "use_multiprocess_dir"]
