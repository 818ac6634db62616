"""Deploying analysts' files, and reading what is deployed.

A deployment is all or nothing: every file is parsed and checked first
(:func:`service.domain.deployment.validate_files`), then one unit of work stores a new immutable
version of each definition whose content changed; unchanged content keeps its version.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..domain import definitions, timer_starts
from ..domain.deployment import content_files, validate_files
from ..errors import Forbidden, NotFound
from ..policy import Identity
from ..store import Definition, Deployment, utcnow
from .shapes import definition_summary
from .unit_of_work import UnitOfWork


def require_deployer(who: Identity) -> None:
    if not who.is_analyst:
        raise Forbidden("deploying needs the analyst or admin role")


def deploy(who: Identity, files: dict[str, bytes], *, config, name: str | None = None,
           source: str | None = None) -> dict:
    """``POST /deployments`` (and Camunda's ``/deployment/create``, which names the deployment
    and the tool it came from): analysts and admins deploy; see the module docstring."""
    require_deployer(who)
    return store_files(files, actor=who.name, max_bytes=config.max_definition_bytes,
                       name=name, source=source)


def check(who: Identity, files: dict[str, bytes], *, config) -> dict:
    """Validate files as a deployment would, storing nothing: the workbench's "Validate"."""
    if not (who.is_analyst or who.is_auditor):
        raise Forbidden("validating definitions needs the analyst, admin or auditor role")
    parsed = validate_files(files, max_bytes=config.max_definition_bytes)
    return {"valid": True, "definitions": [{"kind": p.kind, "key": p.key, "name": p.name,
                                            "file": p.file} for p in parsed]}


def store_files(files: dict[str, bytes], *, actor: str, max_bytes: int,
                name: str | None = None, source: str | None = None, clock=utcnow) -> dict:
    """Validate and store ``files``; returns what was created and what was unchanged. A new
    version of a process with a timer start event replaces the key's schedule, counted from
    ``clock()`` (see ``domain.timer_starts``)."""
    parsed = _imported_first(validate_files(files, max_bytes=max_bytes))
    created, unchanged = [], []
    pinned = {row.meta["namespace"]: {"namespace": row.meta["namespace"], "key": row.key,
                                      "version": row.version}
              for row in definitions.latest_all("dmn") if (row.meta or {}).get("namespace")}
    uow = UnitOfWork(actor)
    with uow.writing():
        deployment = Deployment.create(deployed_by=actor, files=sorted(files))
        for p in parsed:
            digest = hashlib.sha256(p.source.encode("utf-8")).hexdigest()
            if p.kind == "dmn" and p.meta.get("imports"):
                # An importing table evaluates with the exact versions it was deployed with;
                # a new version of what it imports makes a new version of it too.
                p.meta["imports"] = [pinned[ns] for ns in p.meta["imports"]]
                digest = hashlib.sha256((p.source + json.dumps(p.meta["imports"],
                                                               sort_keys=True)).encode()
                                        ).hexdigest()
            if p.bindings:
                # The bindings say what runs the file's Java tasks: new bindings, new version.
                digest = hashlib.sha256((p.source + json.dumps(p.bindings, sort_keys=True))
                                        .encode()).hexdigest()
            current = definitions.latest_stored(p.kind, p.key)
            if current is not None and current.sha256 == digest:
                unchanged.append(_summary(current))
                _pin(pinned, current)
                continue
            row = Definition.create(
                kind=p.kind, key=p.key, version=(current.version + 1) if current else 1,
                name=p.name, file=p.file, source=p.source, sha256=digest, meta=p.meta,
                bindings=p.bindings, deployment=deployment, deployed_by=actor)
            created.append(_summary(row))
            _pin(pinned, row)
            if p.kind == "bpmn":
                scheduled = timer_starts.replace(row, clock())
                if scheduled:
                    uow.record("timer_start.scheduled", **scheduled)
        uow.record("deployed", deployment=deployment.id, created=created, name=name,
                   source=source,
                   unchanged=[f"{u['kind']}:{u['key']}@{u['version']}" for u in unchanged])
    definitions.invalidate()    # after commit: the snapshot must see the new rows
    return {"id": deployment.id, "created": created, "unchanged": unchanged}


def _pin(pinned: dict, row: Definition) -> None:
    namespace = (row.meta or {}).get("namespace") if row.kind == "dmn" else None
    if namespace:
        pinned[namespace] = {"namespace": namespace, "key": row.key, "version": row.version}


def _imported_first(parsed: list) -> list:
    """DMN files ordered so that what a file imports is stored before it (the deployment
    check already refused imports that resolve nowhere)."""
    waiting = [p for p in parsed if p.kind == "dmn"]
    own = {p.meta.get("namespace") for p in waiting}
    ordered, placed = [], set()
    while waiting:
        ready = [p for p in waiting
                 if all(ns in placed or ns not in own for ns in p.meta.get("imports", []))]
        ready = ready or waiting[:1]          # a cycle of imports: take them in order
        for p in ready:
            ordered.append(p)
            placed.add(p.meta.get("namespace"))
        waiting = [p for p in waiting if p not in ready]
    return ordered + [p for p in parsed if p.kind != "dmn"]


def deploy_paths(paths, *, actor: str, config) -> dict:
    """``server.py deploy PATH...``: files and folders (expanded) from the command line."""
    files = {}
    for path in map(Path, paths):
        if path.is_dir():
            files.update(content_files([path]))
        else:
            files[path.name] = path.read_bytes()
    return store_files(files, actor=actor, max_bytes=config.max_definition_bytes)


def deploy_shipped_content(config) -> dict | None:
    """Deploy bpmn/, dmn/ and rules/ if nothing is deployed yet.

    Only on first start: after that, analysts' own deploys are the truth, and redeploying the
    shipped files at every start would silently revert their changes.
    """
    if Definition.select().exists():
        return None
    files = content_files(config.content_dirs)
    if not files:
        return None
    return store_files(files, actor="bootstrap", max_bytes=config.max_definition_bytes)


def _summary(row: Definition) -> dict:
    return {"kind": row.kind, "key": row.key, "version": row.version, "file": row.file,
            "sha256": row.sha256}


def listing(kind: str | None = None) -> dict:
    """The newest version of every deployed definition."""
    return {"items": [definition_summary(r) for r in definitions.latest_all(kind)], "next": None}


def read(key: str, *, kind: str | None = None, version: int | None = None) -> dict:
    """All versions of a definition, and one version's source (default the newest)."""
    query = Definition.select().where(Definition.key == key)
    if kind:
        query = query.where(Definition.kind == kind)
    rows = list(query.order_by(Definition.version))
    if not rows:
        raise NotFound(f"no definition {key!r}", key=key)
    wanted = version or rows[-1].version
    chosen = next((r for r in rows if r.version == wanted), None)
    if chosen is None:
        raise NotFound(f"definition {key!r} has no version {wanted}", key=key)
    out = definition_summary(chosen)
    out["versions"] = [definition_summary(r) for r in rows]
    out["source"] = chosen.source
    out["bindings"] = chosen.bindings
    return out


__all__ = ["check", "deploy", "deploy_paths", "require_deployer", "deploy_shipped_content", "listing", "read", "store_files"]
