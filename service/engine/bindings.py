"""Connector bindings: what runs a Camunda ``camunda:class`` or ``delegateExpression`` task.

A Camunda 7 file names Java code (``camunda:class="org.acme.ArchiveInvoiceService"``,
``camunda:delegateExpression="${archiveService}"``) that we do not have. Rather than edit the
analyst's file, a configuration file beside it says what runs each one: a connector of the
service (called through the ConnectorPort) or an external task topic that a worker serves::

    invoice.v2.bindings.json   (beside invoice.v2.bpmn)
    {"bindings": {
        "org.camunda.bpm.example.invoice.service.ArchiveInvoiceService": {"connector": "archive.invoice"},
        "${archiveService}": {"topic": "archive"},
        "ServiceTask_1": "archive.invoice"
    }}

Keys are an element id, a class name or a delegate expression as written; a string value names
a connector. An element id wins over its class or expression. A task with a class or delegate
expression and no binding is refused at deploy, naming the element.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

__all__ = ["BINDINGS_SUFFIX", "Binding", "BindingsInvalid", "bindings_file_for", "pair_bindings",
           "parse_bindings", "resolve"]

BINDINGS_SUFFIX = ".bindings.json"
MAX_BINDINGS_BYTES = 256 * 1024


class BindingsInvalid(ValueError):
    """A bindings document that cannot be read; the message names the file and entry."""


@dataclass(frozen=True)
class Binding:
    """A connector name or an external task topic (exactly one)."""

    connector: str | None = None
    topic: str | None = None

    def as_dict(self) -> dict:
        return {"connector": self.connector} if self.connector else {"topic": self.topic}


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _binding(file: str, key: str, value: Any) -> Binding:
    if isinstance(value, str) and value.strip():
        return Binding(connector=value.strip())
    if isinstance(value, dict) and len(value) == 1:
        (kind, name), = value.items()
        if kind in ("connector", "topic") and isinstance(name, str) and name.strip():
            return Binding(**{kind: name.strip()})
    raise BindingsInvalid(f"{file}: binding {key!r} must be a connector name or "
                          "{\"connector\": name} or {\"topic\": name}")


def parse_bindings(file: str, content: bytes | str | Mapping) -> dict[str, Binding]:
    """Read a bindings document (bytes, text or an already parsed dict)."""
    if isinstance(content, Mapping):
        doc = content
    else:
        if len(content) > MAX_BINDINGS_BYTES:
            raise BindingsInvalid(f"{file}: {len(content)} bytes; the limit is {MAX_BINDINGS_BYTES}")
        try:
            doc = json.loads(content, parse_constant=_reject_constant)
        except (ValueError, RecursionError) as exc:
            raise BindingsInvalid(f"{file}: not valid JSON: {exc}") from exc
    if not isinstance(doc, Mapping) or not isinstance(doc.get("bindings"), Mapping):
        raise BindingsInvalid(f"{file}: expected an object {{\"bindings\": {{...}}}}")
    return {str(key): _binding(file, str(key), value) for key, value in doc["bindings"].items()}


def bindings_file_for(bpmn_file: str) -> str:
    """The name of the bindings file that belongs beside ``bpmn_file``."""
    stem = bpmn_file
    for suffix in (".bpmn20.xml", ".bpmn"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    return stem + BINDINGS_SUFFIX


def pair_bindings(files: Mapping[str, Any]) -> dict[str, Any]:
    """Map each BPMN file of a deployment to the bindings file beside it (when there is one)."""
    return {name: files[bindings_file_for(name)] for name in files
            if not name.endswith(BINDINGS_SUFFIX) and bindings_file_for(name) in files}


def resolve(bindings: Mapping[str, Binding], element_id: str, *refs: str | None) -> Binding | None:
    """The binding for an element: by its id first, then by each of ``refs`` (class, expression)."""
    if element_id in bindings:
        return bindings[element_id]
    for ref in refs:
        if ref and ref in bindings:
            return bindings[ref]
    return None
