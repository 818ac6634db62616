"""Message subscriptions: what each waiting instance waits for, indexed for correlation.

Every save of an instance projects the message catches it waits at into
``message_subscription`` (:func:`sync`): the message name and the canonical JSON of the catch's
correlation values. A catch matches a message of its name whose correlation holds every one of
the catch's keys with an equal value (the engine's rule, see ``service/engine/messages.py``), so
delivery looks up the canonical keys of every subset of the message's correlation (a handful: a
correlation has one to three keys) and never deserializes a waiting workflow to find the right
one (:func:`waiting_instances`).
"""
from __future__ import annotations

import hashlib
import itertools
import json

from ..errors import ValidationFailed
from ..store import Instance, MessageSubscription, joined, to_jsonable

MAX_CORRELATION_KEYS = 6


def _normal(value):
    """Values compared the way the engine compares them: 2 == 2.0, text stays text."""
    value = to_jsonable(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def correlation_key(correlation: dict) -> str:
    """The canonical text of a correlation dict (sorted keys, normalized numbers)."""
    return json.dumps({str(k): _normal(v) for k, v in (correlation or {}).items()},
                      sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _stored_key(correlation: dict) -> str:
    """The indexed column value: the canonical text, hashed when it would not fit the column."""
    text = correlation_key(correlation)
    return text if len(text) <= 400 else "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _waiting(inst) -> list[tuple[str, dict, str | None]]:
    out = []
    for waiting in inst.waiting_messages():
        name, correlation = tuple(waiting)
        out.append((name, dict(correlation or {}), getattr(waiting, "element_id", None)))
    return out


def sync(row: Instance, inst) -> None:
    """Make ``message_subscription`` match what the instance waits for (caller's transaction).

    The unit of work calls it with every state it saves; it is cheap when nothing changed.
    """
    wanted = {}
    if getattr(inst, "status", None) not in ("completed", "cancelled"):
        for name, correlation, element in _waiting(inst):
            wanted[(name, _stored_key(correlation), element)] = correlation
    with joined():
        have = {(s.name, s.correlation_key, s.element_id): s.id
                for s in MessageSubscription.select().where(MessageSubscription.instance == row.id)}
        gone = [sid for key, sid in have.items() if key not in wanted]
        if gone:
            MessageSubscription.delete().where(MessageSubscription.id.in_(gone)).execute()
        new = [{"instance": row.id, "name": name, "correlation_key": key, "element_id": element,
                "correlation": to_jsonable(wanted[(name, key, element)])}
               for (name, key, element) in wanted if (name, key, element) not in have]
        if new:
            MessageSubscription.insert_many(new).execute()


def _candidate_keys(correlation: dict) -> list[str]:
    keys = sorted(correlation)
    if len(keys) > MAX_CORRELATION_KEYS:
        raise ValidationFailed(f"a correlation has at most {MAX_CORRELATION_KEYS} keys",
                               field="correlation")
    out = []
    for size in range(len(keys) + 1):
        for subset in itertools.combinations(keys, size):
            out.append(_stored_key({k: correlation[k] for k in subset}))
    return out


def waiting_instances(name: str, correlation: dict) -> list[int]:
    """Ids of instances with a catch for ``name`` that this correlation satisfies."""
    query = (MessageSubscription.select(MessageSubscription.instance).distinct()
             .join(Instance)
             .where(MessageSubscription.name == name,
                    MessageSubscription.correlation_key.in_(_candidate_keys(correlation)),
                    Instance.status == "waiting")
             .order_by(MessageSubscription.instance))
    return [s.instance_id for s in query]


__all__ = ["MAX_CORRELATION_KEYS", "correlation_key", "sync", "waiting_instances"]
