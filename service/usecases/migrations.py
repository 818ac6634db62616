"""Instance migration: move running instances of a process version to another version.

``dry_run`` lists every instance that cannot move and why, changing nothing. ``execute`` moves
the others in chunks: each instance is one unit of work (its state, its inbox rows, its case's
definition and an ``instance.migrated`` audit event in one transaction), so an instance that
fails moves nothing of itself and the others go on.
"""
from __future__ import annotations

from typing import Callable

from ..domain import inbox, instance_migration, instances
from ..errors import EngineFailure, Forbidden, OmniflowError, ValidationFailed
from ..policy import Identity
from ..policy.identity import SYSTEM
from ..store import Case, Instance, paging, utcnow
from .unit_of_work import UnitOfWork

OPERATOR = SYSTEM          # the shell's operator (``server.py migrate-instances``)
CHUNK = 100
MAX_LISTED = 1000          # blocked and failed instances listed in full


def _require(who: Identity) -> None:
    if not (who.is_admin or who.is_analyst):
        raise Forbidden("migrating instances needs the analyst or admin role")


def _plan(body: dict) -> instance_migration.Plan:
    if not isinstance(body, dict):
        raise ValidationFailed("send the plan as a JSON object", field="plan")
    return instance_migration.plan(body.get("process"), body.get("source_version"),
                                   body.get("target_version"), body.get("mapping"),
                                   body.get("variables"))


def _chunks(plan):
    for chunk in paging.chunks(instance_migration.instances(plan), Instance.id, size=CHUNK,
                               newest_first=False):
        yield [r.id for r in chunk]


def _blockers(plan, row: Instance, config) -> list[dict]:
    try:
        process = instances.load(row, clock=utcnow, definition=plan.source,
                                 script_cpu_seconds=config.script_cpu_seconds)
    except EngineFailure as exc:
        return [{"element": None, "reason": "unreadable", "detail": exc.detail,
                 "variable": None}]
    return [b.to_json() for b in instance_migration.blockers(plan, row, process.inst.data)]


def dry_run(who: Identity, body: dict, *, config) -> dict:
    """Which instances of the plan's source version would move, and why the others cannot."""
    _require(who)
    plan = _plan(body)
    movable, blocked = 0, []
    count = 0
    for ids in _chunks(plan):
        for row in Instance.select().where(Instance.id.in_(ids)).order_by(Instance.id):
            count += 1
            found = _blockers(plan, row, config)
            if found:
                if len(blocked) < MAX_LISTED:
                    blocked.append({"instance_id": row.id, "case_id": row.case_id,
                                    "reasons": found})
            else:
                movable += 1
    return {"plan": plan.to_json(), "instances": count, "movable": movable,
            "blocked_count": count - movable, "blocked": blocked,
            "not_running": instance_migration.others(plan)}


def execute(who: Identity, body: dict, *, config, progress: Callable[[int], None] | None = None,
            on_total: Callable[[int], None] | None = None, actor: str | None = None) -> dict:
    """Move every movable instance of the plan, in chunks; see the module docstring.
    ``actor`` names who the audit records (the shell's ``--as``; default ``who``)."""
    _require(who)
    if actor:
        who = Identity(actor, who.groups)
    plan = _plan(body)
    if on_total is not None:
        on_total(instance_migration.instances(plan).count())
    moved, blocked, failed = [], [], []
    for ids in _chunks(plan):
        for instance_id in ids:
            outcome = _move_one(who, plan, instance_id, config)
            if outcome["result"] == "moved":
                moved.append(instance_id)
            elif outcome["result"] == "blocked" and len(blocked) < MAX_LISTED:
                blocked.append(outcome)
            elif outcome["result"] == "failed" and len(failed) < MAX_LISTED:
                failed.append(outcome)
        if progress is not None:
            progress(len(ids))
    return {"plan": plan.to_json(), "moved": len(moved), "moved_ids": moved[:MAX_LISTED],
            "blocked_count": len(blocked), "blocked": blocked,
            "failed_count": len(failed), "failed": failed}


def _move_one(who: Identity, plan, instance_id: int, config) -> dict:
    row = Instance.get_or_none(Instance.id == instance_id)
    if row is None or row.definition_id != plan.source.id or row.status not in \
            instance_migration.MOVABLE:
        return {"instance_id": instance_id, "result": "skipped"}
    reasons = _blockers(plan, row, config)
    if reasons:
        return {"instance_id": row.id, "case_id": row.case_id, "result": "blocked",
                "reasons": reasons}
    uow = UnitOfWork(who.name, config=config)
    try:
        process = instances.migrate(row, plan.target, plan.mapping, plan.variables,
                                    clock=uow.clock,
                                    script_cpu_seconds=config.script_cpu_seconds)
        if process.inst.status != "waiting":
            # it would not go on in the target (an assignment that fails there, say): nothing
            # of it is written, and it stays on the source version
            failure = process.inst.failure
            raise EngineFailure(failure.detail if failure else "the moved instance would be "
                                f"{process.inst.status}", **(failure.extra if failure else {}))
        case = Case.get_by_id(row.case_id)
        with uow.writing():
            inbox.withdraw_moved(case, row, process.inst, uow.events)
            Case.update(definition=plan.target.id).where(Case.id == case.id).execute()
            uow.record("instance.migrated", case_id=case.id, instance_id=row.id,
                       process=plan.process, from_version=plan.source.version,
                       to_version=plan.target.version, mapping=plan.mapping,
                       variables=sorted(plan.variables))
            uow.save(case, process, row=row, definition=plan.target)
    except OmniflowError as exc:       # nothing of this instance was written
        return {"instance_id": row.id, "case_id": row.case_id, "result": "failed",
                "detail": exc.detail, **{k: v for k, v in exc.extra.items()
                                         if k in ("element", "field")}}
    return {"instance_id": row.id, "case_id": row.case_id, "result": "moved"}


__all__ = ["OPERATOR", "dry_run", "execute"]
