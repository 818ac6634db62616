"""/api/v1/deployments and /api/v1/definitions: analysts deploy BPMN, DMN, case types and rules."""
from __future__ import annotations

from flask import request
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..errors import ValidationFailed
from ..usecases import deployments
from .auth import current
from .context import config
from .limits import MAX_ID

KINDS = ["bpmn", "dmn", "casetype", "rules", "connector"]
MAX_FILE_NAME = 300        # definition.file


class DefinitionListQuery(Schema):
    kind = fields.String(validate=validate.OneOf(KINDS))


class DefinitionQuery(Schema):
    kind = fields.String(validate=validate.OneOf(KINDS))
    version = fields.Integer(validate=validate.Range(1, MAX_ID),
                             metadata={"description": "Default: the newest"})

blp = Blueprint("deployments", __name__, url_prefix="/api/v1",
                description="Deploy analysts' files; read deployed definitions and versions")


@blp.route("/deployments", methods=["POST"])
def deploy():
    """Deploy .bpmn/.dmn/.case.json/.connector.json/rules .json files (multipart), all or nothing."""
    who = current()
    deployments.require_deployer(who)      # before reading what may be megabytes of files
    return deployments.deploy(who, uploaded_files(), config=config()), 201


def uploaded_files() -> dict[str, bytes]:
    """The request's multipart files (field ``files``, or any field), by file name."""
    files = {}
    for storage in request.files.getlist("files") + [
            f for k, f in request.files.items(multi=True) if k != "files"]:
        name = (storage.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
        if not name:
            raise ValidationFailed("every uploaded file needs a file name", field="files")
        if len(name) > MAX_FILE_NAME or not name.isprintable():
            raise ValidationFailed(f"file name {name[:80]!r} must be printable and at most "
                                   f"{MAX_FILE_NAME} characters", field="files",
                                   file=name[:MAX_FILE_NAME])
        if name in files:
            raise ValidationFailed(f"{name}: sent twice in one deployment", field="files",
                                   file=name)
        files[name] = storage.read()
    if not files:
        raise ValidationFailed("send the files as multipart/form-data field 'files'",
                               field="files")
    return files


@blp.route("/definitions", methods=["GET"])
@blp.arguments(DefinitionListQuery, location="query")
def listing(args):
    """The newest version of every deployed definition."""
    current()
    return deployments.listing(args.get("kind"))


@blp.route("/definitions/<key>", methods=["GET"])
@blp.arguments(DefinitionQuery, location="query")
def read(args, key):
    """All versions of a definition; `?version=N` adds that version's source (default newest)."""
    current()
    return deployments.read(key, kind=args.get("kind"), version=args.get("version"))
