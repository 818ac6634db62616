"""Which external-task topics an account may work.

An account may fetch, lock, complete and fail external tasks of a topic when it is an admin or
in the group ``topic:<name>`` (``topic:*`` for every topic). It sees (lists, reads) the tasks of
those topics; admins and auditors see every topic, and auditors work none. Anything else is
answered 404, as for tasks and cases (``visibility``).
"""
from __future__ import annotations

from .identity import Identity

TOPIC_GROUP = "topic:"
EVERY_TOPIC = f"{TOPIC_GROUP}*"


def may_work_topic(who: Identity, topic: str) -> bool:
    """Whether ``who`` may fetch and lock, complete or fail external tasks of ``topic``."""
    return who.is_admin or bool({EVERY_TOPIC, f"{TOPIC_GROUP}{topic}"} & who.groups)


def visible_topics(who: Identity) -> set[str] | None:
    """The topics whose external tasks ``who`` may see; None for every topic."""
    if who.is_admin or who.is_auditor or EVERY_TOPIC in who.groups:
        return None
    return {g[len(TOPIC_GROUP):] for g in who.groups if g.startswith(TOPIC_GROUP)}


__all__ = ["EVERY_TOPIC", "TOPIC_GROUP", "may_work_topic", "visible_topics"]
