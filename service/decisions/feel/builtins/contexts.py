"""FEEL context built-ins: ``get value``, ``get entries``, ``context``, ``context put/merge``.

Contexts are dicts; every function returns a new dict so a context seen by one expression is
never changed under another.
"""
from __future__ import annotations

from .arguments import list_of, string
from .registry import FeelError, Mismatch, builtin


def _context(value, what="context") -> dict:
    if isinstance(value, dict):
        return value
    raise FeelError(f"{what} must be a context")


@builtin("get value", "m, key")
def get_value(m, key):
    return _context(m, "m").get(string(key, "key"))


@builtin("get entries", "m")
def get_entries(m):
    return [{"key": k, "value": v} for k, v in _context(m, "m").items()]


@builtin("context", "entries")
def context(entries):
    if isinstance(entries, dict):
        entries = [entries]
    result: dict = {}
    for entry in list_of(entries, "entries"):
        if not isinstance(entry, dict) or "key" not in entry or "value" not in entry:
            raise FeelError("each entry needs a key and a value")
        key = string(entry["key"], "key")
        if key in result:
            raise FeelError(f"duplicate key {key!r}")
        result[key] = entry["value"]
    return result


def _put(ctx: dict, keys: list, value) -> dict:
    result = dict(ctx)
    key = string(keys[0], "key")
    if len(keys) == 1:
        result[key] = value
        return result
    inner = result.get(key)
    if not isinstance(inner, dict):
        raise FeelError(f"entry {key!r} is not a context")
    result[key] = _put(inner, keys[1:], value)
    return result


@builtin("context put", "context, key, value")
def context_put(ctx, key, value):
    ctx = _context(ctx)
    if isinstance(key, list):
        raise Mismatch("key is a list: the keys overload applies")
    return _put(ctx, [string(key, "key")], value)


@builtin("context put", "context, keys, value")
def context_put_path(ctx, keys, value):
    ctx = _context(ctx)
    if not isinstance(keys, list) or not keys:
        raise FeelError("keys must be a non-empty list")
    return _put(ctx, keys, value)


@builtin("context merge", "contexts")
def context_merge(contexts):
    result: dict = {}
    for ctx in list_of(contexts, "contexts"):
        result.update(_context(ctx))
    return result
