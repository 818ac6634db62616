"""DMN decision models on our own FEEL: parse once, evaluate fast, explain what matched.

Pure Python: no Flask, no database, nothing else of Omniflow but the ``feel`` subpackage.

    model = DecisionModel.parse(xml_text)            # DmnError names the element at fault
    result = model.evaluate("exception_routing", {"reason": "damaged", "value": 80, ...})
    result.value, result.matched_rules, result.warnings
"""
from __future__ import annotations

from .decision_table import RuleRef
from .document import DEFAULT_MAX_BYTES, DMN_NAMESPACES
from .errors import DecisionNotFound, DmnError
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
    "RuleRef",
]
