"""The modeler dialects we read: their namespaces and what each says about an element.

* Camunda 7 (``camunda:`` attributes and extension elements, JUEL ``${...}``): ``camunda7``.
  Operaton, Flowable and Activiti write the same attributes under their own namespace
  (Camunda 7 forked from Activiti; Operaton forked from Camunda 7), so :func:`normalize` reads
  those namespaces as Camunda 7's, in memory; the stored file is never changed.
* Camunda 8 / Zeebe (``zeebe:`` extension elements, FEEL ``=...``): ``camunda8``.
* SpiffWorkflow's editor (``spiffworkflow:``): read by SpiffWorkflow's own parser.

Readers are pure functions over lxml elements; a model they cannot run raises
:class:`ModelError` with the node at fault, which the parsers turn into a deploy error naming
the element and line.
"""
from __future__ import annotations

import copy
from typing import Any

from lxml import etree

__all__ = ["ALIASES", "CAMUNDA_NS", "ModelError", "NSMAP", "ZEEBE_NS", "is_camunda8", "normalize"]

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
ZEEBE_NS = "http://camunda.org/schema/zeebe/1.0"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
MODELER_NS = "http://camunda.org/schema/modeler/1.0"
#: Extension namespaces that use Camunda 7's attribute and element names.
ALIASES = ("http://operaton.org/schema/1.0/bpmn", "http://flowable.org/bpmn",
           "http://activiti.org/bpmn")
NSMAP = {"bpmn": BPMN_NS, "camunda": CAMUNDA_NS, "zeebe": ZEEBE_NS, "spiffworkflow": SPIFF_NS,
         "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
         "dc": "http://www.omg.org/spec/DD/20100524/DC"}


class ModelError(ValueError):
    """Something in the model we cannot run; ``node`` is the element at fault (or None)."""

    def __init__(self, message: str, node: Any = None):
        super().__init__(message)
        self.node = node


def _renamed(name: str) -> str | None:
    for alias in ALIASES:
        prefix = "{" + alias + "}"
        if name.startswith(prefix):
            return "{" + CAMUNDA_NS + "}" + name[len(prefix):]
    return None


def normalize(root: etree._Element) -> etree._Element:
    """Return ``root`` with Operaton/Flowable/Activiti names read as Camunda 7's.

    The tree is copied only when an alias namespace is used; source lines are kept (lxml copies
    ``sourceline``), so errors still point into the analyst's file.
    """
    uses_alias = any(alias in (root.nsmap or {}).values() for alias in ALIASES) or any(
        isinstance(n.tag, str) and _renamed(n.tag) for n in root.iter())
    if not uses_alias:
        return root
    root = copy.deepcopy(root)     # keeps sourceline, unlike a serialize-and-parse round trip
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        tag = _renamed(node.tag)
        if tag:
            node.tag = tag
        for name in list(node.attrib):
            renamed = _renamed(name)
            if renamed and renamed not in node.attrib:
                node.attrib[renamed] = node.attrib.pop(name)
    return root


def is_camunda8(root: etree._Element) -> bool:
    """Whether a file was drawn for Camunda 8 (Zeebe): its conditions and mappings are FEEL."""
    platform = root.get("{%s}executionPlatform" % MODELER_NS) or ""
    if platform.lower().startswith("camunda cloud"):
        return True
    return any(isinstance(n.tag, str) and n.tag.startswith("{" + ZEEBE_NS + "}") for n in root.iter())
