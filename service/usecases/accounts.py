"""Accounts: who is calling (bearer tokens), users and their tokens, and the demo users.

Demo users, one per role of DOMAIN.md, exist for trying the service on the embedded database:
only created through the explicit ``serve --demo`` option, and refused against PostgreSQL
(printed tokens for well-known names do not belong in a shared database).
"""
from __future__ import annotations

from ..errors import Forbidden
from ..policy import Identity, add_user, authenticate, issue_token
from ..policy.passwords import set_password
from ..store import User
from .unit_of_work import UnitOfWork

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
    return {"items": [{"name": u.name, "groups": u.groups, "authority": u.authority,
                       "client": u.is_client, "active": u.active}
                      for u in User.select().order_by(User.name)], "next": None}


def create(who: Identity | None, name: str, groups, authority, *, client: bool = False) -> dict:
    """Create a user; the token is in this answer once and never again.

    ``who`` is the admin asking over the API, or ``None`` for the command line (whoever runs
    it holds the database).
    """
    if who is not None and not who.is_admin:
        raise Forbidden("creating users needs the admin role")
    user, token = add_user(name, groups, authority, client=client)
    return {"name": user.name, "groups": user.groups, "authority": user.authority,
            "client": user.is_client, "token": token}


def users() -> list[dict]:
    """Every user with groups and limits (the command line's ``users list``)."""
    return [{"name": u.name, "groups": u.groups, "authority": u.authority,
             "client": u.is_client, "active": u.active}
            for u in User.select().order_by(User.name)]
