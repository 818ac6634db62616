"""/api/v1/cases/{id}/diagram: a case's process and where the case went on it."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..usecases import case_diagram
from .auth import current
from .problems import documented_errors

blp = Blueprint("case_diagrams", __name__, url_prefix="/api/v1/cases",
                description="The diagram of a case: BPMN XML and the state of each element")


class DefinitionRef(Schema):
    key = fields.String()
    version = fields.Integer()
    file = fields.String()


class CaseDiagramSchema(Schema):
    case_id = fields.Integer()
    case_status = fields.String()
    definition = fields.Nested(DefinitionRef, metadata={"description": "The version the case "
                                                                       "runs on"})
    xml = fields.String(metadata={"description": "The BPMN XML of that version, as deployed"})
    elements = fields.Dict(
        keys=fields.String(),
        values=fields.String(validate=validate.OneOf(["completed", "active", "incident"])),
        metadata={"description": "Element id (tasks, events, gateways, sequence flows) -> "
                                 "completed | active | incident; elements not reached are "
                                 "absent"})
    path = fields.List(fields.String(), metadata={"description": "Element ids in the order they "
                                                                 "ran"})
    names = fields.Dict(keys=fields.String(), values=fields.String(),
                        metadata={"description": "Names of the elements on the path"})


@blp.route("/<int:case_id>/diagram", methods=["GET"])
@blp.response(200, CaseDiagramSchema)
@documented_errors(blp, 401, 404)
def diagram(case_id):
    """The process of a case with its completed, active and failed elements (from the audit
    trail, the inbox and the incidents)."""
    return case_diagram.diagram(current(), case_id)
