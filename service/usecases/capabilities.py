"""What each person may do, as the pages need to know it before offering a button.

The same rules the use cases enforce, asked ahead: nobody is shown a button the server would
refuse. The check at the time of the action is still the one that counts.
"""
from __future__ import annotations

from ..domain import definitions
from ..policy import Identity


def of(who: Identity) -> dict:
    reads_only = who.is_auditor and not who.is_admin
    return {"name": who.name, "groups": sorted(who.groups), "authority": who.authority,
            "client": who.is_client,
            "work_tasks": not who.is_client and not reads_only,
            "deploy": who.is_analyst,
            "workbench": who.is_analyst or who.is_admin or who.is_auditor,
            "dashboard": not who.is_client or who.is_admin,
            "read_audit": who.is_auditor or who.is_admin,
            "retry_case_types": retry_case_types(who),
            "cancel_case_types": retry_case_types(who)}


def retry_case_types(who: Identity) -> list[str]:
    """Case types whose incidents ``who`` may retry (and whose cases they may cancel)."""
    if who.is_auditor and not who.is_admin:
        return []
    out = []
    for row in definitions.latest_all("bpmn"):
        groups = set(definitions.case_type(row.key).cancel_groups)
        if who.is_admin or who.groups & groups:
            out.append(row.key)
    return out


__all__ = ["of", "retry_case_types"]
