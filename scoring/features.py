"""Pick a model's features out of a case's data, as the case type declares.

A case type names its model and maps each feature to where the value lives in the case data::

    {"model": "escalation_risk",
     "features": {"order_value": "order.value", "channel": "order.channel",
                  "order_weekday": {"const": 2}, "margin": 0.3}}

A string is a dotted path into the case data; ``{"const": value}`` (or any non-string literal)
is a constant; ``{"path": "crm.contacts_90d", "default": 0}`` is a path with a value for when
the case data does not have it (say, a signal that carries no CRM history). A path without a
default that leads nowhere is a 422 naming the feature, so an intake with incomplete data fails
before any decision is taken on it.
"""
from __future__ import annotations

from typing import Any, Mapping

from service.errors import FeatureInvalid

_MISSING = object()


def _lookup(data: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(data, Mapping) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return _MISSING
    return data


def features_from_case(mapping: Mapping[str, Any], case_data: Mapping[str, Any]) -> dict:
    """Return feature name -> value for every entry of ``mapping``; a missing path is a 422."""
    values = {}
    for feature, source in mapping.items():
        if isinstance(source, Mapping) and "const" in source:
            values[feature] = source["const"]
        elif isinstance(source, (str, Mapping)):
            path = source if isinstance(source, str) else source.get("path")
            if not isinstance(path, str):
                raise FeatureInvalid(f"feature '{feature}': mapping {source!r} has no 'path', "
                                     f"'const' or dotted path", feature=feature)
            value = _lookup(case_data, path)
            if value is _MISSING or value is None:
                if isinstance(source, Mapping) and "default" in source:
                    value = source["default"]
                else:
                    raise FeatureInvalid(f"feature '{feature}' is missing: case data has no "
                                         f"'{path}'", feature=feature, path=path)
            values[feature] = value
        else:
            values[feature] = source
    return values
