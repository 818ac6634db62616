"""/api/v1/validations: check files as a deployment would, storing nothing."""
from __future__ import annotations

from flask import request
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from ..errors import ValidationFailed
from ..usecases import deployments
from .auth import current
from .context import config
from .problems import documented_errors

blp = Blueprint("validations", __name__, url_prefix="/api/v1/validations",
                description="Validate .bpmn/.dmn/.case.json/rules files without deploying them")


class ValidDefinition(Schema):
    kind = fields.String()
    key = fields.String()
    name = fields.String(allow_none=True)
    file = fields.String()


class ValidationSchema(Schema):
    valid = fields.Boolean()
    definitions = fields.List(fields.Nested(ValidDefinition))


@blp.route("", methods=["POST"])
@blp.response(200, ValidationSchema)
@documented_errors(blp, 401, 403, 413, 422,
                   e422="The first fault found, naming the `file` and the `element` at fault")
def validate():
    """Validate files (multipart field `files`) exactly as `POST /deployments` would; nothing is
    stored. The workbench draws the fault on the element it names."""
    who = current()
    files = {}
    for storage in request.files.getlist("files"):
        name = (storage.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
        if not name:
            raise ValidationFailed("every uploaded file needs a file name", field="files")
        files[name] = storage.read()
    if not files:
        raise ValidationFailed("send the files as multipart/form-data field 'files'",
                               field="files")
    return deployments.check(who, files, config=config())
