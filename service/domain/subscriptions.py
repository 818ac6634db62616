"""Message subscriptions: what each waiting instance waits for, indexed for correlation.

Every save of an instance projects the message catches it waits at into
``message_subscription`` (:func:`sync`): the message name and the canonical JSON of the catch's
correlation values. Delivery (:func:`waiting_instances`) never deserializes a waiting workflow:

* a catch **with correlation keys** (a Spiff correlation, a ``correlationKey`` property, a
  Camunda 8 ``zeebe:subscription``) matches a message of its name whose correlation holds every
  one of the catch's keys with an equal value (the engine's rule, see
  ``service/engine/messages.py``): an index lookup of the canonical keys of every subset of
  the message's correlation (a handful: a correlation has one to three keys);
* a catch **without keys** (most Camunda 7 and bpmn.io files) matches as Camunda 7 correlates:
  every correlation value of the message must equal the instance's variable of that name. The
  subscription keeps the instance's scalar variables for that (``variables``), refreshed with
  every save.
"""
from __future__ import annotations

import hashlib
import itertools
import json

from ..errors import ValidationFailed
from ..store import Instance, MessageSubscription, joined, rows, to_jsonable

MAX_CORRELATION_KEYS = 6
KEYLESS = "{}"                  # the canonical key of a catch that declares none
MAX_VARIABLES = 200             # scalar variables kept for a keyless catch
MAX_VARIABLE_TEXT = 400


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


def _waiting(inst) -> list:
    """(name, correlation, element, variables) per catch; ``variables`` only for a catch that
    declares no key (the engine's ``WaitingMessage.keyed``), else None."""
    out = []
    for waiting in inst.waiting_messages():
        keyed = waiting.keyed
        out.append((waiting.name, dict(waiting.correlation or {}) if keyed else {},
                    waiting.element_id, None if keyed else _scalars(waiting.variables)))
    return out


def _scalars(variables) -> dict:
    """What a keyless catch is matched by: the engine's correlatable variables, normalized
    as correlation values are, and bounded (a few hundred short values)."""
    out = {}
    for name, value in (variables or {}).items():
        if len(out) >= MAX_VARIABLES:
            break
        if value is not None and len(str(value)) <= MAX_VARIABLE_TEXT:
            out[str(name)] = _normal(value)
    return out


_OF_INSTANCE = rows.Prepared(
    lambda instance: MessageSubscription.select().where(MessageSubscription.instance == instance),
    -1)


def sync(row: Instance, inst) -> None:
    """Make ``message_subscription`` match what the instance waits for (caller's transaction).

    The unit of work calls it with every state it saves; it is cheap when nothing changed.
    """
    wanted, variables = {}, None
    if getattr(inst, "status", None) not in ("completed", "cancelled"):
        for name, correlation, element, held in _waiting(inst):
            wanted[(name, KEYLESS if held is not None else _stored_key(correlation),
                    element)] = correlation
            variables = held if held is not None else variables
    with joined():
        have = {(s.name, s.correlation_key, s.element_id): s
                for s in _OF_INSTANCE.all(row.id)}
        gone = [s.id for key, s in have.items() if key not in wanted]
        if gone:
            MessageSubscription.delete().where(MessageSubscription.id.in_(gone)).execute()
        new = [{"instance": row.id, "name": name, "correlation_key": key, "element_id": element,
                "correlation": to_jsonable(wanted[(name, key, element)]),
                "variables": variables if key == KEYLESS else None}
               for (name, key, element) in wanted if (name, key, element) not in have]
        if new:
            MessageSubscription.insert_many(new).execute()
        stale = [s.id for key, s in have.items()
                 if key in wanted and key[1] == KEYLESS and s.variables != variables]
        if stale:
            (MessageSubscription.update(variables=variables)
             .where(MessageSubscription.id.in_(stale)).execute())


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
    keys = [k for k in _candidate_keys(correlation) if k != KEYLESS]
    keyed = (MessageSubscription.select(MessageSubscription.instance).distinct().join(Instance)
             .where(MessageSubscription.name == name,
                    MessageSubscription.correlation_key.in_(keys),
                    Instance.status == "waiting"))
    found = {s.instance_id for s in keyed} if keys else set()
    wanted = {str(k): _normal(v) for k, v in correlation.items()}
    keyless = (MessageSubscription.select(MessageSubscription.instance,
                                          MessageSubscription.variables).join(Instance)
               .where(MessageSubscription.name == name,
                      MessageSubscription.correlation_key == KEYLESS,
                      Instance.status == "waiting"))
    for s in keyless:
        held = s.variables or {}
        if all(k in held and held[k] == v for k, v in wanted.items()):
            found.add(s.instance_id)
    return sorted(found)


__all__ = ["MAX_CORRELATION_KEYS", "correlation_key", "sync", "waiting_instances"]
