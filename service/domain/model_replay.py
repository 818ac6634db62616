"""What-if of a model version: rescore the recorded features of past scores, changing nothing.

Every case's score record keeps the features it was scored on; the candidate version scores
them again in batches (one XGBoost prediction per chunk of records) and the answer counts the
cases whose risk band changes. The bands are the escalation-risk cut points the shipped
routing table uses (below 0.3 low, from 0.7 high), so a band change is a routing change.
"""
from __future__ import annotations

import time

import numpy as np
import xgboost as xgb

from ..errors import FeatureInvalid, OmniflowError
from ..store import DecisionRecord, paging
from . import model_registry
from .decision_replay import apply_filters

DEFAULT_LIMIT = 100_000
CHUNK = 5000
BANDS = ((0.3, "low"), (0.7, "medium"), (float("inf"), "high"))
CASES_PER_ROW = 5


def band(probability: float | None) -> str | None:
    if probability is None:
        return None
    for upper, name in BANDS:
        if probability < upper:
            return name
    return BANDS[-1][1]


def _records(name: str, filters):
    R = DecisionRecord
    q = R.select(R.id, R.case, R.model_version, R.inputs, R.score) \
        .where((R.kind == "score") & (R.model_name == name) & R.case.is_null(False))
    return apply_filters(q, filters).tuples()


def replay(name: str, version: int, filters, *, models_dir: str) -> dict:
    """Rescore the selected score records of model ``name`` with ``version``."""
    model_registry.version(name, version)             # 404 for an unregistered version
    loaded = model_registry.scorer(models_dir).load(name, version)   # 409 unless validated
    schema = loaded.meta.feature_schema
    query = _records(name, filters)
    available = query.count()
    replayed = failed = changed = 0
    moves: dict = {}
    shifts = []
    warnings: dict[str, int] = {}
    started = time.perf_counter()
    for chunk in paging.chunks(query, DecisionRecord.id, size=CHUNK, limit=filters.limit):
        vectors, kept = [], []
        for record_id, case_id, _, features, old in chunk:
            try:
                vectors.append(schema.vector(features)[0])
            except FeatureInvalid as exc:
                failed += 1
                warnings[exc.detail] = warnings.get(exc.detail, 0) + 1
                continue
            kept.append((case_id, old))
        if not vectors:
            continue
        try:
            new = loaded.booster.inplace_predict(np.vstack(vectors), validate_features=False)
        except xgb.core.XGBoostError as exc:
            raise OmniflowError(f"model '{name}' version {version} failed to score: {exc}",
                                model=name, version=version) from exc
        for (case_id, old), probability in zip(kept, new.tolist()):
            replayed += 1
            if old is not None:
                shifts.append(probability - old)
            before, after = band(old), band(probability)
            if before != after:
                changed += 1
                entry = moves.setdefault((before, after), [0, []])
                entry[0] += 1
                if len(entry[1]) < CASES_PER_ROW:
                    entry[1].append(case_id)
    elapsed = time.perf_counter() - started
    diffs = np.array(shifts) if shifts else np.zeros(0)
    return {"model": name, "version": version,
            "active_version": (model_registry.active(name).version
                               if model_registry.active(name) else None),
            "bands": [{"name": n, "below": u if u != float("inf") else None} for u, n in BANDS],
            "history": {"selected": min(available, filters.limit),
                        "truncated": available > filters.limit, "available": available},
            "replayed": replayed, "failed": failed, "changed": changed,
            "changed_share": round(changed / replayed, 6) if replayed else 0.0,
            "transitions": [{"output": "risk band", "from": b, "to": a, "count": c,
                             "case_ids": ids} for (b, a), (c, ids) in
                            sorted(moves.items(), key=lambda kv: -kv[1][0])],
            "score_shift": {"mean": round(float(diffs.mean()), 6) if len(diffs) else None,
                            "mean_abs": round(float(np.abs(diffs).mean()), 6)
                            if len(diffs) else None},
            "warnings": [{"message": m, "count": c} for m, c in
                         sorted(warnings.items(), key=lambda kv: -kv[1])[:20]],
            "seconds": round(elapsed, 3)}


__all__ = ["BANDS", "DEFAULT_LIMIT", "band", "replay"]
