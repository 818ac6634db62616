"""/api/v1/kpis: what operations leads measure, for the dashboard and for reports."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..usecases import kpis
from .auth import current
from .context import config
from .problems import documented_errors

blp = Blueprint("kpis", __name__, url_prefix="/api/v1/kpis",
                description="Operations KPIs: cycle time, SLA attainment, auto-resolution, "
                            "escalations, open tasks, model drift")


class KpiQuery(Schema):
    days = fields.Integer(load_default=30, validate=validate.Range(1, 366),
                          metadata={"description": "The window: this many days ending now"})
    case_type = fields.String(validate=validate.Length(1, 200))


class Window(Schema):
    days = fields.Integer()
    since = fields.String()
    until = fields.String()
    case_type = fields.String(allow_none=True)


class CycleTime(Schema):
    case_type = fields.String()
    closed = fields.Integer(metadata={"description": "Cases completed in the window"})
    p50_hours = fields.Float(allow_none=True)
    p90_hours = fields.Float(allow_none=True)


class Sla(Schema):
    case_type = fields.String()
    met = fields.Integer()
    missed = fields.Integer(metadata={"description": "Completed late, or open and overdue"})
    open_overdue = fields.Integer()
    attainment = fields.Float(allow_none=True, metadata={"description": "met / (met + missed)"})


class AutoResolution(Schema):
    case_type = fields.String()
    closed = fields.Integer()
    automatic = fields.Integer(metadata={"description": "Completed without any human task"})
    rate = fields.Float(allow_none=True)


class Escalations(Schema):
    case_type = fields.String()
    escalations = fields.Integer()
    cases_escalated = fields.Integer()
    cases_opened = fields.Integer()
    rate = fields.Float(allow_none=True)


class OpenTasks(Schema):
    group = fields.String()
    total = fields.Integer()
    by_age = fields.Dict(keys=fields.String(), values=fields.Integer(),
                         metadata={"description": "Age band -> open tasks"})


class Drift(Schema):
    model = fields.String()
    version = fields.Integer()
    rows = fields.Integer()
    enough_data = fields.Boolean()
    score_psi = fields.Float(allow_none=True)
    worst_feature_psi = fields.Float(allow_none=True)
    threshold = fields.Float()
    alerts = fields.List(fields.String())


class KpiSchema(Schema):
    window = fields.Nested(Window)
    cycle_time = fields.List(fields.Nested(CycleTime))
    sla = fields.List(fields.Nested(Sla))
    auto_resolution = fields.List(fields.Nested(AutoResolution))
    escalations = fields.List(fields.Nested(Escalations))
    open_tasks = fields.List(fields.Nested(OpenTasks))
    model_drift = fields.List(fields.Nested(Drift))


@blp.route("", methods=["GET"])
@blp.arguments(KpiQuery, location="query")
@blp.response(200, KpiSchema)
@documented_errors(blp, 401, 403, 422)
def read(query):
    """The KPIs of the last `days` days, by case type (machine clients: 403)."""
    return kpis.kpis(current(), days=query["days"], case_type=query.get("case_type"),
                     config=config())
