"""The registry of known groups and authority keys, so a typo never becomes a group.

``users add --groups custmer_service`` used to create a user nobody's task would ever reach;
now a group or an authority action outside the registry is refused with the list of known
ones. The registry is the roles of the service, the machine clients and the groups and
authority actions of the shipped retail content, plus what a deployment adds through
``OMNIFLOW_GROUPS`` and ``OMNIFLOW_AUTHORITY_KEYS`` (comma-separated, see ``service/config``).
"""
from __future__ import annotations

import difflib

from ..config import Config
from ..errors import ValidationFailed

ROLES = ("admin", "auditor", "analyst")
CLIENTS = ("oms", "pos", "erp")
RETAIL_GROUPS = ("customer_service", "cs_supervisor", "ecommerce_ops", "store_associate",
                 "store_manager", "district_manager", "regional_manager", "finance",
                 "replenishment_planner", "merchandising", "category_manager", "supply_chain",
                 "loss_prevention")
AUTHORITY_KEYS = ("refund", "adjustment", "price_override", "write_off", "supplier_commitment")


def known_groups(config: Config | None = None) -> tuple[str, ...]:
    extra = tuple(config.extra_groups) if config is not None else ()
    return tuple(sorted(set(ROLES + CLIENTS + RETAIL_GROUPS + extra)))


def known_authority_keys(config: Config | None = None) -> tuple[str, ...]:
    extra = tuple(config.extra_authority_keys) if config is not None else ()
    return tuple(sorted(set(AUTHORITY_KEYS + extra)))


def _refuse(kind: str, name: str, known: tuple[str, ...], field: str):
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ValidationFailed(f"unknown {kind} {name!r}{hint}; known {kind}s: {', '.join(known)}",
                           field=field, known=list(known))


def check_groups(groups, config: Config | None = None) -> list[str]:
    """The groups, cleaned and sorted; 422 naming an unknown one and listing the known."""
    known = known_groups(config)
    cleaned = sorted({str(g).strip() for g in groups or () if g and str(g).strip()})
    for group in cleaned:
        if group not in known:
            _refuse("group", group, known, "groups")
    return cleaned


def check_authority(authority: dict, config: Config | None = None) -> dict:
    """``authority`` (already parsed); 422 naming an unknown action and listing the known."""
    known = known_authority_keys(config)
    for action in authority:
        if action not in known:
            _refuse("authority key", action, known, "authority")
    return authority


__all__ = ["AUTHORITY_KEYS", "check_authority", "check_groups", "known_authority_keys",
           "known_groups"]
