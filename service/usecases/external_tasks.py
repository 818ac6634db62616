"""External tasks for workers: Camunda 7's fetchAndLock, complete, failure, bpmnError,
extendLock, unlock and the task queries, on the ``external_task`` rows and their locks.

The rows are the projection the unit of work writes with the engine state
(:mod:`service.domain.external_tasks`); locks live in those rows
(:mod:`service.store.external_locks`), so two workers never hold one task, an expired lock
lets another worker take the task and a restart loses nothing. Every change is one
:class:`UnitOfWork` with its audit events, naming the account (the actor) and the worker id.

Who may work what: :func:`service.policy.may_work_topic` (group ``topic:<name>``); a task of
a topic the caller may not work is answered 404, as if it did not exist.

A fetchAndLock with ``asyncResponseTimeout`` waits for work: a unit of work of this process
that creates external tasks wakes it at once; work committed by another process is found by
polling the table every :data:`POLL_SECONDS`.
"""
from __future__ import annotations

import time

from ..domain import external_tasks as projection
from ..errors import BadRequest, Forbidden, NotFound, StaleInstance
from ..policy import Identity
from ..policy.topics import may_work_topic, visible_topics
from ..store import ExternalTask, iso, utcnow
from ..store import external_locks as locks
from .camunda import definition_id, when
from .unit_of_work import UnitOfWork

#: How often a long poll looks at the table for work committed by other processes.
POLL_SECONDS = 0.25
#: How often a complete or bpmnError is tried when another request changed the instance.
ATTEMPTS = 3


def _task_shape(row: ExternalTask, definition) -> dict:
    return {"id": str(row.id), "topicName": row.topic, "workerId": row.worker_id,
            "lockExpirationTime": when(row.lock_expires_at), "createTime": when(row.created_at),
            "activityId": row.element_id,
            "activityInstanceId": f"{row.element_id}:{row.engine_task_id}",
            "executionId": str(row.instance_id), "processInstanceId": str(row.instance_id),
            "processDefinitionId": definition_id(definition) if definition else None,
            "processDefinitionKey": row.process_key, "processDefinitionVersionTag": None,
            "businessKey": row.business_key, "retries": row.retries,
            "errorMessage": row.error_message, "suspended": False, "tenantId": None,
            "priority": row.priority}


def _locked_shape(row: ExternalTask, definition, names) -> dict:
    out = _task_shape(row, definition)
    variables = row.variables or {}
    if names is not None:
        variables = {n: variables[n] for n in names if n in variables}
    out.update(variables=variables, errorDetails=row.error_details,
               extensionProperties={str(k): str(v) for k, v in (row.headers or {}).items()})
    return out


# -- fetch and lock -------------------------------------------------------------------------

def _check_topics(who: Identity, topics: list[dict]) -> None:
    for topic in topics:
        if not may_work_topic(who, topic["topicName"]):
            raise Forbidden(f"{who.name} may not work external tasks of topic "
                            f"{topic['topicName']!r} (needs the group "
                            f"'topic:{topic['topicName']}')", field="topics")
    unknown = projection.unknown_topics(t["topicName"] for t in topics)
    if unknown:
        raise BadRequest(f"no deployed process has external tasks of topic {unknown[0]!r}",
                         field="topics")


def _lock_once(who: Identity, durations: dict, *, worker_id: str, max_tasks: int,
               use_priority: bool, config, clock) -> list[ExternalTask]:
    now = clock()
    if not locks.available(durations, now).exists():       # an idle poll only reads
        return []
    uow = UnitOfWork(who.name, config=config, clock=clock)
    with uow.writing():
        rows = locks.fetch_and_lock(durations, worker_id=worker_id, max_tasks=max_tasks,
                                    now=now, use_priority=use_priority, checked=True)
        for row in rows:
            uow.record("external_task.locked", case_id=row.case_id, instance_id=row.instance_id,
                       external_task=row.id, topic=row.topic, element_id=row.element_id,
                       worker=worker_id, lock_expires_at=iso(row.lock_expires_at))
    return rows


def fetch_and_lock(who: Identity, *, worker_id: str, topics: list[dict], max_tasks: int,
                   use_priority: bool = False, async_response_timeout_ms: int | None = None,
                   config, clock=utcnow) -> list[dict]:
    """Lock up to ``max_tasks`` tasks of ``topics`` (``topicName``, ``lockDuration`` ms,
    ``variables``: the names to return or None for all) for ``worker_id``; wait up to
    ``async_response_timeout_ms`` for work when there is none."""
    _check_topics(who, topics)
    if max_tasks <= 0:
        return []
    durations = {t["topicName"]: t["lockDuration"] for t in topics}
    names = {t["topicName"]: t.get("variables") for t in topics}
    deadline = time.monotonic() + max(async_response_timeout_ms or 0, 0) / 1000
    while True:
        seen = projection.generation()
        rows = _lock_once(who, durations, worker_id=worker_id, max_tasks=max_tasks,
                          use_priority=use_priority, config=config, clock=clock)
        left = deadline - time.monotonic()
        if rows or left <= 0:
            break
        projection.wait_for_work(seen, min(POLL_SECONDS, left))
    definitions = projection.definitions_of(rows)
    return [_locked_shape(r, definitions.get(r.instance_id), names[r.topic]) for r in rows]


# -- one task -------------------------------------------------------------------------------

def _visible(who: Identity, task_id: int) -> ExternalTask:
    row = locks.get(task_id)
    topics = visible_topics(who)
    if topics is not None and row.topic not in topics:
        raise NotFound(f"external task {task_id} not found", task=task_id)
    return row


def _held(who: Identity, task_id: int, worker_id: str, now) -> ExternalTask:
    row = _visible(who, task_id)
    if not may_work_topic(who, row.topic):
        raise Forbidden(f"{who.name} may not work external tasks of topic {row.topic!r}")
    return locks.check_held(row, worker_id, now)


def _with_instance(who: Identity, task_id: int, worker_id: str, operate, *, event: str,
                   config, clock, **detail) -> ExternalTask:
    """Run ``operate(inst, row)`` on the task's instance and save it with the task closed, in
    one unit; retried when another request saved the instance meanwhile."""
    for attempt in range(ATTEMPTS):
        now = clock()
        row = _held(who, task_id, worker_id, now)
        inst_row, case = row.instance, row.case           # loaded with the task
        uow = UnitOfWork(who.name, config=config, clock=clock)
        process = uow.load(inst_row)
        status = operate(process.inst, row)
        try:
            with uow.writing():
                locks.close(row, now=now, status=status)
                uow.record(event, case_id=case.id, instance_id=inst_row.id,
                           external_task=row.id, topic=row.topic, element_id=row.element_id,
                           worker=worker_id, **detail)
                uow.save(case, process, row=inst_row)
            return row
        except StaleInstance:
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def complete(who: Identity, task_id: int, *, worker_id: str, variables: dict,
             local_variables: dict | None = None, config, clock=utcnow) -> None:
    """The worker holding the lock finished the task: set the variables and run on.
    ``localVariables`` are set on the task (its output mappings see them) before the
    process variables."""
    values = {**(local_variables or {}), **variables}

    def operate(inst, row):
        inst.complete_external(row.engine_task_id, values, worker=worker_id)
        return "done"
    _with_instance(who, task_id, worker_id, operate, event="external_task.completed",
                   config=config, clock=clock, variables=sorted(values))


def bpmn_error(who: Identity, task_id: int, *, worker_id: str, error_code: str,
               error_message: str | None, variables: dict, config, clock=utcnow) -> None:
    """The worker reports business error ``error_code``: the task's error boundary event or
    an error event sub-process takes the path (as in Camunda); when nothing catches it, the
    instance stops with an incident naming the element and the code."""
    caught = [True]

    def operate(inst, row):
        inst.throw_bpmn_error(row.engine_task_id, error_code, error_message, variables,
                              worker=worker_id)
        failure = inst.failure if inst.status == "failed" else None
        caught[0] = not (failure is not None
                         and (getattr(failure, "extra", None) or {}).get("bpmn_error_code")
                         == error_code)
        return "done" if caught[0] else "failed"
    _with_instance(who, task_id, worker_id, operate, event="external_task.bpmn_error",
                   config=config, clock=clock, error_code=error_code,
                   error_message=error_message, variables=sorted(variables))


def failure(who: Identity, task_id: int, *, worker_id: str, error_message: str | None,
            error_details: str | None, retries: int, retry_timeout_ms: int, config,
            clock=utcnow) -> None:
    """The worker could not do the task: with ``retries`` left it is offered again after
    ``retry_timeout_ms``; at 0 an incident opens naming the element (the rest of the process
    goes on, as in Camunda)."""
    now = clock()
    row = _held(who, task_id, worker_id, now)
    uow = UnitOfWork(who.name, config=config, clock=clock)
    with uow.writing():
        locks.fail(row, retries=retries, retry_timeout_ms=retry_timeout_ms,
                   message=error_message, details=error_details, now=now)
        uow.record("external_task.failed", case_id=row.case_id, instance_id=row.instance_id,
                   external_task=row.id, topic=row.topic, element_id=row.element_id,
                   worker=worker_id, retries=retries, retry_timeout_ms=retry_timeout_ms,
                   error_message=error_message)
        if retries <= 0:
            label = row.name or row.element_id
            uow.open_incident(case_id=row.case_id, instance_id=row.instance_id, kind="external",
                              element_id=row.element_id,
                              message=f"{label!r} ({row.element_id}): external task "
                                      f"{row.topic!r} failed with no retries left: "
                                      f"{error_message or 'no message'}")
    if retries > 0 and retry_timeout_ms <= 0:
        projection.announce()


def extend_lock(who: Identity, task_id: int, *, worker_id: str, new_duration_ms: int,
                config, clock=utcnow) -> None:
    """The worker holding the lock needs ``new_duration_ms`` more from now."""
    now = clock()
    row = _held(who, task_id, worker_id, now)
    uow = UnitOfWork(who.name, config=config, clock=clock)
    with uow.writing():
        locks.extend(row, new_duration_ms=new_duration_ms, now=now)
        uow.record("external_task.lock_extended", case_id=row.case_id,
                   instance_id=row.instance_id, external_task=row.id, topic=row.topic,
                   worker=worker_id, new_duration_ms=new_duration_ms)


def unlock(who: Identity, task_id: int, *, config, clock=utcnow) -> None:
    """Release the task's lock, whoever holds it (an operator's or the worker's call)."""
    row = _visible(who, task_id)
    if not may_work_topic(who, row.topic):
        raise Forbidden(f"{who.name} may not work external tasks of topic {row.topic!r}")
    if row.status not in projection.LIVE:
        raise NotFound(f"external task {task_id} does not exist any more", task=task_id)
    uow = UnitOfWork(who.name, config=config, clock=clock)
    with uow.writing():
        locks.unlock(task_id)
        uow.record("external_task.unlocked", case_id=row.case_id, instance_id=row.instance_id,
                   external_task=row.id, topic=row.topic, worker=row.worker_id)
    projection.announce()


def retry_incident(uow: UnitOfWork, *, instance_id: int, element_id: str | None,
                   now) -> ExternalTask | None:
    """An incident of kind ``external`` retried: its task is offered again with one retry
    (inside the caller's ``writing()``)."""
    row = (ExternalTask.select().where(ExternalTask.instance == instance_id,
                                       ExternalTask.element_id == element_id,
                                       ExternalTask.status == locks.INCIDENT)
           .order_by(ExternalTask.id.desc()).first())
    if row is None:
        return None
    row = locks.reopen(row.id, retries=1, now=now)
    uow.new_external_work += 1
    uow.record("external_task.retries_set", case_id=row.case_id, instance_id=instance_id,
               external_task=row.id, topic=row.topic, element_id=element_id, retries=1)
    return row


# -- queries --------------------------------------------------------------------------------

def get(who: Identity, task_id: int) -> dict:
    row = _visible(who, task_id)
    if row.status not in projection.LIVE:
        raise NotFound(f"external task {task_id} does not exist any more", task=task_id)
    return _task_shape(row, projection.definitions_of([row]).get(row.instance_id))


def listing(who: Identity, *, first: int = 0, limit: int = 100, clock=utcnow,
            **filters) -> list[dict]:
    """``GET /external-task``: the open tasks of topics ``who`` may see, by id (``filters``:
    see :func:`_query`)."""
    rows = list(_query(who, clock(), **filters).order_by(ExternalTask.id)
                .offset(first).limit(limit))
    definitions = projection.definitions_of(rows)
    return [_task_shape(r, definitions.get(r.instance_id)) for r in rows]


def count(who: Identity, *, clock=utcnow, **filters) -> int:
    """``GET /external-task/count``: how many tasks :func:`listing` would list in all."""
    return _query(who, clock(), **filters).count()


def _query(who: Identity, now, *, topic: str | None = None, worker_id: str | None = None,
           locked: bool = False, not_locked: bool = False, with_retries_left: bool = False,
           no_retries_left: bool = False, process_instance_id: int | None = None,
           activity_id: str | None = None):
    query = ExternalTask.select().where(ExternalTask.status.in_(projection.LIVE))
    topics = visible_topics(who)
    if topics is not None:
        query = query.where(ExternalTask.topic.in_(sorted(topics) or [""]))
    if topic:
        query = query.where(ExternalTask.topic == topic)
    if worker_id:
        query = query.where(ExternalTask.worker_id == worker_id)
    if locked:
        query = query.where(ExternalTask.lock_expires_at > now)
    if not_locked:
        query = query.where(ExternalTask.lock_expires_at.is_null(True)
                            | (ExternalTask.lock_expires_at <= now))
    if with_retries_left:
        query = query.where(ExternalTask.status == locks.OPEN)
    if no_retries_left:
        query = query.where(ExternalTask.status == locks.INCIDENT)
    if process_instance_id is not None:
        query = query.where(ExternalTask.instance == process_instance_id)
    if activity_id:
        query = query.where(ExternalTask.element_id == activity_id)
    return query


__all__ = ["POLL_SECONDS", "bpmn_error", "complete", "count", "extend_lock", "failure", "fetch_and_lock",
           "get", "listing", "retry_incident", "unlock"]
