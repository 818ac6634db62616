"""The public interoperability corpus (``../shared/interop-corpus``), read in place: the files
stay out of the repository (their origin and licence are in its ``manifest.tsv``)."""
from __future__ import annotations

from pathlib import Path

import pytest

from service.decisions import DecisionModel
from service.engine import DecisionOutcome

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "interop-corpus"


def corpus_file(kind: str, name: str) -> bytes:
    path = CORPUS / kind / name
    if not path.exists():
        pytest.skip(f"the interop corpus is not at {CORPUS}")
    return path.read_bytes()


class CorpusDecisions:
    """A DecisionPort over DMN files of the corpus, evaluated by our own DMN engine."""

    def __init__(self, *names: str):
        self.models = {}
        for name in names:
            model = DecisionModel.parse(corpus_file("dmn", name))
            for decision in model.decisions:
                self.models[decision.id] = model
        self.results: list[tuple[str, object, tuple]] = []

    def evaluate(self, decision_ref: str, inputs: dict) -> DecisionOutcome:
        result = self.models[decision_ref].evaluate(decision_ref, inputs)
        self.results.append((decision_ref, result.value, tuple(result.warnings)))
        return DecisionOutcome(result.value, {"decision": decision_ref},
                               outputs=self.models[decision_ref].output_names(decision_ref))
