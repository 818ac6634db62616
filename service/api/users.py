"""/api/v1/users: who am I, and user administration for admins (every change audited)."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..usecases import accounts
from .auth import current
from .context import config
from .problems import documented_errors

blp = Blueprint("users", __name__, url_prefix="/api/v1/users", description="Users and tokens")

_DAYS = fields.Integer(validate=validate.Range(1, accounts.MAX_TOKEN_DAYS), allow_none=True,
                       load_default=None,
                       metadata={"description": "The new token expires after this many days "
                                                "(none: until rotated)"})


class UserCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 120))
    groups = fields.List(fields.String(), load_default=list,
                         metadata={"description": "Known groups only (GET /users/registry)"})
    authority = fields.Dict(keys=fields.String(), values=fields.Float(), load_default=dict,
                            metadata={"description": "action -> limit; known actions only"})
    client = fields.Boolean(load_default=False)
    expires_in_days = _DAYS


class GroupsSchema(Schema):
    groups = fields.List(fields.String(), required=True)


class AuthoritySchema(Schema):
    authority = fields.Dict(keys=fields.String(), values=fields.Float(), required=True)


class RotateSchema(Schema):
    expires_in_days = _DAYS


class MeSchema(Schema):
    name = fields.String()
    groups = fields.List(fields.String())
    authority = fields.Dict(keys=fields.String(), values=fields.Float())
    client = fields.Boolean()


class UserSchema(MeSchema):
    active = fields.Boolean()
    tokens = fields.Integer(metadata={"description": "How many tokens the user holds"})
    token_expires_at = fields.String(allow_none=True,
                                     metadata={"description": "When the last token expires "
                                                              "(null: no expiry)"})


class UserWithTokenSchema(UserSchema):
    token = fields.String(metadata={"description": "The bearer token, shown this once"})


class UserListSchema(Schema):
    items = fields.List(fields.Nested(UserSchema))
    next = fields.String(allow_none=True)


class RegistrySchema(Schema):
    groups = fields.List(fields.String())
    authority_keys = fields.List(fields.String())


@blp.route("/me", methods=["GET"])
@blp.response(200, MeSchema)
@documented_errors(blp, 401)
def me():
    """The caller: name, groups, authority limits."""
    return accounts.me(current())


@blp.route("", methods=["GET"])
@blp.response(200, UserListSchema)
@documented_errors(blp, 401, 403)
def listing():
    """Users with their groups, limits, state and token expiry (admin or auditor)."""
    return accounts.listing(current())


@blp.route("/registry", methods=["GET"])
@blp.response(200, RegistrySchema)
@documented_errors(blp, 401)
def registry():
    """The groups and authority actions users may be given."""
    current()
    return accounts.registry(config())


@blp.route("", methods=["POST"])
@blp.arguments(UserCreateSchema, location="json")
@blp.response(201, UserWithTokenSchema)
@documented_errors(blp, 400, 401, 403, 409, 422)
def create(body):
    """Create a user (admin); the token is in this answer once and never again."""
    return accounts.create(current(), body["name"], body["groups"], body["authority"],
                           client=body["client"], expires_in_days=body["expires_in_days"],
                           config=config())


@blp.route("/<name>/disable", methods=["POST"])
@blp.response(200, UserSchema)
@documented_errors(blp, 401, 403, 404, 422)
def disable(name):
    """Disable a user (admin): their tokens and sessions stop working at once."""
    return accounts.set_active(current(), name, False)


@blp.route("/<name>/enable", methods=["POST"])
@blp.response(200, UserSchema)
@documented_errors(blp, 401, 403, 404)
def enable(name):
    """Enable a disabled user again (admin)."""
    return accounts.set_active(current(), name, True)


@blp.route("/<name>/rotate-token", methods=["POST"])
@blp.arguments(RotateSchema, location="json")
@blp.response(200, UserWithTokenSchema)
@documented_errors(blp, 400, 401, 403, 404, 422)
def rotate_token(body, name):
    """Revoke every token of a user and issue a new one, shown once (admin)."""
    return accounts.rotate_token(current(), name, expires_in_days=body["expires_in_days"])


@blp.route("/<name>/groups", methods=["PUT"])
@blp.arguments(GroupsSchema, location="json")
@blp.response(200, UserSchema)
@documented_errors(blp, 400, 401, 403, 404, 422)
def set_groups(body, name):
    """Replace a user's groups (admin; known groups only)."""
    return accounts.set_groups(current(), name, body["groups"], config=config())


@blp.route("/<name>/authority", methods=["PUT"])
@blp.arguments(AuthoritySchema, location="json")
@blp.response(200, UserSchema)
@documented_errors(blp, 400, 401, 403, 404, 422)
def set_authority(body, name):
    """Replace a user's authority limits (admin; known actions only)."""
    return accounts.set_authority(current(), name, body["authority"], config=config())
