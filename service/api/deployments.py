"""/api/v1/deployments and /api/v1/definitions: analysts deploy BPMN, DMN, case types and rules."""
from __future__ import annotations

from flask import current_app, request
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from .. import definitions, deployments
from ..errors import NotFound, ValidationFailed
from ..views import iso
from .auth import current, require
from .limits import MAX_ID

KINDS = ["bpmn", "dmn", "casetype", "rules"]
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
@require(lambda who: who.is_analyst, "deploying needs the analyst or admin role")
def deploy():
    """Deploy several .bpmn/.dmn/.case.json/rules .json files at once (multipart), all or nothing."""
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
    config = current_app.extensions["omniflow"]
    return deployments.deploy(files, actor=current().name,
                              max_bytes=config.max_definition_bytes), 201


@blp.route("/definitions", methods=["GET"])
@blp.arguments(DefinitionListQuery, location="query")
def listing(args):
    """The newest version of every deployed definition."""
    rows = definitions.latest_all(args.get("kind"))
    return {"items": [_summary(r) for r in rows], "next": None}


@blp.route("/definitions/<key>", methods=["GET"])
@blp.arguments(DefinitionQuery, location="query")
def read(args, key):
    """All versions of a definition; `?version=N` adds that version's source (default newest)."""
    from ..store import Definition
    kind = args.get("kind")
    query = Definition.select().where(Definition.key == key)
    if kind:
        query = query.where(Definition.kind == kind)
    rows = list(query.order_by(Definition.version))
    if not rows:
        raise NotFound(f"no definition {key!r}", key=key)
    wanted = args.get("version") or rows[-1].version
    chosen = next((r for r in rows if r.version == wanted), None)
    if chosen is None:
        raise NotFound(f"definition {key!r} has no version {wanted}", key=key)
    out = _summary(chosen)
    out["versions"] = [_summary(r) for r in rows]
    out["source"] = chosen.source
    return out


def _summary(row) -> dict:
    return {"kind": row.kind, "key": row.key, "version": row.version, "name": row.name,
            "file": row.file, "sha256": row.sha256, "deployed_by": row.deployed_by,
            "deployed_at": iso(row.deployed_at), "meta": row.meta}
