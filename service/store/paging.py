"""Keyset pagination: ``{"items": [...], "next": cursor}`` with an opaque cursor.

A cursor is what :func:`encode` wrote: the last row's id, or ``[due time or null, id]`` for the
inbox. It comes back from the client, so :func:`decode` accepts only those shapes: anything
else is a 400, never a value the query would fail on.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any, Callable

import peewee

from ..errors import BadRequest
from .db import is_postgres
from .fields import iso

MAX_LIMIT = 200
MAX_ID = 2**63 - 1


def encode(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


ID = "id"                  # the last row's id (cases, audit)
DUE_ID = "due_id"          # [due time or null, id] (the inbox)


def decode(cursor: str | None, shape: str | None = None):
    """The key in ``cursor`` (``None`` for no cursor); ``shape`` narrows it to ID or DUE_ID."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()).decode(),
                           parse_constant=_refuse)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise BadRequest("the cursor is not valid", field="cursor") from exc
    if not _is_key(value) or (shape == ID and not _is_id(value)) or (
            shape == DUE_ID and _is_id(value)):
        raise BadRequest("the cursor is not valid", field="cursor")
    return value


def _refuse(name):
    raise ValueError(name)


def _is_id(value) -> bool:
    return type(value) is int and 0 <= value <= MAX_ID


def _is_key(value) -> bool:
    """An id, or ``[ISO time or None, id]``: the shapes :func:`encode` is given."""
    if _is_id(value):
        return True
    if not (isinstance(value, list) and len(value) == 2 and _is_id(value[1])):
        return False
    if value[0] is None:
        return True
    if not isinstance(value[0], str):
        return False
    try:
        dt.datetime.fromisoformat(value[0])
    except ValueError:
        return False
    return True


def clamp(limit) -> int:
    try:
        value = int(limit) if limit is not None else 50
    except (TypeError, ValueError) as exc:
        raise BadRequest("limit must be a whole number", field="limit") from exc
    if not 1 <= value <= MAX_LIMIT:
        raise BadRequest(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    return value


def page(query, *, order, cursor: str | None, limit, shape: str, after: Callable[[Any], Any],
         key_of: Callable[[Any], Any], render: Callable[[Any], dict]) -> dict:
    """One page of ``query`` in ``order``: ``{"items", "next"}``.

    ``after(key)`` is the condition for rows past a cursor's key; ``key_of(row)`` the key the
    next cursor carries (it must be unique and follow ``order``, so a page never skips or
    repeats a row when rows are added meanwhile).
    """
    limit = clamp(limit)
    key = decode(cursor, shape)
    if key is not None:
        query = query.where(after(key))
    rows = list(query.order_by(*order).limit(limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": [render(r) for r in rows],
            "next": encode(key_of(rows[-1])) if more else None}


def _not_by_index(column):
    """``column`` in a condition SQLite must not answer from an index (its unary ``+``), so the
    planner starts from the query's other terms; PostgreSQL plans by its statistics."""
    return peewee.NodeList((peewee.SQL("+"), column), glue="") if not is_postgres() else column


def by_due(query, *, status, statuses, due, id_column, cursor: str | None, limit,
           render: Callable[[Any], dict], driven: bool = False) -> dict:
    """A page in (due time, those without one last, id) order, as the inbox lists tasks.

    Read as one ordered range scan of the ``(status, due)`` index per status, each stopping at
    ``limit + 1`` rows, then merged here: one query over every status sorted all the visible
    open tasks on each call (a temporary B-tree; seconds at a million open tasks). Rows without
    a due time come after, read only when the dated ones do not fill the page.

    ``driven``: ``query`` narrows the rows to a small set of ids (a few thousand at most): one
    query reads the page from them and sorts them instead of walking the due index per status
    (SQLite would otherwise still prefer the index that gives the order).
    """
    limit = clamp(limit)
    key = decode(cursor, DUE_ID)
    if driven:
        rows = _driven_page(query, status=status, statuses=statuses, due=due,
                            id_column=id_column, key=key, limit=limit)
        return _due_page(rows, due=due, id_column=id_column, limit=limit, render=render)
    rows: list = []
    if key is None or key[0] is not None:
        for value in statuses:
            scan = query.where(status == value, due.is_null(False))
            if key is not None:
                at = dt.datetime.fromisoformat(key[0])
                scan = scan.where(due >= at, (due > at) | (id_column > key[1]))
            rows += list(scan.order_by(due, id_column).limit(limit + 1))
    if len(rows) <= limit:
        for value in statuses:
            scan = query.where(status == value, due.is_null(True))
            if key is not None and key[0] is None:
                scan = scan.where(id_column > key[1])
            rows += list(scan.order_by(id_column).limit(limit + 1))
    return _due_page(rows, due=due, id_column=id_column, limit=limit, render=render)


def _driven_page(query, *, status, statuses, due, id_column, key, limit) -> list:
    """One query for the page when ``query`` narrows to a small set of ids: the rows are few,
    so they are sorted whole (dated first, then those without a due time) rather than read per
    status from the index; SQLite is kept off the ``(status, due)`` index (``+``)."""
    status_term, due_term = _not_by_index(status), _not_by_index(due)
    scan = query.where(status_term.in_(list(statuses)))
    if key is not None and key[0] is None:
        scan = scan.where(due_term.is_null(True), id_column > key[1])
    elif key is not None:
        at = due.db_value(dt.datetime.fromisoformat(key[0])) if due_term is not due \
            else dt.datetime.fromisoformat(key[0])
        scan = scan.where(due_term.is_null(True) | (due_term > at)
                          | ((due_term == at) & (id_column > key[1])))
    return list(scan.order_by(due.is_null(True), due, id_column).limit(limit + 1))


def _due_page(rows: list, *, due, id_column, limit, render) -> dict:
    due_name, id_name = due.name, id_column.name

    def order(row):
        at = getattr(row, due_name)
        return (at is None, at.timestamp() if at is not None else 0.0, getattr(row, id_name))

    rows.sort(key=order)
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if rows else None
    return {"items": [render(r) for r in rows],
            "next": encode([iso(getattr(last, due_name)), getattr(last, id_name)])
            if more else None}


def by_id(query, column, *, cursor: str | None, limit, render: Callable[[Any], dict],
          newest_first: bool = True) -> dict:
    """A page ordered by a unique integer column (an id or a sequence number)."""
    return page(query, order=[column.desc() if newest_first else column], cursor=cursor,
                limit=limit, shape=ID,
                after=(lambda key: column < key) if newest_first else (lambda key: column > key),
                key_of=lambda row: getattr(row, column.name), render=render)


def chunks(query, column, *, size: int = 2000, newest_first: bool = True,
           limit: int | None = None, raw: bool = False):
    """Stream ``query`` in keyset chunks on a unique integer ``column`` (lists of rows): a long
    read (a what-if replay over a year of records) never holds more than one chunk, and never
    uses OFFSET. ``limit`` caps the rows yielded in all. ``raw`` rows are the driver's tuples,
    column values not converted (JSON columns stay text): ``column`` must be selected first."""
    last, left = None, limit
    while left is None or left > 0:
        q = query
        if last is not None:
            q = q.where(column < last if newest_first else column > last)
        take = size if left is None else min(size, left)
        q = q.order_by(column.desc() if newest_first else column).limit(take)
        rows = q.model._meta.database.execute(q).fetchall() if raw else list(q)
        if not rows:
            return
        yield rows
        if len(rows) < take:
            return
        if left is not None:
            left -= len(rows)
        last = rows[-1][0] if isinstance(rows[-1], (tuple, list)) else getattr(rows[-1], column.name)
