"""Compiled envelope checks: the fast path of validation, derived from the marshmallow schemas.

marshmallow stays the schema of record (the API docs and every error message come from it), but
its ``load`` of an envelope and its data costs about 45 µs per signal, as much as storing it.
So each schema is compiled once into a plain function that accepts only the common, clearly
valid shapes (a JSON string where a string is declared, a JSON number for a float, an ISO text
for a datetime) and returns exactly what ``schema.load`` would return for them. Anything else,
valid or not (a number sent as text, a null, a missing required field, a failed validator),
makes the function decline with ``None`` and the caller runs marshmallow, which produces the
result or the error. The fast path can therefore never accept what marshmallow rejects, nor
word an error differently; ``tests/signals/test_checks.py`` compares the two on many inputs.

The validators themselves (``Length``, ``OneOf``, ``Range``, ``@validates_schema`` methods) are
the schema's own objects, called as marshmallow calls them. A schema using anything this module
does not know (another field class, a default, a hook) gets no fast path at all.
"""
from __future__ import annotations

import datetime as dt
import math

from marshmallow import EXCLUDE, INCLUDE, RAISE, Schema, ValidationError, fields
from marshmallow.utils import is_aware, missing

_DECLINE = object()


def _string(field):
    def load(value):
        return value if type(value) is str else _DECLINE
    return load


def _float(field):
    check_special = field.allow_nan is False

    def load(value):
        kind = type(value)
        if kind is not float and kind is not int:
            return _DECLINE           # bools, numeric text: marshmallow decides
        try:
            number = float(value)
        except OverflowError:
            return _DECLINE
        if check_special and (math.isnan(number) or math.isinf(number)):
            return _DECLINE
        return number
    return load


def _datetime(field):
    zone = field.default_timezone

    def load(value):
        if type(value) is not str:
            return _DECLINE
        try:
            moment = dt.datetime.fromisoformat(value)   # what marshmallow's "iso" format uses
        except ValueError:
            return _DECLINE
        if not is_aware(moment):
            if zone is None:
                return _DECLINE
            moment = moment.replace(tzinfo=zone)
        return moment
    return load


def _string_list(field):
    inner = field.inner
    inner_validators = list(inner.validators)

    def load(value):
        if type(value) is not list:
            return _DECLINE
        for item in value:
            if type(item) is not str:
                return _DECLINE
            for validator in inner_validators:
                validator(item)
        return list(value)
    return load


def _mapping(field):
    def load(value):
        return value if type(value) is dict else _DECLINE
    return load


def _loader(field):
    """The fast loader of one field, or None when this module does not know its class."""
    kind = type(field)
    if kind is fields.String:
        return _string(field)
    if kind is fields.Float and not field.as_string:
        return _float(field)
    if kind is fields.AwareDateTime and field.format in (None, "iso"):
        return _datetime(field)
    if kind is fields.List and _plain(field.inner) and type(field.inner) is fields.String:
        return _string_list(field)
    if kind is fields.Dict and field.key_field is None and field.value_field is None:
        return _mapping(field)
    return None


def _plain(field) -> bool:
    """No defaults, renames or nulls: what a field reads is what it returns, under its name."""
    return (field.load_default is missing and field.data_key is None and field.attribute is None
            and not field.allow_none and not field.dump_only)


def compile_schema(schema: Schema):
    """A function ``item -> loaded dict | None`` (None: run ``schema.load``), or None."""
    hooks = schema._hooks
    if any(hooks.get(tag) for tag in ("pre_load", "post_load", "validates")):
        return None
    schema_checks = []
    for attr_name, many, kwargs in hooks.get("validates_schema", []):
        if many or kwargs.get("pass_original"):
            return None
        schema_checks.append(getattr(schema, attr_name))
    unknown = schema.opts.unknown
    if unknown not in (INCLUDE, RAISE, EXCLUDE):
        return None
    plan = []
    for name, field in schema.fields.items():
        loader = _loader(field)
        if loader is None or not _plain(field):
            return None
        plan.append((name, loader, tuple(field.validators), field.required))
    declared = frozenset(schema.fields)

    def load(item: dict):
        out = {}
        try:
            for name, loader, validators, required in plan:
                if name not in item:
                    if required:
                        return None
                    continue
                value = loader(item[name])
                if value is _DECLINE:
                    return None
                for validator in validators:
                    validator(value)
                out[name] = value
            if len(item) > len(out):
                extra = [k for k in item if k not in declared]
                if extra:
                    if unknown == RAISE:
                        return None
                    if unknown == INCLUDE:
                        for k in extra:
                            out[k] = item[k]
            for check in schema_checks:
                check(out)
        except ValidationError:
            return None
        return out

    return load
