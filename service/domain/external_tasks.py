"""External tasks on our records: the ``external_task`` rows that mirror an instance's waiting
external tasks, and the wake-up of workers waiting in a long poll.

:func:`project` runs in the unit of work that saves the engine state (like the inbox), so a
worker never fetches a task the engine does not have: a new waiting external task gets a row
(open, unlocked); a row whose task the engine no longer has (an interrupting boundary event
took the path, the instance ended) is cancelled. While the instance has failed nothing
changes: its tasks wait for the incident's retry.

:func:`announce` / :func:`wait_for_work` wake fetchAndLock long polls in this process at
once when a unit commits new work; other processes find it by polling the table (the store's
locks are the truth either way).
"""
from __future__ import annotations

import threading

from ..audit import Event
from ..store import Case, Definition, ExternalTask, Instance, rows, to_jsonable
from . import definitions

ENGINE_ACTOR = "engine"
LIVE = ("open", "incident")
ENDED = ("completed", "cancelled")


def _priority(text) -> int:
    try:
        return max(min(int(str(text).strip()), 2**31 - 1), -2**31)
    except (TypeError, ValueError):
        return 0


_LIVE_OF_INSTANCE = rows.Prepared(
    lambda instance, *statuses: ExternalTask.select(
        ExternalTask.id, ExternalTask.engine_task_id, ExternalTask.element_id,
        ExternalTask.topic, ExternalTask.worker_id).where(
        ExternalTask.instance == instance, ExternalTask.status.in_(statuses)), -1, *LIVE)


def project(case: Case, row: Instance, inst, now, events: list, *, fresh: bool) -> int:
    """Make the ``external_task`` rows match the engine's waiting external tasks; returns how
    many rows were created (the caller announces them after the commit). ``fresh``: the
    instance has no live rows (it is new, or was loaded with nothing waiting for a worker)."""
    if inst.status == "failed":
        return 0
    waiting = {v.id: v for v in inst.external_tasks()} if inst.status == "waiting" else {}
    if fresh and not waiting:
        return 0
    live = [] if fresh else _LIVE_OF_INSTANCE.all(row.id, *LIVE)
    known = {r.engine_task_id for r in live}
    gone = [r for r in live if r.engine_task_id not in waiting]
    if gone:
        (ExternalTask.update(status="cancelled", done_at=now, worker_id=None,
                             lock_expires_at=None)
         .where(ExternalTask.id.in_([r.id for r in gone])).execute())
        for r in gone:
            events.append(Event("external_task.cancelled", ENGINE_ACTOR, case.id, row.id,
                                {"external_task": r.id, "element_id": r.element_id,
                                 "topic": r.topic, "worker": r.worker_id}))
    created = 0
    for tid, view in waiting.items():
        if tid in known:
            continue
        task_id = rows.insert(
            ExternalTask, instance=row.id, case=case.id, engine_task_id=tid,
            element_id=view.element_id, name=(view.name or "")[:300] or None, topic=view.topic,
            process_key=view.process_key, business_key=case.external_ref,
            variables=to_jsonable(view.variables), headers=to_jsonable(view.headers),
            priority=_priority(view.priority), retries=view.retries, available_at=now,
            created_at=now, status="open")
        events.append(Event("external_task.created", ENGINE_ACTOR, case.id, row.id,
                            {"external_task": task_id, "element_id": view.element_id,
                             "topic": view.topic}))
        created += 1
    return created


def unknown_topics(topics) -> list[str]:
    """Of ``topics``, those no deployed process declares (newest versions from the in-process
    snapshot; older versions read only when a topic is missing there)."""
    wanted = set(topics)
    for row in definitions.latest_all("bpmn"):
        wanted -= set((row.meta or {}).get("external_topics", ()))
    if wanted:
        for meta, in Definition.select(Definition.meta).where(Definition.kind == "bpmn").tuples():
            wanted -= set((meta or {}).get("external_topics", ()))
    return sorted(wanted)


def definitions_of(tasks) -> dict[int, Definition]:
    """instance id -> its definition row, for a batch of external tasks (one query)."""
    ids = {t.instance_id for t in tasks}
    if not ids:
        return {}
    query = (Instance.select(Instance.id, Definition.id, Definition.key, Definition.version)
             .join(Definition).where(Instance.id.in_(list(ids))))
    return {i.id: i.definition for i in query}


# -- waking long polls in this process --------------------------------------------------------

_work = threading.Condition()
_generation = [0]


def generation() -> int:
    with _work:
        return _generation[0]


def announce() -> None:
    """New work is committed: wake every long poll of this process."""
    with _work:
        _generation[0] += 1
        _work.notify_all()


def wait_for_work(seen: int, timeout: float) -> int:
    """Wait up to ``timeout`` seconds for an :func:`announce` after generation ``seen``."""
    with _work:
        if _generation[0] == seen and timeout > 0:
            _work.wait(timeout)
        return _generation[0]


__all__ = ["LIVE", "announce", "definitions_of", "generation", "unknown_topics", "project",
           "wait_for_work"]
