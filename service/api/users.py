"""/api/v1/users: who am I, and user administration for admins."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..usecases import accounts
from .auth import current

blp = Blueprint("users", __name__, url_prefix="/api/v1/users", description="Users and tokens")


class UserCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 120))
    groups = fields.List(fields.String(), load_default=list)
    authority = fields.Dict(keys=fields.String(), values=fields.Float(), load_default=dict)
    client = fields.Boolean(load_default=False)


@blp.route("/me", methods=["GET"])
def me():
    return accounts.me(current())


@blp.route("", methods=["GET"])
def listing():
    """Users with their groups and limits (admin or auditor)."""
    return accounts.listing(current())


@blp.route("", methods=["POST"])
@blp.arguments(UserCreateSchema, location="json")
def create(body):
    """Create a user; the token is in this answer once and never again."""
    return accounts.create(current(), body["name"], body["groups"], body["authority"],
                           client=body["client"]), 201
