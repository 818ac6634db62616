"""``GET /metrics``: Prometheus text exposition of the ``omniflow_*`` metrics.

This process's instruments (every process's under gunicorn, see :mod:`service.telemetry`)
and, read at scrape time, what the database says (:mod:`service.usecases.operations`). Public
like the probes, outside ``/api/v1``: expose it to the scraper only (a proxy rule or a
private listener), as usual for metrics.
"""
from __future__ import annotations

from flask import Response
from flask_smorest import Blueprint
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from ..telemetry import exposition
from ..usecases import operations

blp = Blueprint("metrics", __name__, url_prefix="", description="Prometheus metrics")


class DatabaseCollector:
    """The database's figures as metric families, computed at each scrape."""

    def collect(self):
        snap = operations.snapshot()
        opened = CounterMetricFamily("omniflow_cases_opened", "Cases opened, by case type",
                                     labels=["type"])
        for kind, n in sorted(snap["cases_opened"].items()):
            opened.add_metric([kind], n)
        yield opened
        closed = CounterMetricFamily("omniflow_cases_closed",
                                     "Cases closed (completed or cancelled), by case type",
                                     labels=["type", "status"])
        for (kind, status), n in sorted(snap["cases_closed"].items()):
            closed.add_metric([kind, status], n)
        yield closed
        tasks = GaugeMetricFamily("omniflow_open_tasks",
                                  "Open tasks by candidate group and age band",
                                  labels=["group", "age"])
        for (group, band), n in sorted(snap["open_tasks"].items()):
            tasks.add_metric([group, band], n)
        yield tasks
        breaches = GaugeMetricFamily(
            "omniflow_sla_breaches", "Tasks past their due time: still open (state=open) or "
            "completed late (state=completed), by case type", labels=["type", "state"])
        for (kind, state), n in sorted(snap["sla_breaches"].items()):
            breaches.add_metric([kind, state], n)
        yield breaches
        depth = GaugeMetricFamily("omniflow_job_queue_depth",
                                  "Pending jobs (timers: instances waiting on one), by kind",
                                  labels=["kind"])
        due = GaugeMetricFamily("omniflow_job_queue_due",
                                "Pending jobs already due, by kind", labels=["kind"])
        lag = GaugeMetricFamily("omniflow_job_queue_lag_seconds",
                                "How long the oldest due job has waited, by kind",
                                labels=["kind"])
        for kind, (pending, ready, waited) in sorted(snap["jobs"].items()):
            depth.add_metric([kind], pending)
            due.add_metric([kind], ready)
            lag.add_metric([kind], waited)
        yield depth
        yield due
        yield lag
        incidents = GaugeMetricFamily("omniflow_open_incidents", "Open incidents, by kind",
                                      labels=["kind"])
        for kind, n in sorted(snap["open_incidents"].items()):
            incidents.add_metric([kind], n)
        yield incidents
        yield GaugeMetricFamily("omniflow_audit_chain_length",
                                "Events in the hash-chained audit trail",
                                value=snap["audit_chain_length"])


COLLECTOR = DatabaseCollector()


@blp.route("/metrics", methods=["GET"])
@blp.response(200, content_type="text/plain",
              description="The Prometheus text exposition format")
def scrape():
    """The `omniflow_*` metrics: HTTP latency by route and status, cases opened and closed,
    open tasks by group and age, SLA breaches, decisions and their latency, scoring latency,
    the job queue's depth and lag, open incidents, signals ingested, the audit chain."""
    body, content_type = exposition(COLLECTOR)
    return Response(body, content_type=content_type)
