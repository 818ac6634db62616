"""DMN decision models on our own FEEL: parse once, evaluate fast, explain what matched.

Pure Python: no Flask, no database, nothing of Omniflow but ``service.sandbox``.

    model = DecisionModel.parse(xml_text)            # DmnError names the element at fault
    result = model.evaluate("exception_routing", {"reason": "damaged", "value": 80, ...})
    result.value, result.matched_rules, result.warnings

Errors a caller translates (see ``errors``): ``DmnError`` at parse (the content is invalid:
422 at deploy), ``DecisionNotFound`` for an unknown decision name, and from ``evaluate`` and
``decision_service`` ``service.sandbox.BudgetExceeded`` (a ``RuntimeError``, not a
``DmnError``): the content is valid but went beyond its resource budget (CPU time, steps, list
or string size, a regular expression that would not finish). Evaluation runs inside the
caller's ``service.sandbox.bounded`` block, else in one with the default limits; the service
maps ``BudgetExceeded`` to a 422 from the evaluate API and to an incident in a business rule
task, and never to a null result.
"""
from __future__ import annotations

from .decision_table import RuleRef
from .document import DEFAULT_MAX_BYTES, DMN_NAMESPACES
from .documents import parse_documents
from .errors import DecisionNotFound, DmnError, NameNotProvided
from .model import DecisionInfo, DecisionModel
from .result import DecisionResult

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DMN_NAMESPACES",
    "DecisionInfo",
    "DecisionModel",
    "DecisionNotFound",
    "DecisionResult",
    "DmnError",
    "NameNotProvided",
    "RuleRef",
    "parse_documents",
]
