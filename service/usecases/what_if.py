"""What-if: the impact of a candidate decision table (or model version) on past decisions.

Read-only: nothing is written and nothing is audited; the candidate is parsed as a deployment
would parse it, so a candidate that answers here deploys as is.
"""
from __future__ import annotations

import datetime as dt
from typing import Callable

from ..domain import decision_replay, model_replay
from ..errors import BadRequest, Forbidden
from ..policy import Identity
from ..policy.identity import SYSTEM

# The shell's operator (``server.py what-if``): whoever may open the database may read it.
OPERATOR = SYSTEM


def _require_reader(who: Identity) -> None:
    if not (who.is_analyst or who.is_auditor):
        raise Forbidden("a what-if needs the analyst, admin or auditor role")


def _when(name: str, value) -> dt.datetime | None:
    """An ISO 8601 time (a date alone is its midnight); naive times are UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        moment = value
    else:
        try:
            moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError as exc:
            raise BadRequest(f"{name} must be an ISO 8601 date or time, not {str(value)[:40]!r}",
                             field=name) from exc
    moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)
    try:
        return moment.astimezone(dt.timezone.utc)
    except (OverflowError, ValueError) as exc:
        raise BadRequest(f"{name} is out of range", field=name) from exc


def _limit(value, default: int, most: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise BadRequest("limit must be a whole number", field="limit") from exc
    if not 1 <= number <= most:
        raise BadRequest(f"limit must be between 1 and {most}", field="limit")
    return number


def filters(*, since=None, until=None, case_type=None, limit=None,
            default_limit: int = decision_replay.DEFAULT_LIMIT) -> decision_replay.Filters:
    """The record filters of a what-if, checked (400 naming the field)."""
    start, end = _when("since", since), _when("until", until)
    if start and end and start >= end:
        raise BadRequest("since must be before until", field="since")
    if case_type is not None and (not isinstance(case_type, str) or len(case_type) > 200):
        raise BadRequest("case_type must be a case type key", field="case_type")
    return decision_replay.Filters(start, end, case_type or None,
                                   _limit(limit, default_limit, decision_replay.MAX_LIMIT))


def decision(who: Identity, key: str, files: dict[str, bytes], *, config,
             decision_id: str | None = None, progress: Callable[[int], None] | None = None,
             on_total: Callable[[int], None] | None = None, **raw_filters) -> dict:
    """``POST /decisions/{key}/what-if``: replay past records of ``key`` against the candidate
    DMN in ``files``; ``on_total(n)`` learns how many records will be replayed first."""
    _require_reader(who)
    chosen = filters(**raw_filters)
    goal = decision_replay.target(key, decision_id)
    candidate, model = decision_replay.candidate_model(goal, files,
                                                       max_bytes=config.max_definition_bytes)
    if on_total is not None:
        on_total(min(decision_replay.records(goal, chosen).count(), chosen.limit))
    return decision_replay.replay(goal, candidate, model, chosen, progress=progress)


def model(who: Identity, name: str, version: int, *, config, **raw_filters) -> dict:
    """``POST /models/{name}/what-if``: rescore recorded features with ``version``."""
    _require_reader(who)
    chosen = filters(**raw_filters, default_limit=model_replay.DEFAULT_LIMIT)
    return model_replay.replay(name, version, chosen, models_dir=config.models_dir)


__all__ = ["OPERATOR", "decision", "filters", "model"]
