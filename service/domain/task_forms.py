"""What a task completion may carry: the task's form as the schema a completion is checked by.

Two kinds of form reach the inbox (see ``service.engine.forms``):

* a **declared** form (Camunda ``formData``, an inline ``formJsonSchema``, a Camunda 8 form
  embedded in the file, the shipped retail forms): only its fields are accepted, whatever the
  form says about others (``additionalProperties`` forced to false), so a client can never set
  an amount, a score, a submitter or an approver through a form;
* a **generic** form (``"x-omniflow-form": "generic"``: a Camunda ``formKey``/``formRef`` or a
  Camunda 8 form kept outside the file, or no form at all): Camunda's tasklist accepts whatever
  variables the form sends, so we do too, typed as JSON types them, and the suggested fields
  keep their types. It stays bounded: at most :data:`MAX_FIELDS` variables, each named as a
  process variable can be (:data:`NAME`), nested at most :data:`MAX_DEPTH` deep, with at most
  :data:`MAX_VALUES` values and :data:`MAX_CHARS` characters of JSON in all, no number JSON
  cannot carry exactly.

Every refusal is a ``ValidationFailed`` naming the field at fault.
"""
from __future__ import annotations

import json
import math
import re

from ..errors import ValidationFailed
from . import casetypes

__all__ = ["MAX_CHARS", "MAX_DEPTH", "MAX_FIELDS", "MAX_VALUES", "NAME", "check", "is_generic"]

GENERIC = "generic"
MAX_FIELDS = 100
MAX_DEPTH = 5               # a list of objects holding a list is depth 3
MAX_VALUES = 5_000          # every value, nested ones included
MAX_CHARS = 256 * 1024      # the completion's JSON text
MAX_SAFE_INTEGER = 2**53 - 1
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")


def is_generic(form: dict | None) -> bool:
    return isinstance(form, dict) and form.get("x-omniflow-form") == GENERIC


def check(form: dict | None, data) -> None:
    """Raise ``ValidationFailed`` unless ``data`` may complete a task with ``form``."""
    if not isinstance(data, dict):
        raise ValidationFailed("data must be a JSON object", field="data")
    schema = dict(form or {"type": "object"})
    schema.setdefault("type", "object")
    schema.setdefault("properties", {})
    if is_generic(schema):
        _bounded(data)
        schema["additionalProperties"] = True
    else:
        schema["additionalProperties"] = False     # no mass assignment, whatever the form says
    casetypes.validate(schema, data, what="data")


def _bounded(data: dict) -> None:
    if len(data) > MAX_FIELDS:
        raise ValidationFailed(f"a form sends at most {MAX_FIELDS} variables; this one sent "
                               f"{len(data)}", field="data")
    for name in data:
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise ValidationFailed(f"{str(name)[:120]!r} is not a variable name (a letter or _ "
                                   "then letters, digits or _, at most 100 characters)",
                                   field=str(name)[:120])
    try:
        size = len(json.dumps(data, allow_nan=False))
    except ValueError as exc:
        raise ValidationFailed(f"data: {exc}", field="data") from exc
    if size > MAX_CHARS:
        raise ValidationFailed(f"the form's data is {size:,} characters of JSON; the limit is "
                               f"{MAX_CHARS:,}", field="data")
    counted = [0]
    for name, value in data.items():
        _walk(value, name, 1, counted)


def _walk(value, path: str, depth: int, counted: list) -> None:
    counted[0] += 1
    if counted[0] > MAX_VALUES:
        raise ValidationFailed(f"the form's data holds more than {MAX_VALUES:,} values",
                               field=path)
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValidationFailed(f"{path}: {value} is not a number JSON can carry", field=path)
        if abs(value) > MAX_SAFE_INTEGER and (isinstance(value, int) or value.is_integer()):
            raise ValidationFailed(f"{path}: {value} is larger than a number can be exactly "
                                   f"({MAX_SAFE_INTEGER:,})", field=path)
        return
    if depth >= MAX_DEPTH:
        raise ValidationFailed(f"{path}: nested more than {MAX_DEPTH} levels deep", field=path)
    if isinstance(value, dict):
        for key, item in value.items():
            _walk(item, f"{path}.{key}", depth + 1, counted)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, f"{path}.{index}", depth + 1, counted)
    else:
        raise ValidationFailed(f"{path}: not a JSON value", field=path)
