"""/api/v1/users: who am I, and user administration for admins."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..policy import add_user
from ..store import User
from .auth import current, require

blp = Blueprint("users", __name__, url_prefix="/api/v1/users", description="Users and tokens")


class UserCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 120))
    groups = fields.List(fields.String(), load_default=list)
    authority = fields.Dict(keys=fields.String(), values=fields.Float(), load_default=dict)
    client = fields.Boolean(load_default=False)


@blp.route("/me", methods=["GET"])
def me():
    who = current()
    return {"name": who.name, "groups": sorted(who.groups), "authority": who.authority,
            "client": who.is_client}


@blp.route("", methods=["GET"])
@require(lambda who: who.is_admin or who.is_auditor, "listing users needs admin or auditor")
def listing():
    return {"items": [{"name": u.name, "groups": u.groups, "authority": u.authority,
                       "client": u.is_client, "active": u.active}
                      for u in User.select().order_by(User.name)], "next": None}


@blp.route("", methods=["POST"])
@require(lambda who: who.is_admin, "creating users needs the admin role")
@blp.arguments(UserCreateSchema, location="json")
def create(body):
    """Create a user; the token is in this answer once and never again."""
    user, token = add_user(body["name"], body["groups"], body["authority"], client=body["client"])
    return {"name": user.name, "groups": user.groups, "authority": user.authority,
            "client": user.is_client, "token": token}, 201
