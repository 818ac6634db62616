"""Shadow decisions: set or remove a candidate table as the shadow of a deployed DMN
definition, and compare its outcomes with the live ones (``domain.shadow_decisions``)."""
from __future__ import annotations

import hashlib
import json

from ..domain import decision_replay, definitions, shadow_decisions
from ..errors import Forbidden, NotFound
from ..policy import Identity
from ..store import Definition, Deployment
from .unit_of_work import UnitOfWork
from .what_if import filters


def _require_deployer(who: Identity) -> None:
    if not who.is_analyst:
        raise Forbidden("setting a shadow decision needs the analyst or admin role")


def _pinned(namespaces) -> list[dict]:
    rows = {row.meta["namespace"]: row for row in definitions.latest_all("dmn")
            if (row.meta or {}).get("namespace")}
    return [{"namespace": ns, "key": rows[ns].key, "version": rows[ns].version}
            for ns in namespaces if ns in rows]


def _store(who: Identity, key: str, *, file: str, source: str, meta: dict, event: str,
           detail: dict) -> Definition:
    current = definitions.latest_stored(shadow_decisions.KIND, key)
    uow = UnitOfWork(who.name)
    with uow.writing():
        deployment = Deployment.create(deployed_by=who.name, files=[file] if source else [])
        row = Definition.create(
            kind=shadow_decisions.KIND, key=key, version=(current.version + 1) if current else 1,
            name=meta.get("name"), file=file, source=source,
            sha256=hashlib.sha256((source + json.dumps(meta, sort_keys=True)).encode())
            .hexdigest(), meta=meta, deployment=deployment, deployed_by=who.name)
        uow.record(event, key=key, shadow_version=row.version, **detail)
    definitions.invalidate()
    return row


def set_shadow(who: Identity, key: str, files: dict[str, bytes], *, config) -> dict:
    """``POST /decisions/{key}/shadow``: the candidate (checked as a what-if checks it) becomes
    the shadow of the DMN definition ``key``; live evaluations record it beside theirs."""
    _require_deployer(who)
    goal = decision_replay.target(key)
    candidate, _ = decision_replay.candidate_model(goal, files,
                                                   max_bytes=config.max_definition_bytes)
    meta = {"active": True, "shadow_of": goal.row.version,
            "decisions": candidate.meta.get("decisions", []),
            "namespace": candidate.meta.get("namespace"),
            "imports": _pinned(candidate.meta.get("imports", []))}
    row = _store(who, goal.row.key, file=candidate.file, source=candidate.source, meta=meta,
                 event="decision.shadow_set",
                 detail={"live_version": goal.row.version, "file": candidate.file})
    return {"key": goal.row.key, "shadow_version": row.version,
            "live_version": goal.row.version, "file": row.file}


def remove_shadow(who: Identity, key: str) -> dict:
    """``DELETE /decisions/{key}/shadow``: live evaluations stop evaluating a shadow."""
    _require_deployer(who)
    goal = decision_replay.target(key)
    if shadow_decisions.active(goal.row.key) is None:
        raise NotFound(f"{goal.row.key} has no shadow decision", key=goal.row.key)
    row = _store(who, goal.row.key, file=f"{goal.row.key} (shadow removed)", source="",
                 meta={"active": False}, event="decision.shadow_removed", detail={})
    return {"key": goal.row.key, "shadow_version": None, "removed_as": row.version}


def report(who: Identity, key: str, **raw_filters) -> dict:
    """``GET /decisions/{key}/shadow``: the shadow against the live table over the records."""
    if not (who.is_analyst or who.is_auditor):
        raise Forbidden("the shadow report needs the analyst, admin or auditor role")
    goal = decision_replay.target(key)
    return shadow_decisions.report(goal.row.key, filters(**raw_filters))


__all__ = ["remove_shadow", "report", "set_shadow"]
