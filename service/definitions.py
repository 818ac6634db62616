"""Deployed definitions: lookups by key and version, and parse-once caches of their contents.

A definition row is immutable once written, so a parsed object cached by (kind, key, version)
never goes stale; a new deploy adds a new version rather than changing one.
"""
from __future__ import annotations

import threading
from functools import lru_cache

from .casetypes import CaseType, parse_case_type
from .errors import NotFound
from .store import Definition

_decision_index_lock = threading.Lock()


def latest(kind: str, key: str) -> Definition | None:
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
    query = Definition.select()
    if kind:
        query = query.where(Definition.kind == kind)
    newest = {}
    for row in query.order_by(Definition.kind, Definition.key, Definition.version):
        newest[(row.kind, row.key)] = row
    return list(newest.values())


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
    for row in (Definition.select().where(Definition.kind == "dmn")
                .order_by(Definition.version.desc(), Definition.id.desc())):
        decisions = row.meta.get("decisions", [])
        if any(decision_ref in (d.get("id"), d.get("name")) for d in decisions):
            if latest("dmn", row.key).version == row.version:
                return row
    raise NotFound(f"no deployed decision {decision_ref!r}", decision=decision_ref)


def process_sources(row: Definition) -> dict[str, bytes]:
    """The BPMN sources a process needs: its own file and, transitively, its called processes."""
    sources = {row.file: row.source.encode("utf-8")}
    pending, seen = list(row.meta.get("called_processes", [])), {row.key}
    while pending:
        key = pending.pop()
        if key in seen:
            continue
        seen.add(key)
        called = latest("bpmn", key)
        if called is None:
            raise NotFound(f"called process {key!r} is not deployed", process=key)
        sources[called.file + f"#{called.key}@{called.version}"] = called.source.encode("utf-8")
        pending.extend(called.meta.get("called_processes", []))
    return sources
