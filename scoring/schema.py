"""Declare the features a model takes, and check values against that declaration.

A model's feature schema is the contract between the case data and the booster: every feature has
a name, a type, a unit, an allowed range (numbers) or a closed list of levels (categories). The
schema's order *is* the booster's column order; callers hand values over by name and the schema
builds the vector, so a caller can never feed columns in the wrong order.

Categories are encoded as the index of their level in the declared tuple, booleans as 0/1. The
encoding is therefore part of the schema: adding or reordering levels makes a new schema, and an
artifact trained on the old one refuses the new (see :meth:`FeatureSchema.require_names`).

Every rejection raises :class:`service.errors.FeatureInvalid` naming the feature, which the API
renders as a 422 problem.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import numpy as np

from service.errors import FeatureInvalid

NUMBER, INTEGER, BOOLEAN, CATEGORY = "number", "integer", "boolean", "category"
TYPES = (NUMBER, INTEGER, BOOLEAN, CATEGORY)


@dataclass(frozen=True)
class Feature:
    """One model input: what it is, in which unit, and which values are admissible."""

    name: str
    type: str
    unit: str = ""
    min: float | None = None
    max: float | None = None
    levels: tuple[str, ...] = ()
    description: str = ""

    def __post_init__(self):
        if self.type not in TYPES:
            raise ValueError(f"feature {self.name!r}: unknown type {self.type!r}")
        if self.type == CATEGORY and not self.levels:
            raise ValueError(f"feature {self.name!r}: a category needs levels")

    def check(self, value: Any) -> Any:
        """Return ``value`` normalised for this feature, or raise FeatureInvalid naming it."""
        if value is None:
            raise FeatureInvalid(f"feature '{self.name}' is missing", feature=self.name)
        if self.type == CATEGORY:
            if not isinstance(value, str) or value not in self.levels:
                raise FeatureInvalid(
                    f"feature '{self.name}' must be one of {list(self.levels)}, got {value!r}",
                    feature=self.name)
            return value
        if self.type == BOOLEAN:
            if not isinstance(value, bool):
                raise FeatureInvalid(f"feature '{self.name}' must be true or false, got {value!r}",
                                     feature=self.name)
            return value
        # bool is an int in Python; a boolean where a number is expected is a caller error.
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise FeatureInvalid(f"feature '{self.name}' must be a {self.type}, got {value!r}",
                                 feature=self.name)
        if not math.isfinite(value):
            raise FeatureInvalid(f"feature '{self.name}' must be finite, got {value!r}",
                                 feature=self.name)
        if self.type == INTEGER and value != int(value):
            raise FeatureInvalid(f"feature '{self.name}' must be an integer, got {value!r}",
                                 feature=self.name)
        below = self.min is not None and value < self.min
        if below or (self.max is not None and value > self.max):
            raise FeatureInvalid(
                f"feature '{self.name}' = {value!r} is outside [{self.min}, {self.max}]"
                f"{' ' + self.unit if self.unit else ''}", feature=self.name)
        return value

    def encode(self, value: Any) -> float:
        """Map an already checked value to the float the booster sees."""
        if self.type == CATEGORY:
            return float(self.levels.index(value))
        if self.type == BOOLEAN:
            return 1.0 if value else 0.0
        return float(value)

    def decode(self, code: float) -> Any:
        """Inverse of :meth:`encode`, for showing stored vectors to people."""
        if self.type == CATEGORY:
            return self.levels[int(code)]
        if self.type == BOOLEAN:
            return bool(code)
        return int(code) if self.type == INTEGER else float(code)

    def to_json(self) -> dict:
        return {"name": self.name, "type": self.type, "unit": self.unit, "min": self.min,
                "max": self.max, "levels": list(self.levels) if self.levels else None,
                "description": self.description}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> "Feature":
        return cls(name=doc["name"], type=doc["type"], unit=doc.get("unit") or "",
                   min=doc.get("min"), max=doc.get("max"), levels=tuple(doc.get("levels") or ()),
                   description=doc.get("description") or "")


@dataclass(frozen=True)
class FeatureSchema:
    """The ordered features of one model. The order is the booster's column order."""

    features: tuple[Feature, ...]
    _index: dict = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self):
        names = [f.name for f in self.features]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate feature names in {names}")
        object.__setattr__(self, "_index", {f.name: f for f in self.features})

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)

    def __getitem__(self, name: str) -> Feature:
        return self._index[name]

    def __len__(self) -> int:
        return len(self.features)

    def validate(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Check a name -> value mapping: every feature present, in range, nothing unknown.

        Missing features are reported before unknown ones, in schema order, so the message
        names the first feature a person would look for.
        """
        if not isinstance(values, Mapping):
            raise FeatureInvalid("features must be an object of name -> value")
        checked = {f.name: f.check(values.get(f.name)) for f in self.features}
        for name in values:
            if name not in self._index:
                raise FeatureInvalid(f"feature '{name}' is not an input of this model",
                                     feature=name)
        return checked

    def vector(self, values: Mapping[str, Any]) -> np.ndarray:
        """Validate ``values`` and build a (1, n) float32 row in the schema's order."""
        checked = self.validate(values)
        return np.array([[f.encode(checked[f.name]) for f in self.features]], dtype=np.float32)

    def matrix(self, columns: Mapping[str, Iterable[Any]]) -> np.ndarray:
        """Build an (n_rows, n_features) float32 matrix from columns looked up by name.

        Columns are assumed already checked (the generator and the CSV reader check them); a
        missing column is still refused here, naming it.
        """
        for f in self.features:
            if f.name not in columns:
                raise FeatureInvalid(f"column '{f.name}' is missing", feature=f.name)
        cols = []
        for f in self.features:
            col = np.asarray(columns[f.name])
            if f.type == CATEGORY:
                lookup = {level: i for i, level in enumerate(f.levels)}
                col = np.fromiter((lookup[v] for v in col), dtype=np.float32, count=len(col))
            cols.append(col.astype(np.float32))
        return np.column_stack(cols) if cols else np.empty((0, 0), dtype=np.float32)

    def require_names(self, names: Iterable[str] | None) -> None:
        """Refuse a column list that differs from the schema in names *or order*.

        Used when a booster or a matrix arrives with its own column names: trusting its order
        would silently feed one feature's values to another.
        """
        got = tuple(names or ())
        if got == self.names:
            return
        for i, name in enumerate(self.names):
            if i >= len(got) or got[i] != name:
                found = got[i] if i < len(got) else None
                raise FeatureInvalid(
                    f"feature '{name}' expected at position {i}, found {found!r}", feature=name)
        raise FeatureInvalid(f"feature '{got[len(self.names)]}' is not an input of this model",
                             feature=got[len(self.names)])

    def to_json(self) -> list[dict]:
        return [f.to_json() for f in self.features]

    @classmethod
    def from_json(cls, doc: Iterable[Mapping[str, Any]]) -> "FeatureSchema":
        return cls(tuple(Feature.from_json(d) for d in doc))
