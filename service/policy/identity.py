"""Who is calling: users, groups, authority limits and hashed bearer tokens.

Tokens are 32 random bytes shown once; only their SHA-256 is stored (a fast hash is right for
high-entropy secrets, unlike passwords).
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from decimal import Decimal

from ..errors import Conflict, Unauthorized, ValidationFailed
from ..store import ApiToken, User, atomic, rows, utcnow

ADMIN, AUDITOR, ANALYST = "admin", "auditor", "analyst"


@dataclass(frozen=True)
class Identity:
    name: str
    groups: frozenset = field(default_factory=frozenset)
    authority: dict = field(default_factory=dict)
    is_client: bool = False
    active: bool = True

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.groups

    @property
    def is_auditor(self) -> bool:
        return AUDITOR in self.groups

    @property
    def is_analyst(self) -> bool:
        return ANALYST in self.groups or self.is_admin

    def limit_for(self, action: str) -> Decimal | None:
        value = self.authority.get(action)
        return None if value is None else Decimal(str(value))


SYSTEM = Identity("system", frozenset({ADMIN}))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def parse_authority(items) -> dict:
    """``["refund=500", "adjustment=200"]`` or a dict -> ``{"refund": 500, ...}``."""
    if isinstance(items, dict):
        pairs = items.items()
    else:
        pairs = []
        for item in items or ():
            for part in str(item).split(","):
                if not part.strip():
                    continue
                if "=" not in part:
                    raise ValidationFailed(f"authority {part!r} must look like action=amount",
                                           field="authority")
                action, amount = part.split("=", 1)
                pairs.append((action.strip(), amount.strip()))
    out = {}
    for action, amount in pairs:
        try:
            value = Decimal(str(amount))
        except Exception as exc:
            raise ValidationFailed(f"authority limit for {action!r} is not a number",
                                   field="authority") from exc
        if value < 0:
            raise ValidationFailed(f"authority limit for {action!r} is negative", field="authority")
        out[action] = int(value) if value == value.to_integral_value() else float(value)
    return out


def add_user(name: str, groups=(), authority=None, *, client: bool = False,
             expires_at=None) -> tuple[User, str]:
    """Create a user and its first token; the token is returned once and never stored."""
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ValidationFailed("user name must be 1 to 120 characters", field="name")
    groups = sorted({g.strip() for g in groups if g and g.strip()})
    with atomic():
        if User.select().where(User.name == name).exists():
            raise Conflict(f"user {name!r} exists", field="name")
        user = User.create(name=name, groups=groups, authority=parse_authority(authority or {}),
                           is_client=client)
        token = issue_token(user, expires_at=expires_at)
    return user, token


def issue_token(user: User, *, expires_at=None) -> str:
    """A new token for ``user`` (valid until ``expires_at``, or until revoked)."""
    token = "of_" + secrets.token_urlsafe(32)
    ApiToken.create(user=user, token_hash=hash_token(token), expires_at=expires_at)
    return token


def revoke_tokens(user: User) -> int:
    """Every token of ``user`` stops working at once; returns how many there were."""
    return ApiToken.delete().where(ApiToken.user == user).execute()


def identity_of(user: User) -> Identity:
    return Identity(user.name, frozenset(user.groups or ()), dict(user.authority or {}),
                    user.is_client, user.active)


# Every request authenticates: the lookup's SQL is built once (see store.rows.Prepared).
_TOKEN_OWNER = rows.Prepared(
    lambda token_hash, active: (ApiToken.select(ApiToken, User).join(User)
                                .where(ApiToken.token_hash == token_hash, User.active == active)),
    "0" * 64, True)


def authenticate(token: str | None) -> Identity:
    if not token:
        raise Unauthorized("a bearer token is required")
    row = _TOKEN_OWNER.first(hash_token(token), True)
    if row is None:
        raise Unauthorized("the bearer token is not valid")
    if row.expires_at is not None and row.expires_at <= utcnow():
        raise Unauthorized("the bearer token has expired; ask an admin to rotate it")
    return identity_of(row.user)


def find_identity(name: str) -> Identity | None:
    user = User.get_or_none(User.name == name)
    return identity_of(user) if user else None
