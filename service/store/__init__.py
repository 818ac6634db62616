"""Storage: the peewee database, the tables and the migrations.

A module that needs the database takes it from here and never opens its own connection.
"""
from .db import atomic, bind, database, for_update, for_update_skip_locked, is_postgres, joined
from .fields import JSONField, dumps, iso, to_jsonable, utcnow
from .migrations import current_version, migrate
from . import idempotency, jobs, paging, rows
from .tables import *  # noqa: F401,F403  (the table classes are the store's vocabulary)

__all__ = ["atomic", "joined", "bind", "database", "for_update", "for_update_skip_locked", "is_postgres",
           "JSONField", "dumps", "iso", "to_jsonable", "utcnow", "current_version", "migrate", "idempotency", "jobs", "paging", "rows"]
