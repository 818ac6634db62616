"""Hold a model's training history, read it from a retailer's CSV, write it back, hash it.

A :class:`Dataset` is column-oriented: one numpy array per feature (strings for categories), the
event time of each row (training splits by time, never at random, so the test split is the
future) and the 0/1 label. The CSV form has the columns ``at``, every feature of the model's
schema and ``label``; any column order, extra columns ignored.

The data hash recorded in a model's metadata is taken over the *encoded* rows in time order, so
the same history gives the same hash whether it came from the generator or from a CSV.
"""
from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from service.errors import FeatureInvalid, ValidationFailed

from .schema import BOOLEAN, CATEGORY, INTEGER, NUMBER, FeatureSchema

TIME, LABEL = "at", "label"


@dataclass(frozen=True)
class Dataset:
    """Rows of one model's history. ``oracle`` is the generator's true probability, if known."""

    model: str
    at: np.ndarray                      # datetime64[s]
    columns: dict                       # feature name -> np.ndarray
    label: np.ndarray                   # int8, 0/1
    source: str = ""
    oracle: np.ndarray | None = None    # never a feature: only tests and reports read it

    def __len__(self) -> int:
        return len(self.label)

    def take(self, index: np.ndarray) -> "Dataset":
        return replace(self, at=self.at[index], label=self.label[index],
                       columns={k: v[index] for k, v in self.columns.items()},
                       oracle=None if self.oracle is None else self.oracle[index])

    def in_time_order(self) -> "Dataset":
        return self.take(np.argsort(self.at, kind="stable"))

    def sha256(self, schema: FeatureSchema) -> str:
        ordered = self.in_time_order()
        digest = hashlib.sha256()
        digest.update(",".join(schema.names).encode())
        digest.update(ordered.at.astype("datetime64[s]").astype(np.int64).tobytes())
        digest.update(np.ascontiguousarray(schema.matrix(ordered.columns)).tobytes())
        digest.update(ordered.label.astype(np.int8).tobytes())
        return digest.hexdigest()

    def write_csv(self, path: str | Path, schema: FeatureSchema) -> None:
        with open(path, "w", newline="") as fh:
            out = csv.writer(fh)
            out.writerow([TIME, *schema.names, LABEL])
            cols = [self.columns[n] for n in schema.names]
            for i in range(len(self)):
                row = [str(self.at[i].astype("datetime64[s]"))]
                for f, col in zip(schema.features, cols):
                    v = col[i]
                    if f.type == BOOLEAN:
                        row.append("true" if v else "false")
                    elif f.type == INTEGER:
                        row.append(str(int(v)))
                    elif f.type == NUMBER:
                        row.append(repr(float(v)))
                    else:
                        row.append(str(v))
                row.append(str(int(self.label[i])))
                out.writerow(row)


def _parse(ftype: str, text: str):
    text = text.strip()
    if ftype == NUMBER:
        return float(text)
    if ftype == INTEGER:
        value = float(text)
        if value != int(value):
            raise ValueError("not an integer")
        return int(value)
    if ftype == BOOLEAN:
        lowered = text.lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no"):
            return False
        raise ValueError("not a boolean")
    return text


def read_csv(path: str | Path, model: str, schema: FeatureSchema) -> Dataset:
    """Read and check a retailer's history; a bad cell fails naming its column and row.

    Rows are numbered as a spreadsheet shows them: the header is row 1.
    """
    path = Path(path)
    try:
        fh = open(path, newline="")
    except OSError as exc:
        raise ValidationFailed(f"cannot read {path}: {exc.strerror}", file=str(path)) from exc
    with fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        for name in (TIME, *schema.names, LABEL):
            if name not in header:
                raise ValidationFailed(f"{path.name}: column '{name}' is missing from the header",
                                       column=name, row=1)
        times, labels = [], []
        values: dict[str, list] = {n: [] for n in schema.names}
        for rowno, row in enumerate(reader, start=2):
            def fail(column, why):
                raise ValidationFailed(f"{path.name}: column '{column}', row {rowno}: {why}",
                                       column=column, row=rowno)
            try:
                times.append(np.datetime64(row[TIME].strip(), "s"))
            except (ValueError, AttributeError):
                fail(TIME, f"expected an ISO date or time, got {row[TIME]!r}")
            label = (row[LABEL] or "").strip()
            if label not in ("0", "1"):
                fail(LABEL, f"expected 0 or 1, got {row[LABEL]!r}")
            labels.append(int(label))
            for f in schema.features:
                raw = row[f.name]
                if raw is None or raw.strip() == "":
                    fail(f.name, "value is empty")
                try:
                    value = _parse(f.type, raw)
                except ValueError:
                    fail(f.name, f"expected {'an' if f.type == INTEGER else 'a'} {f.type}, "
                                 f"got {raw!r}")
                try:
                    values[f.name].append(f.check(value))
                except FeatureInvalid as exc:
                    fail(f.name, exc.detail)
    if not labels:
        raise ValidationFailed(f"{path.name}: no data rows", file=str(path))
    columns = {}
    for f in schema.features:
        if f.type == CATEGORY:
            columns[f.name] = np.array(values[f.name], dtype=object)
        elif f.type == BOOLEAN:
            columns[f.name] = np.array(values[f.name], dtype=bool)
        else:
            columns[f.name] = np.array(values[f.name], dtype=np.float64)
    return Dataset(model=model, at=np.array(times, dtype="datetime64[s]"), columns=columns,
                   label=np.array(labels, dtype=np.int8), source=f"csv:{path.name}")
