"""Liveness and readiness: is the process answering, and can it do its work.

Readiness names each check (database reachable, schema current, a background worker's
heartbeat fresh, the active risk models loaded) so an operator sees which one failed; any
failed check makes the service not ready. Workers call :func:`beat` from their loop.
"""
from __future__ import annotations

import datetime as dt
import logging

from scoring.catalog import SPECS

from .. import store
from ..config import Config
from ..domain import model_registry
from ..store import WorkerHeartbeat, migrations, utcnow

log = logging.getLogger(__name__)

# Heartbeat rows of workers gone this long are deleted by the next beat (owners are per process).
FORGET_AFTER = dt.timedelta(days=1)


def liveness() -> dict:
    return {"status": "ok"}


def beat(owner: str, now: dt.datetime | None = None) -> None:
    """Record that worker ``owner`` is alive (wall-clock time: readiness compares with it)."""
    now = now or utcnow()
    with store.atomic():
        (WorkerHeartbeat.insert(owner=owner, seen_at=now)
         .on_conflict(conflict_target=[WorkerHeartbeat.owner],
                      update={WorkerHeartbeat.seen_at: now})
         .execute())
        WorkerHeartbeat.delete().where(WorkerHeartbeat.seen_at < now - FORGET_AFTER).execute()


def _database() -> dict:
    store.database.connect(reuse_if_open=True)
    store.database.execute_sql("SELECT 1").fetchone()
    return {"ok": True}


def _migrations() -> dict:
    have, want = store.current_version(), migrations.MIGRATIONS[-1][0]
    return {"ok": have == want, "version": have, "expected": want}


def _worker(config: Config) -> dict:
    newest = WorkerHeartbeat.select(WorkerHeartbeat.seen_at).order_by(
        WorkerHeartbeat.seen_at.desc()).first()
    if newest is None:
        return {"ok": False, "detail": "no background worker has run "
                                       "(start 'python server.py worker')"}
    age = (utcnow() - newest.seen_at).total_seconds()
    out = {"ok": age <= config.worker_stale_seconds, "last_seen_seconds_ago": round(age, 1),
           "stale_after_seconds": config.worker_stale_seconds}
    if not out["ok"]:
        out["detail"] = "no background worker has run a pass recently"
    return out


def _models(config: Config) -> dict:
    scorer = model_registry.scorer(config.models_dir)
    loaded, missing = {}, {}
    for name in sorted(SPECS):
        try:
            version = scorer.active_version(name)
            scorer.load(name, version)       # cached after the first time
            loaded[name] = version
        except Exception as exc:  # noqa: BLE001 - reported by name; readiness must answer
            missing[name] = str(exc)
    out = {"ok": not missing, "loaded": loaded}
    if missing:
        out["missing"] = missing
    return out


def readiness(config: Config) -> tuple[bool, dict]:
    """``(ready, {"status", "checks": {name: {"ok", ...}}})``; each check runs even when an
    earlier one failed, except those that need the database when it is unreachable."""
    checks: dict[str, dict] = {}
    steps = [("database", _database), ("migrations", _migrations),
             ("worker", lambda: _worker(config)), ("models", lambda: _models(config))]
    for name, step in steps:
        if name != "database" and not checks["database"]["ok"]:
            checks[name] = {"ok": False, "detail": "the database is not reachable"}
            continue
        try:
            checks[name] = step()
        except Exception as exc:  # noqa: BLE001 - a failed check is an answer, not a 500
            log.warning("readiness check failed", extra={"check": name, "error": str(exc)})
            checks[name] = {"ok": False, "detail": str(exc)}
    ready = all(check["ok"] for check in checks.values())
    return ready, {"status": "ready" if ready else "not ready", "checks": checks}


__all__ = ["beat", "liveness", "readiness"]
