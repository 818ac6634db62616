"""/api/v1/migrations: move running instances of a process version to another version.

A plan: ``{"process", "source_version", "target_version", "mapping": {source element id:
target element id} (default same id), "variables": {...} set on the moved instances}``.
"""
from __future__ import annotations

from flask import request
from flask_smorest import Blueprint

from ..errors import ValidationFailed
from ..usecases import migrations
from .answers import answered
from .auth import current
from .context import config

blp = Blueprint("migrations", __name__, url_prefix="/api/v1/migrations",
                description="Instance migration between process versions: dry run, execute")


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationFailed("send the plan as a JSON object: process, source_version, "
                               "target_version, mapping, variables", field="plan")
    return body


@blp.route("/dry-run", methods=["POST"])
@blp.doc(**answered(200, "The instances that can move, and why the others cannot"))
def dry_run():
    """Check a plan: every instance of the source version that cannot move and why (its
    active element has no target, a variable the target reads is missing); nothing changes."""
    return migrations.dry_run(current(), _body(), config=config())


@blp.route("", methods=["POST"])
@blp.doc(**answered(200, "Moved, blocked and failed instances"))
def execute():
    """Move the instances of the plan's source version that can move, in chunks; each
    instance is one unit of work with its audit event (a failure moves nothing of it)."""
    return migrations.execute(current(), _body(), config=config())
