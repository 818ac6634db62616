"""Fuzzing the deploy path through the API: mutated analysts' files are deployed or refused
with a 4xx problem naming what is wrong, never a 500 and never a half-written deployment.

Mutations start from the shipped files (real BPMN, DMN, case types and rules) so that most
inputs get past the XML parser and reach the deeper checks. Derandomized: CI runs the same
examples every time; ``FUZZ_EXAMPLES=5000`` searches further, with random examples.
"""
import io
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.store import Definition, Deployment

ROOT = Path(__file__).resolve().parents[2]
SEEDS = {path.name: path.read_bytes() for folder in ("bpmn", "dmn", "rules")
         for path in sorted((ROOT / folder).iterdir()) if path.is_file()}
FRAGMENTS = [b"<", b">", b"&", b"\"", b"'", b"\x00", b"\xff", b"]]>", b"<!--", b"${", b"=",
             b"<bpmn:task id=\"x\"/>", b"<rule><inputEntry><text><text>1</text></text>"
             b"</inputEntry></rule>", b"id=\"\"", b"camunda:", b"\n" * 3, "é".encode(),
             b"9" * 400, b"{", b"}", b"[", b"]", b",", b":", b"null", b"1e309"]


@st.composite
def mutated(draw):
    name = draw(st.sampled_from(sorted(SEEDS)))
    data = bytearray(SEEDS[name])
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["insert", "delete", "replace", "truncate"]))
        if kind == "insert":
            data[at:at] = draw(st.sampled_from(FRAGMENTS))
        elif kind == "delete":
            del data[at:at + draw(st.integers(1, 64))]
        elif kind == "replace":
            data[at:at + 1] = draw(st.binary(min_size=1, max_size=8))
        else:
            del data[at:]
    return name, bytes(data)


@pytest.fixture
def analyst(users):
    return users.make("fuzz-analyst", ["analyst"])


EXPLORING = "FUZZ_EXAMPLES" in os.environ       # a local search: random, and as long as asked


@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "80")), deadline=None,
          derandomize=not EXPLORING,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(files=st.lists(mutated(), min_size=1, max_size=3, unique_by=lambda f: f[0]))
def test_mutated_files_are_deployed_or_refused_with_a_problem(analyst, files):
    before = (Deployment.select().count(), Definition.select().count())
    response = analyst.post("/api/v1/deployments", content_type="multipart/form-data",
                            data={"files": [(io.BytesIO(data), name) for name, data in files]})
    assert response.status_code in (201, 400, 413, 422), response.get_data()[:500]
    if response.status_code != 201:
        problem = response.get_json()
        assert response.mimetype == "application/problem+json" and problem["detail"]
        # All or nothing: a refused deployment wrote nothing.
        assert (Deployment.select().count(), Definition.select().count()) == before
