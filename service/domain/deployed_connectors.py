"""Deployed HTTP connector files: the newest version of each connector name, parsed once.

A connector file (see :mod:`service.connectors.http_spec`) is a definition of kind
``connector`` keyed by its connector name; rows are immutable, so a parse cached per row never
goes stale, and a new deploy of the file simply becomes the newest version.
"""
from __future__ import annotations

from functools import lru_cache

from ..connectors.http_spec import ConnectorSpec, parse_connector
from . import definitions

KIND = "connector"


@lru_cache(maxsize=256)
def _parsed(row_id: int, file: str, source: str) -> ConnectorSpec:
    return parse_connector(file, source.encode("utf-8"))


def spec(name: str) -> ConnectorSpec | None:
    """The newest deployed connector file for ``name``, or None when none is deployed."""
    row = definitions.latest(KIND, name)
    return None if row is None else _parsed(row.id, row.file, row.source)


def known_spec(name: str) -> ConnectorSpec | None:
    """:func:`spec` from this process's definition snapshot, with no query when none is
    deployed (the usual answer, asked on every intake): a file another process deployed is
    seen within ``definitions.REFRESH_SECONDS``, one this process deployed at once."""
    row = definitions.latest_known(KIND, name)
    return None if row is None else _parsed(row.id, row.file, row.source)


def names() -> set[str]:
    return {row.key for row in definitions.latest_all(KIND)}


__all__ = ["KIND", "known_spec", "names", "spec"]
