"""Accounts: who is calling (bearer tokens), users and their tokens, and the demo users.

Demo users, one per role of DOMAIN.md, exist for trying the service on the embedded database:
only created through the explicit ``serve --demo`` option, and refused against PostgreSQL
(printed tokens for well-known names do not belong in a shared database).
"""
from __future__ import annotations

import datetime as dt

from ..config import Config
from ..errors import Forbidden, NotFound, ValidationFailed
from ..policy import (Identity, add_user, authenticate, issue_token, parse_authority,
                      revoke_tokens)
from ..policy.directory import check_authority, check_groups, known_authority_keys, known_groups
from ..policy.passwords import set_password
from ..store import ApiToken, User, for_update, iso, utcnow
from .unit_of_work import UnitOfWork

CLI = "cli"                 # the actor of changes made on the command line
MAX_TOKEN_DAYS = 3650

# name -> (groups, authority limits, machine client)
DEMO_USERS = {
    "oms": (["oms"], {}, True),
    "pos": (["pos"], {}, True),
    "erp": (["erp"], {}, True),
    "cs_agent": (["customer_service"], {"refund": 100}, False),
    "cs_supervisor": (["cs_supervisor", "customer_service"], {"refund": 500}, False),
    "ecommerce_ops": (["ecommerce_ops"], {"refund": 500}, False),
    "store_associate": (["store_associate"], {}, False),
    "store_manager": (["store_manager"], {"refund": 500, "adjustment": 500,
                                          "price_override": 500}, False),
    "district_manager": (["district_manager"], {"refund": 5000, "adjustment": 5000,
                                                "price_override": 5000}, False),
    "regional_manager": (["regional_manager"], {"refund": 5000, "adjustment": 5000,
                                                "price_override": 5000}, False),
    "finance": (["finance"], {"refund": 1000000, "adjustment": 1000000,
                              "price_override": 1000000, "write_off": 1000000}, False),
    "finance2": (["finance"], {"refund": 1000000, "adjustment": 1000000,
                               "price_override": 1000000, "write_off": 1000000}, False),
    "replenishment_planner": (["replenishment_planner"], {"supplier_commitment": 50000}, False),
    "merchandising": (["merchandising"], {}, False),
    "category_manager": (["category_manager"], {}, False),
    "supply_chain": (["supply_chain"], {"supplier_commitment": 250000}, False),
    "loss_prevention": (["loss_prevention"], {"refund": 5000}, False),
    "analyst": (["analyst"], {}, False),
    "auditor": (["auditor"], {}, False),
    "admin": (["admin"], {}, False),
}


# Every demo person signs in to the pages with this password (printed by ``serve --demo``).
DEMO_PASSWORD = "omniflow-demo"


def ensure_demo_users() -> list[tuple[str, str, list[str]]]:
    """Create missing demo users and issue each a fresh token; returns (name, token, groups).
    People (not machine clients) get :data:`DEMO_PASSWORD` for the pages, if they have none."""
    out = []
    with UnitOfWork("demo").writing():
        for name, (groups, authority, client) in DEMO_USERS.items():
            user = User.get_or_none(User.name == name)
            if user is None:
                user = User.create(name=name, groups=groups, authority=authority,
                                   is_client=client)
            if not client and not user.password_hash:
                set_password(user, DEMO_PASSWORD)
            out.append((name, issue_token(user), list(user.groups)))
    return out


def who_is(token: str | None) -> Identity:
    """The identity behind a bearer token (401 when missing or not valid)."""
    return authenticate(token)


def me(who: Identity) -> dict:
    return {"name": who.name, "groups": sorted(who.groups), "authority": who.authority,
            "client": who.is_client}


def listing(who: Identity) -> dict:
    if not (who.is_admin or who.is_auditor):
        raise Forbidden("listing users needs admin or auditor")
    return {"items": users(), "next": None}


def registry(config: Config | None = None) -> dict:
    """The groups and authority actions users may be given."""
    return {"groups": list(known_groups(config)),
            "authority_keys": list(known_authority_keys(config))}


def _summary(user: User) -> dict:
    expiry = [t.expires_at for t in ApiToken.select(ApiToken.expires_at)
              .where(ApiToken.user == user)]
    return {"name": user.name, "groups": list(user.groups or []),
            "authority": dict(user.authority or {}), "client": user.is_client,
            "active": user.active, "tokens": len(expiry),
            "token_expires_at": iso(max(expiry)) if expiry and None not in expiry else None}


def _expiry(days: int | None):
    if days is None:
        return None
    if not 1 <= int(days) <= MAX_TOKEN_DAYS:
        raise ValidationFailed(f"expires_in_days must be 1 to {MAX_TOKEN_DAYS}",
                               field="expires_in_days")
    return utcnow() + dt.timedelta(days=int(days))


def _admin(who: Identity | None, doing: str) -> str:
    """The actor's name; 403 unless ``who`` is an admin (``None``: the command line)."""
    if who is not None and not who.is_admin:
        raise Forbidden(f"{doing} needs the admin role")
    return who.name if who is not None else CLI


def _user(name: str, *, lock: bool = False) -> User:
    query = User.select().where(User.name == name)
    user = (for_update(query) if lock else query).first()
    if user is None:
        raise NotFound(f"no user {name!r}", field="name")
    return user


def create(who: Identity | None, name: str, groups, authority, *, client: bool = False,
           expires_in_days: int | None = None, config: Config | None = None) -> dict:
    """Create a user; the token is in this answer once and never again (audited, without it).

    ``who`` is the admin asking over the API, or ``None`` for the command line (whoever runs
    it holds the database). Groups and authority actions must be in the registry.
    """
    actor = _admin(who, "creating users")
    groups = check_groups(groups, config)
    limits = check_authority(parse_authority(authority), config)
    expires_at = _expiry(expires_in_days)
    uow = UnitOfWork(actor)
    with uow.writing():
        user, token = add_user(name, groups, limits, client=client, expires_at=expires_at)
        uow.record("user.created", user=user.name, groups=user.groups, authority=user.authority,
                   client=user.is_client, token_expires_at=iso(expires_at) if expires_at else None)
    return {**_summary(user), "token": token}


def set_active(who: Identity | None, name: str, active: bool) -> dict:
    """Disable (every token and session stops working at once) or enable a user."""
    actor = _admin(who, "disabling and enabling users")
    if who is not None and who.name == name and not active:
        raise ValidationFailed("you cannot disable yourself; ask another admin", field="name")
    uow = UnitOfWork(actor)
    with uow.writing():
        user = _user(name, lock=True)
        if user.active != active:
            User.update(active=active).where(User.id == user.id).execute()
            uow.record("user.enabled" if active else "user.disabled", user=name)
        user = _user(name)
    return _summary(user)


def rotate_token(who: Identity | None, name: str, *, expires_in_days: int | None = None) -> dict:
    """Revoke every token of ``name`` and issue a new one, shown once (audited, without it)."""
    actor = _admin(who, "rotating tokens")
    expires_at = _expiry(expires_in_days)
    uow = UnitOfWork(actor)
    with uow.writing():
        user = _user(name, lock=True)
        revoked = revoke_tokens(user)
        token = issue_token(user, expires_at=expires_at)
        uow.record("user.token_rotated", user=name, revoked=revoked,
                   token_expires_at=iso(expires_at) if expires_at else None)
    return {**_summary(user), "token": token}


def set_groups(who: Identity | None, name: str, groups, *, config: Config | None = None) -> dict:
    actor = _admin(who, "changing groups")
    groups = check_groups(groups, config)
    if who is not None and who.name == name and "admin" not in groups:
        raise ValidationFailed("you cannot take the admin role from yourself; ask another admin",
                               field="groups")
    uow = UnitOfWork(actor)
    with uow.writing():
        user = _user(name, lock=True)
        before = list(user.groups or [])
        User.update(groups=groups).where(User.id == user.id).execute()
        uow.record("user.groups_set", user=name, before=before, after=groups)
        user = _user(name)
    return _summary(user)


def set_authority(who: Identity | None, name: str, authority,
                  *, config: Config | None = None) -> dict:
    actor = _admin(who, "changing authority limits")
    limits = check_authority(parse_authority(authority), config)
    uow = UnitOfWork(actor)
    with uow.writing():
        user = _user(name, lock=True)
        before = dict(user.authority or {})
        User.update(authority=limits).where(User.id == user.id).execute()
        uow.record("user.authority_set", user=name, before=before, after=limits)
        user = _user(name)
    return _summary(user)


def users() -> list[dict]:
    """Every user with groups, limits, state and token expiry (``users list``, the API)."""
    return [_summary(u) for u in User.select().order_by(User.name)]
