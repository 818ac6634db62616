"""Instance migration plans: which running instances of a process version can move to another
version, and why not (``engine.migration`` does the move itself).

A plan names the process, the source and target versions, an element mapping (an element the
mapping does not name maps to the same id in the target) and variables to set on the moved
instances. :func:`plan` checks it against both versions (4xx naming the element or field at
fault); :func:`blockers` says for one stored instance what stops it, without changing it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..engine.migration import check
from ..errors import ValidationFailed
from ..store import Definition, Instance
from . import definitions
from .instances import spec_for

MOVABLE = ("waiting",)          # instance statuses a migration moves
MAX_VARIABLES = 50


@dataclass(frozen=True)
class Plan:
    process: str
    source: Definition
    target: Definition
    mapping: dict = field(default_factory=dict)
    variables: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"process": self.process, "source_version": self.source.version,
                "target_version": self.target.version, "mapping": self.mapping,
                "variables": sorted(self.variables)}


def _elements(row: Definition) -> set[str]:
    spec = spec_for(row)
    names = set(spec.subprocess_specs)
    for s in (spec.spec, *spec.subprocess_specs.values()):
        names.update(getattr(t, "bpmn_id", None) for t in s.task_specs.values())
    names.discard(None)
    return names


def _version(process: str, value, name: str) -> Definition:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 2**31 - 1:
        raise ValidationFailed(f"{name} must be a version number", field=name)
    row = Definition.get_or_none(Definition.kind == "bpmn", Definition.key == process,
                                 Definition.version == value)
    if row is None:
        raise ValidationFailed(f"process {process!r} has no version {value}", field=name,
                               element=process)
    return row


def plan(process, source_version, target_version, mapping=None, variables=None) -> Plan:
    """A checked plan; 422 naming the field, and the element, when it does not fit."""
    if not isinstance(process, str) or not process:
        raise ValidationFailed("name the process (its key)", field="process")
    if definitions.latest("bpmn", process) is None:
        raise ValidationFailed(f"no deployed process {process!r}", field="process",
                               element=process)
    source = _version(process, source_version, "source_version")
    target = _version(process, target_version, "target_version")
    if source.id == target.id:
        raise ValidationFailed("the source and target versions are the same",
                               field="target_version", element=process)
    mapping = mapping or {}
    if not isinstance(mapping, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
        raise ValidationFailed("mapping is an object of source element id -> target element "
                               "id", field="mapping")
    before, after = _elements(source), _elements(target)
    for old, new in mapping.items():
        if old not in before:
            raise ValidationFailed(f"mapping names {old!r}, which version {source.version} of "
                                   f"{process} does not have", field="mapping", element=old)
        if new not in after:
            raise ValidationFailed(f"mapping maps {old!r} to {new!r}, which version "
                                   f"{target.version} of {process} does not have",
                                   field="mapping", element=new)
    variables = variables or {}
    if not isinstance(variables, dict) or len(variables) > MAX_VARIABLES:
        raise ValidationFailed(f"variables is an object of at most {MAX_VARIABLES} names",
                               field="variables")
    return Plan(process, source, target, dict(mapping), dict(variables))


def instances(p: Plan):
    """The instances of the source version a migration moves (a query, oldest first)."""
    return Instance.select(Instance.id).where((Instance.definition == p.source.id)
                                              & Instance.status.in_(MOVABLE))


def others(p: Plan) -> int:
    """Instances of the source version that are not moved (finished, failed)."""
    return Instance.select().where((Instance.definition == p.source.id)
                                   & ~Instance.status.in_(MOVABLE)).count()


def blockers(p: Plan, row: Instance, data: dict) -> list:
    """What stops ``row`` (``data``: its process data) from moving; empty when nothing."""
    return check(row.state, spec_for(p.target), p.mapping, {**data, **p.variables})


__all__ = ["MOVABLE", "Plan", "blockers", "instances", "others", "plan"]
