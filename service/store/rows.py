"""Fast inserts for the hot path: the SQL text is built once per (table, columns) and cached.

peewee builds every query from an expression tree; for the handful of inserts each case intake
and task completion makes, that tree walk costs more than SQLite's own work. These helpers keep
peewee's field conversion (``db_value``) and its database (connection, transaction) but skip
the tree. ``insert``/``insert_many`` are for plain inserts of whole rows; :class:`Prepared`
for the fixed-shape selects, updates and deletes of the hot path; everything else goes through
peewee.
"""
from __future__ import annotations

import datetime as dt
import json
import threading
from functools import lru_cache

import peewee

from .db import database, defer, is_postgres

_lock = threading.Lock()

# A stand-in for a time parameter of a prepared statement (any valid value would do).
STAND_IN_TIME = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)


@lru_cache(maxsize=256)
def _statement(table: str, columns: tuple[str, ...], rows: int, postgres: bool, returning: bool,
               ignore_conflicts: bool = False):
    param = "%s" if postgres else "?"
    one = "(" + ", ".join([param] * len(columns)) + ")"
    names = ", ".join(f'"{c}"' for c in columns)
    # As peewee's ``on_conflict_ignore``: a row that would break a unique key is left out.
    verb = "INSERT OR IGNORE" if ignore_conflicts and not postgres else "INSERT"
    # Table and column names come from our models; every value is a bound parameter.
    sql = f'{verb} INTO "{table}" ({names}) VALUES ' + ", ".join([one] * rows)  # nosec B608
    if ignore_conflicts and postgres:
        sql += " ON CONFLICT DO NOTHING"
    return sql + (' RETURNING "id"' if returning else "")


class Encoded:
    """A column value already in its stored form (say, JSON text encoded once for a hash and
    the row): :func:`insert` and :func:`insert_many` store it as it is."""
    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text


def _prepare(model, values: dict) -> tuple[tuple[str, ...], list]:
    fields = model._meta.fields
    for name, field in fields.items():
        if name not in values and field.default is not None:
            default = field.default
            values[name] = default() if callable(default) else default
    columns, params = [], []
    for name, value in values.items():
        field = fields[name]
        if hasattr(value, "_pk"):              # a model instance given for a foreign key
            value = value._pk
        columns.append(field.column_name)
        params.append(value.text if isinstance(value, Encoded) else field.db_value(value))
    return tuple(columns), params


def insert(model, **values) -> int:
    """Insert one row and return its id."""
    columns, params = _prepare(model, values)
    sql = _statement(model._meta.table_name, columns, 1, is_postgres(), True)
    return database.execute_sql(sql, params).fetchone()[0]


def insert_many(model, rows: list[dict], *, deferred: bool = False,
                ignore_conflicts: bool = False) -> None:
    """Insert rows that all name the same columns, in one statement; ``deferred``: with the
    transaction's next statement on PostgreSQL (:func:`~service.store.db.defer`);
    ``ignore_conflicts``: a row that would break a unique key is left out."""
    if not rows:
        return
    prepared = [_prepare(model, dict(r)) for r in rows]
    columns = prepared[0][0]
    if any(c != columns for c, _ in prepared):
        raise ValueError("insert_many needs the same columns in every row")
    params = [p for _, row in prepared for p in row]
    sql = _statement(model._meta.table_name, columns, len(rows), is_postgres(), False,
                     ignore_conflicts)
    if deferred:
        defer(sql, params)
    else:
        database.execute_sql(sql, params)


class Prepared:
    """A statement whose SQL text is built once and run with new parameters each time.

    ``build(*placeholders)`` returns the peewee query (a select, update or delete); it is
    called once per database kind with stand-in values, and the stand-ins are replaced by the
    real parameters, in the same order, at each call. peewee turns selected rows into models
    (joins included) as it would for the query itself. For fixed-shape statements on the hot
    path only: the parameters must be exactly the query's parameters, in order.

    ``fields`` names, per parameter, the field whose ``db_value`` converts it (``None``: taken
    as is), so a datetime or JSON value is stored as peewee would store it; the stand-ins are
    checked through the same conversion.
    """

    def __init__(self, build, *placeholders, fields: tuple | None = None):
        self.build, self.placeholders = build, placeholders
        self.fields = fields
        if fields is not None and len(fields) != len(placeholders):
            raise ValueError("a prepared statement needs one field (or None) per parameter")
        self._compiled: dict = {}

    def _convert(self, params) -> list:
        if self.fields is None:
            return list(params)
        return [value if f is None else f.db_value(value) for f, value in zip(self.fields, params)]

    def _query(self):
        key = (is_postgres(), id(database.obj))
        found = self._compiled.get(key)
        if found is None:
            query = self.build(*self.placeholders)
            sql, params = query.sql()
            if list(params) != self._convert(self.placeholders):
                raise ValueError("a prepared query's parameters must be its placeholders")
            found = self._compiled[key] = (query, sql)
        return found

    def first(self, *params):
        """The first selected row (a model, or what the query's row type gives), or None."""
        query, sql = self._query()
        cursor = database.execute_sql(sql, self._convert(params))
        return next(iter(query._get_cursor_wrapper(cursor)), None)

    def all(self, *params) -> list:
        """Every selected row."""
        query, sql = self._query()
        cursor = database.execute_sql(sql, self._convert(params))
        return list(query._get_cursor_wrapper(cursor))

    def execute(self, *params) -> int:
        """Run an update or delete; returns the number of rows it changed."""
        _, sql = self._query()
        return database.execute_sql(sql, self._convert(params)).rowcount

    def defer(self, *params) -> None:
        """:meth:`execute` with the transaction's next statement on PostgreSQL (its row count
        unread), now on SQLite: see :func:`~service.store.db.defer`."""
        _, sql = self._query()
        defer(sql, self._convert(params))

    def values_if_fewer(self, limit: int, *params) -> list | None:
        """The first column of the rows if there are fewer than ``limit`` of them, else None:
        first a count in SQL that stops at ``limit`` (a number crosses the wire, not the rows),
        then, only if under it, the values."""
        _, sql = self._query()
        params = self._convert(params)
        # ``sql`` is peewee's text with every value a bound parameter; ``limit`` is an int.
        counted = f"SELECT COUNT(*) FROM ({sql} LIMIT {int(limit)}) AS counted"  # nosec B608
        if database.execute_sql(counted, params).fetchone()[0] >= limit:
            return None
        return [row[0] for row in database.execute_sql(sql, params)]


def one_of(column, values):
    """``column IN values`` as one parameter whatever the number of values (a PostgreSQL array;
    a JSON list read by SQLite's ``json_each``): peewee builds a long IN list node by node, on
    every query it is part of."""
    values = list(values)
    if is_postgres():
        return column == peewee.fn.ANY(peewee.Value(values, unpack=False))
    return column.in_(peewee.SQL("(SELECT value FROM json_each(?))", [json.dumps(values)]))
