"""Errors raised by the DMN engine.

``service.decisions`` imports nothing of Omniflow but ``service.sandbox``, so its errors derive
from ``ValueError``; the adapter that deploys DMN content translates them into
``DefinitionInvalid`` once.

    ValueError
    └── DmnError                 the model is not valid DMN (names the element, line and detail)
        └── DecisionNotFound     evaluate()/decision_service() was asked for an unknown name

Evaluation also lets ``service.sandbox.BudgetExceeded`` (a ``RuntimeError``) through: the
model is valid, this evaluation went beyond its budget. Callers map it to 422 / an incident.
"""
from __future__ import annotations


class DmnError(ValueError):
    """Reject a DMN document, naming the element at fault.

    ``element_id`` is the id (or, failing that, the name) of the offending element, ``line`` its
    source line when known, ``detail`` the human explanation without the location prefix.
    """

    def __init__(self, detail: str, *, element_id: str | None = None, line: int | None = None):
        where = []
        if element_id:
            where.append(f"element {element_id!r}")
        if line:
            where.append(f"line {line}")
        message = f"{detail} ({', '.join(where)})" if where else detail
        super().__init__(message)
        self.detail = detail
        self.element_id = element_id
        self.line = line


class DecisionNotFound(DmnError, KeyError):
    """Report an unknown decision, decision service or BKM name asked for by a caller."""

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return ValueError.__str__(self)
