"""Errors raised by the DMN engine.

``service.decisions`` imports nothing of Omniflow but ``service.sandbox``, so its errors derive
from ``ValueError``; the adapter that deploys DMN content translates them into
``DefinitionInvalid`` once.

    ValueError
    └── DmnError                 the model is not valid DMN (names the element, line and detail)
        └── DecisionNotFound     evaluate()/decision_service() was asked for an unknown name
    feel.UnknownName
    └── NameNotProvided          strict evaluation: a decision read a name nothing provides

Evaluation also lets ``service.sandbox.BudgetExceeded`` (a ``RuntimeError``) through: the
model is valid, this evaluation went beyond its budget. Callers map both it and
``NameNotProvided`` to a 422 from the evaluate API and to an incident in a business rule task.
"""
from __future__ import annotations

from .feel import UnknownName


class DmnError(ValueError):
    """Reject a DMN document, naming the element at fault.

    ``element_id`` is the id (or, failing that, the name) of the offending element, ``line`` its
    source line when known, ``file`` the document's name when several are parsed together
    (:func:`service.decisions.parse_documents`), ``detail`` the explanation without location.
    """

    def __init__(self, detail: str, *, element_id: str | None = None, line: int | None = None,
                 file: str | None = None):
        where = []
        if file:
            where.append(f"file {file!r}")
        if element_id:
            where.append(f"element {element_id!r}")
        if line:
            where.append(f"line {line}")
        message = f"{detail} ({', '.join(where)})" if where else detail
        super().__init__(message)
        self.detail = detail
        self.element_id = element_id
        self.line = line
        self.file = file

    def in_file(self, file: str) -> DmnError:
        """Return the same error located in ``file`` (the first file named is kept)."""
        if self.file:
            return self
        return type(self)(self.detail, element_id=self.element_id, line=self.line, file=file)


class DecisionNotFound(DmnError, KeyError):
    """Report an unknown decision, decision service or BKM name asked for by a caller."""

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return ValueError.__str__(self)


class NameNotProvided(UnknownName):
    """A decision read a name that no input, required decision or BKM provides (strict mode).

    ``decision`` and ``decision_id`` name the decision whose logic (or a BKM it invoked) read
    ``name``. Raised only by evaluations with ``strict_names``; lenient ones (the TCK runner)
    make the name null with a warning, as FEEL does. Not a ``DmnError``: the model parsed, this
    evaluation's inputs lack the name (or the model has a typo no parse could see).
    """

    def __init__(self, decision: str, decision_id: str, name: str):
        Exception.__init__(self, f"decision {decision!r} reads {name!r}, which no input or "
                                 "required decision provides")
        self.decision = decision
        self.decision_id = decision_id
        self.name = name
