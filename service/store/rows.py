"""Fast inserts for the hot path: the SQL text is built once per (table, columns) and cached.

peewee builds every query from an expression tree; for the handful of inserts each case intake
and task completion makes, that tree walk costs more than SQLite's own work. These helpers keep
peewee's field conversion (``db_value``) and its database (connection, transaction) but skip
the tree. Use them only for plain inserts of whole rows; everything else goes through peewee.
"""
from __future__ import annotations

import threading
from functools import lru_cache

from .db import database, is_postgres

_lock = threading.Lock()


@lru_cache(maxsize=256)
def _statement(table: str, columns: tuple[str, ...], rows: int, postgres: bool, returning: bool):
    param = "%s" if postgres else "?"
    one = "(" + ", ".join([param] * len(columns)) + ")"
    names = ", ".join(f'"{c}"' for c in columns)
    # Table and column names come from our models; every value is a bound parameter.
    sql = f'INSERT INTO "{table}" ({names}) VALUES ' + ", ".join([one] * rows)  # nosec B608
    return sql + (' RETURNING "id"' if returning else "")


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
        params.append(field.db_value(value))
    return tuple(columns), params


def insert(model, **values) -> int:
    """Insert one row and return its id."""
    columns, params = _prepare(model, values)
    sql = _statement(model._meta.table_name, columns, 1, is_postgres(), True)
    return database.execute_sql(sql, params).fetchone()[0]


def insert_many(model, rows: list[dict]) -> None:
    """Insert rows that all name the same columns, in one statement."""
    if not rows:
        return
    prepared = [_prepare(model, dict(r)) for r in rows]
    columns = prepared[0][0]
    if any(c != columns for c, _ in prepared):
        raise ValueError("insert_many needs the same columns in every row")
    params = [p for _, row in prepared for p in row]
    sql = _statement(model._meta.table_name, columns, len(rows), is_postgres(), False)
    database.execute_sql(sql, params)


class Prepared:
    """A select whose SQL text is built once and run with new parameters each time.

    ``build(*placeholders)`` returns the peewee query; it is called once per database kind with
    stand-in values, and the stand-ins are replaced by the real parameters, in the same order,
    at each call. peewee turns the rows into models (joins included) as it would for the query
    itself. For fixed-shape lookups on the hot path only: the parameters must be exactly the
    query's parameters, in order.
    """

    def __init__(self, build, *placeholders):
        self.build, self.placeholders = build, placeholders
        self._compiled: dict = {}

    def _query(self):
        key = (is_postgres(), id(database.obj))
        found = self._compiled.get(key)
        if found is None:
            query = self.build(*self.placeholders)
            sql, params = query.sql()
            if list(params) != list(self.placeholders):
                raise ValueError("a prepared query's parameters must be its placeholders")
            found = self._compiled[key] = (query, sql)
        return found

    def first(self, *params):
        query, sql = self._query()
        cursor = database.execute_sql(sql, list(params))
        return next(iter(query._get_cursor_wrapper(cursor)), None)
