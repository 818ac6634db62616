"""Deployed definitions: lookups by key and version, and parse-once caches of their contents.

A definition row is immutable once written, so a parsed object cached by (kind, key, version)
never goes stale; a new deploy adds a new version rather than changing one.

The newest version of every key is served from an in-process snapshot, so intake does not query
the definition table several times per case. The snapshot is rebuilt when the deployment
generation (the highest deployment id) changes; this process drops it at once when it deploys,
and other processes notice within ``REFRESH_SECONDS``. A lookup that misses (a case type or a
decision deployed a moment ago by another process) checks the generation at once rather than
answering "unknown"; a case submitted to another process in the second after a deploy of a new
*version* may still start on the previous one (it keeps that version).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache

import peewee

from .. import store
from ..errors import NotFound
from ..store import Definition, Deployment, rows
from .casetypes import CaseType, parse_case_type

REFRESH_SECONDS = 1.0


@dataclass
class _Snapshot:
    database: object
    generation: int | None
    checked_at: float
    latest: dict = field(default_factory=dict)       # (kind, key) -> Definition
    decisions: dict = field(default_factory=dict)    # decision id or name -> dmn Definition


_lock = threading.Lock()
_snapshot: _Snapshot | None = None


# Read before every definition lookup (another process may have deployed): built once.
_NEWEST_DEPLOYMENT = rows.Prepared(lambda: Deployment.select(peewee.fn.MAX(Deployment.id)).tuples())


def _generation() -> int | None:
    return _NEWEST_DEPLOYMENT.first()[0]


def _build(generation) -> _Snapshot:
    snap = _Snapshot(store.database.obj, generation, time.monotonic())
    for row in Definition.select().order_by(Definition.kind, Definition.key, Definition.version):
        snap.latest[(row.kind, row.key)] = row
    # Ids first; a name is only a fallback reference, and only when exactly one definition
    # has a decision of that name (deployments refuse a second owner of an id).
    named: dict = {}
    for (kind, _), row in snap.latest.items():
        if kind != "dmn":
            continue
        for d in row.meta.get("decisions", []):
            if d.get("id"):
                snap.decisions.setdefault(d["id"], row)
            if d.get("name"):
                named.setdefault(d["name"], {})[row.id] = row
    for name, rows in named.items():
        if name not in snap.decisions and len(rows) == 1:
            snap.decisions[name] = next(iter(rows.values()))
    return snap


def snapshot() -> _Snapshot:
    global _snapshot
    snap, now = _snapshot, time.monotonic()
    if snap is not None and snap.database is store.database.obj \
            and now - snap.checked_at < REFRESH_SECONDS:
        return snap
    generation = _generation()
    with _lock:
        if (_snapshot is not None and _snapshot.database is store.database.obj
                and _snapshot.generation == generation):
            _snapshot.checked_at = now
            return _snapshot
        _snapshot = _build(generation)
        return _snapshot


def invalidate() -> None:
    """Forget the snapshot (called after this process deploys)."""
    global _snapshot
    with _lock:
        _snapshot = None


def _fresh_on_miss(lookup):
    """``lookup(snapshot)``, and once more on a fresh snapshot when it finds nothing."""
    found = lookup(snapshot())
    if found is None and _generation() != snapshot().generation:
        invalidate()
        found = lookup(snapshot())
    return found


def latest(kind: str, key: str) -> Definition | None:
    return _fresh_on_miss(lambda snap: snap.latest.get((kind, key)))


def latest_known(kind: str, key: str) -> Definition | None:
    """The newest version in this process's snapshot, with no database query on a miss: for
    lookups on the hot path where "none" is the usual answer (a shadow decision)."""
    return snapshot().latest.get((kind, key))


def latest_stored(kind: str, key: str) -> Definition | None:
    """The newest version as the database has it now (deploy numbers versions with this)."""
    return (Definition.select().where(Definition.kind == kind, Definition.key == key)
            .order_by(Definition.version.desc()).first())


def get(kind: str, key: str, version: int | None = None) -> Definition:
    if version is None:
        row = latest(kind, key)
    else:
        row = Definition.get_or_none(Definition.kind == kind, Definition.key == key,
                                     Definition.version == version)
    if row is None:
        raise NotFound(f"no {kind} definition {key!r}"
                       + (f" version {version}" if version is not None else ""), key=key)
    return row


def latest_all(kind: str | None = None) -> list[Definition]:
    """The newest version of every key (of one kind, or all)."""
    return [row for (k, _), row in sorted(snapshot().latest.items()) if kind in (None, k)]


def case_type(type_key: str) -> CaseType:
    row = latest("casetype", type_key)
    if row is None:
        return CaseType(type_key)
    return _parsed_case_type(row.id, row.file, row.source)


@lru_cache(maxsize=512)
def _parsed_case_type(row_id: int, file: str, source: str) -> CaseType:
    return parse_case_type(file, source.encode("utf-8"))


def decision_definition(decision_ref: str) -> Definition:
    """The newest DMN definition that contains a decision with this id (or name)."""
    row = _fresh_on_miss(lambda snap: snap.decisions.get(decision_ref))
    if row is None:
        raise NotFound(f"no deployed decision {decision_ref!r}", decision=decision_ref)
    return row


def bound(kind: str, key: str, binding: dict | None, caller: Definition | None = None, *,
          decision: str | None = None) -> Definition:
    """The version of ``key`` a caller's binding names (``engine.ports.Binding.as_dict()``):
    latest, deployment (the newest at or before ``caller``'s deployment), version, versionTag.
    ``decision`` narrows the rows to those defining that decision (a DMN file's version tag is
    its decisions'). 404 naming the key when no version fits."""
    kind_of = (binding or {}).get("type") or "latest"
    if kind_of == "latest":
        return get(kind, key)
    query = Definition.select().where(Definition.kind == kind, Definition.key == key)
    if kind_of == "version":
        row = query.where(Definition.version == int(binding["version"])).first()
        what = f"version {binding['version']}"
    elif kind_of == "deployment" and caller is not None:
        row = (query.where(Definition.deployment <= caller.deployment_id)
               .order_by(Definition.version.desc()).first())
        what = f"a version deployed with {caller.key} v{caller.version}"
    elif kind_of == "versionTag":
        tag = binding.get("version_tag")
        row = next((r for r in query.order_by(Definition.version.desc())
                    if _tag_of(r, decision) == tag), None)
        what = f"version tag {tag!r}"
    else:
        return get(kind, key)
    if row is None or (decision and decision not in
                       {d.get("id") for d in (row.meta or {}).get("decisions", [])}):
        raise NotFound(f"no {kind} definition {key!r} with {what}"
                       + (f" that defines decision {decision!r}" if decision else ""),
                       key=key, element=decision or key, binding=kind_of)
    return row


def _tag_of(row: Definition, decision: str | None) -> str | None:
    meta = row.meta or {}
    if decision:
        return next((d.get("version_tag") for d in meta.get("decisions", [])
                     if d.get("id") == decision), None)
    return meta.get("version_tag")


def bound_decision(decision_ref: str, binding: dict | None,
                   caller: Definition | None = None) -> Definition:
    """The DMN definition a business rule task's binding names for ``decision_ref``."""
    newest = decision_definition(decision_ref)
    if not binding or binding.get("type") in (None, "latest"):
        return newest
    ident = next((d["id"] for d in (newest.meta or {}).get("decisions", [])
                  if decision_ref in (d.get("id"), d.get("name"))), decision_ref)
    return bound("dmn", newest.key, binding, caller, decision=ident)


def process_sources(row: Definition) -> dict[str, bytes]:
    """The BPMN sources a process needs: its own file and, transitively, its called processes."""
    return {name: called.source.encode("utf-8") for name, called in _process_rows(row).items()}


def process_bindings(row: Definition) -> dict[str, dict]:
    """The connector bindings of :func:`process_sources`, under the same names (files deployed
    without bindings are left out)."""
    return {name: called.bindings for name, called in _process_rows(row).items()
            if called.bindings}


def _process_rows(row: Definition) -> dict[str, Definition]:
    sources = {row.file: row}
    pending = [(key, row) for key in row.meta.get("called_processes", [])]
    seen = {row.key}
    while pending:
        key, caller = pending.pop()
        if key in seen:
            continue
        seen.add(key)
        # A call activity's binding (calledElementBinding / bindingType) picks the version;
        # the first call activity of a key decides when several call it.
        binding = next((b["binding"] for b in (caller.meta or {}).get("call_bindings", [])
                        if b.get("ref") == key), None)
        called = bound("bpmn", key, binding, caller) if binding else latest("bpmn", key)
        if called is None:
            raise NotFound(f"called process {key!r} is not deployed", process=key)
        sources[called.file + f"#{called.key}@{called.version}"] = called
        pending.extend((k, called) for k in called.meta.get("called_processes", []))
    return sources
