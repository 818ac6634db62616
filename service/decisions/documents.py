"""Parse the DMN documents of one deployment together, resolving imports among them.

A DMN model may import another by its namespace (``<import namespace="..." name="..."/>``) and
use its decisions, BKMs and types as ``name.element``. The service deploys several files at
once; :func:`parse_documents` loads each once, finds every import among the documents given
(never on disk or the network), and builds one :class:`DecisionModel` per document:

    models = parse_documents({"pricing.dmn": xml_a, "discounts.dmn": xml_b})
    models["pricing.dmn"].evaluate("Price", {...})

Every ``DmnError`` raised names the file it is about (``error.file``). Two documents with one
namespace are refused, since an import could not tell them apart.
"""
from __future__ import annotations

from typing import Mapping

from .document import DEFAULT_MAX_BYTES, load_xml
from .errors import DmnError
from .model import DecisionModel


def parse_documents(documents: Mapping[str, str | bytes], *,
                    max_bytes: int = DEFAULT_MAX_BYTES) -> dict[str, DecisionModel]:
    """Return a model per document name, imports resolved within ``documents``.

    Raises ``DmnError`` (with ``file`` set) for the first document that is not valid DMN, for
    an import whose namespace no document defines, and for two documents sharing a namespace.
    Parsing is strict, as a deployment must be: anything that does not compile is refused.
    """
    roots = {}
    owner_of: dict[str, str] = {}
    for name, text in documents.items():
        try:
            root = load_xml(text, max_bytes=max_bytes)
        except DmnError as exc:
            raise exc.in_file(name) from exc
        namespace = root.get("namespace") or root.get("id") or ""
        if namespace in owner_of:
            raise DmnError(f"documents {owner_of[namespace]!r} and {name!r} both define "
                           f"namespace {namespace!r}", element_id=root.get("id"),
                           line=root.sourceline, file=name)
        owner_of[namespace] = name
        roots[name] = root
    models = {}
    for name, root in roots.items():
        others = [r for other, r in roots.items() if other != name]
        try:
            models[name] = DecisionModel.from_roots(root, others, strict=True)
        except DmnError as exc:
            raise exc.in_file(name) from exc
    return models
