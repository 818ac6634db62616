"""The Camunda 7 REST calls tools use first, mapped onto our own use cases.

Each operation here calls the same use case as ``/api/v1`` (so permissions, audit and
idempotency are the same) and answers with the ids and fields Camunda's REST API returns, in
plain values; ``service/api/engine_rest`` turns variables into Camunda's typed JSON.

Ids: a process definition is ``key:version:row id`` (Camunda's form), a process instance is
our instance row id, a task our task id, a deployment our deployment id; all as text.
"""
from __future__ import annotations

import datetime as dt
import uuid

from ..domain import definitions
from ..errors import Conflict, Forbidden, NoWaitingInstance, NotFound, ValidationFailed
from ..policy import Identity, visible_tasks
from ..store import (Case, Definition, Deployment, Instance, MessageSubscription, Task,
                     TaskCandidate, rows, to_jsonable, utcnow)
from . import cases, decisions, deployments, messages, tasks
from .deployments import require_deployer
from .tasks import OPEN

#: The Camunda 7 REST API level these answers follow.
CAMUNDA_VERSION = "7.22.0"


def when(value: dt.datetime | None) -> str | None:
    """Camunda's date format: ``2024-01-31T09:00:00.000+0000``."""
    if value is None:
        return None
    value = value.astimezone(dt.timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def definition_id(row: Definition) -> str:
    return f"{row.key}:{row.version}:{row.id}"


def version() -> dict:
    return {"version": CAMUNDA_VERSION}


# -- deployments ---------------------------------------------------------------------------

def _process_definition(row: Definition) -> dict:
    return {"id": definition_id(row), "key": row.key, "category": None, "description": None,
            "name": row.name, "version": row.version, "resource": row.file,
            "deploymentId": str(row.deployment_id), "diagram": None, "suspended": False,
            "tenantId": None, "versionTag": None, "historyTimeToLive": None,
            "startableInTasklist": True}


def _decision_definitions(row: Definition) -> dict:
    out = {}
    for decision in row.meta.get("decisions", []):
        out[f"{decision['id']}:{row.version}:{row.id}"] = {
            "id": f"{decision['id']}:{row.version}:{row.id}", "key": decision["id"],
            "category": None, "name": decision.get("name"), "version": row.version,
            "resource": row.file, "deploymentId": str(row.deployment_id),
            "decisionRequirementsDefinitionId": None, "decisionRequirementsDefinitionKey": None,
            "tenantId": None, "versionTag": None, "historyTimeToLive": None}
    return out


def deploy(who: Identity, files: dict[str, bytes], *, name: str | None, source: str | None,
           config) -> dict:
    """``POST /deployment/create``: the deployments use case; changed files get new versions
    and unchanged ones keep theirs (Camunda's ``deploy-changed-only``, always)."""
    result = deployments.deploy(who, files, config=config, name=name, source=source)
    deployment = Deployment.get_by_id(result["id"])
    created = {(c["kind"], c["key"]): c for c in result["created"]}
    rows = [definitions.get(kind, key, c["version"]) for (kind, key), c in created.items()
            if kind in ("bpmn", "dmn")]
    processes = {definition_id(r): _process_definition(r) for r in rows if r.kind == "bpmn"}
    decisions_ = {}
    for r in rows:
        if r.kind == "dmn":
            decisions_.update(_decision_definitions(r))
    return {"id": str(deployment.id), "name": name, "source": source,
            "deploymentTime": when(deployment.deployed_at), "tenantId": None, "links": [],
            "deployedProcessDefinitions": processes or None,
            "deployedDecisionDefinitions": decisions_ or None,
            "deployedCaseDefinitions": None, "deployedDecisionRequirementsDefinitions": None}


# -- process instances ---------------------------------------------------------------------

# A case's first instance with its definition and case, in one statement built once: the
# answer to every start (three peewee-built queries were a fifth of a start's cost).
_FIRST_INSTANCE = rows.Prepared(
    lambda case_id: (Instance.select(Instance, Definition, Case).join(Definition)
                     .switch(Instance).join(Case).where(Instance.case == case_id)
                     .order_by(Instance.id)), -1)


def _instance_of(case_id: int) -> Instance:
    return _FIRST_INSTANCE.first(case_id)


def process_instance(row: Instance, case: Case) -> dict:
    return {"id": str(row.id), "definitionId": definition_id(row.definition),
            "businessKey": case.external_ref, "caseInstanceId": None,
            "ended": row.status in ("completed", "cancelled"), "suspended": False,
            "tenantId": None, "links": []}


def start(who: Identity, key: str, variables: dict, *, business_key: str | None,
          idempotency_key: str | None, config, clock=utcnow) -> tuple[int, dict]:
    """``POST /process-definition/key/{key}/start``: ``POST /api/v1/cases`` with the process
    key as case type and the business key as external reference."""
    if definitions.latest("bpmn", key) is None:
        raise NotFound(f"no deployed process definition with key {key!r}", key=key)
    body = {"type": key, "data": variables, "external_ref": business_key}
    status, answer = cases.submit(who, body, idempotency_key=idempotency_key, config=config,
                                  clock=clock)
    row = _instance_of(answer["id"])
    out = process_instance(row, row.case)
    out["caseId"] = row.case_id
    return (200 if status in (200, 201) else status), out


# -- messages ------------------------------------------------------------------------------

def _pinned_correlation(name: str, correlation: dict, *, business_key: str | None,
                        instance_id: int | None) -> dict:
    """Camunda also correlates by business key (our case's external reference) or process
    instance id: find that instance's subscription for ``name`` and add the values its catch
    waits on, so the message then takes the one path every message takes."""
    query = (MessageSubscription.select(MessageSubscription, Instance).join(Instance)
             .where(MessageSubscription.name == name, Instance.status == "waiting"))
    if instance_id is not None:
        query = query.where(Instance.id == instance_id)
    if business_key is not None:
        query = query.where(Instance.case.in_(
            Case.select(Case.id).where(Case.external_ref == business_key)))
    found = [s for s in query.limit(2)
             if all(s.correlation.get(k) == v for k, v in correlation.items()
                    if k in s.correlation)]
    if not found:
        raise NoWaitingInstance(f"no instance with that business key or id waits for message "
                                f"{name!r}", message=name)
    if len(found) > 1:
        raise Conflict(f"several instances with business key {business_key!r} wait for message "
                       f"{name!r}", message=name)
    return {**found[0].correlation, **correlation}


def correlate(who: Identity, name: str, *, correlation: dict, variables: dict,
              business_key: str | None, message_id: str | None, config,
              instance_id: int | None = None, clock=utcnow) -> dict:
    """``POST /message``: ``POST /api/v1/messages``. Correlation keys, a business key or a
    process instance id pick the instance. Without an ``Idempotency-Key`` header each call is
    a new message."""
    if not isinstance(name, str) or not name.strip():
        raise ValidationFailed("messageName is required", field="messageName")
    if business_key is not None or instance_id is not None:
        correlation = _pinned_correlation(name, correlation, business_key=business_key,
                                          instance_id=instance_id)
    body = {"name": name, "message_id": message_id or f"engine-rest-{uuid.uuid4()}",
            "correlation": dict(correlation), "data": dict(variables)}
    status, answer = messages.deliver(who, body, config=config, clock=clock)
    row = Instance.get_by_id(answer["instance_id"])
    case = Case.get_by_id(answer["case_id"])
    kind = "ProcessDefinition" if answer.get("status") == "started" else "Execution"
    instance = process_instance(row, case)
    return {"resultType": kind, "processInstance": instance,
            "execution": None if kind == "ProcessDefinition" else {
                "id": str(row.id), "processInstanceId": str(row.id), "ended": instance["ended"],
                "tenantId": None},
            "duplicate": bool(answer.get("duplicate"))}


# -- decisions -----------------------------------------------------------------------------

def evaluate(who: Identity, key: str, variables: dict) -> list[dict]:
    """``POST /decision-definition/key/{key}/evaluate``: one map of output name to value per
    matched rule (Camunda's result list)."""
    answer = decisions.evaluate(who, key, variables)
    outputs = answer["outputs"]
    if outputs is None:
        return []
    if isinstance(outputs, list):
        return [o if isinstance(o, dict) else {key: o} for o in outputs]
    return [outputs if isinstance(outputs, dict) else {key: outputs}]


# -- user tasks ----------------------------------------------------------------------------

def task_shape(task: Task, definition: Definition | None = None) -> dict:
    definition = definition or task.instance.definition
    return {"id": str(task.id), "name": task.name, "assignee": task.assignee, "owner": None,
            "created": when(task.created_at), "due": when(task.due_at), "followUp": None,
            "lastUpdated": None, "delegationState": None, "description": None,
            "executionId": str(task.instance_id), "parentTaskId": None, "priority": 50,
            "processDefinitionId": definition_id(definition),
            "processInstanceId": str(task.instance_id), "caseExecutionId": None,
            "caseDefinitionId": None, "caseInstanceId": None,
            "taskDefinitionKey": task.element_id, "suspended": False, "formKey": None,
            "camundaFormRef": None, "tenantId": None}


def task_list(who: Identity, *, process_instance_id: int | None = None,
              process_definition_key: str | None = None, task_definition_key: str | None = None,
              assignee: str | None = None, candidate_group: str | None = None,
              unassigned: bool = False, first: int = 0, limit: int = 100) -> list[dict]:
    """``GET /task``: the open tasks ``who`` may see (the inbox's visibility rule), by id."""
    query = visible_tasks(who, Task.select(Task, Instance, Definition)
                          .join(Instance).join(Definition).switch(Task))
    query = query.where(Task.status.in_(OPEN))
    if process_instance_id is not None:
        query = query.where(Task.instance == process_instance_id)
    if process_definition_key:
        query = query.where(Task.case_type == process_definition_key)
    if task_definition_key:
        query = query.where(Task.element_id == task_definition_key)
    if assignee:
        query = query.where(Task.assignee == assignee)
    if unassigned:
        query = query.where(Task.assignee.is_null(True))
    if candidate_group:
        query = query.where(Task.id.in_(TaskCandidate.select(TaskCandidate.task).where(
            TaskCandidate.kind == "group", TaskCandidate.name == candidate_group)))
    rows = query.order_by(Task.id).offset(first).limit(limit)
    return [task_shape(t, t.instance.definition) for t in rows]


def task_get(who: Identity, task_id: int) -> dict:
    task = tasks.get(who, task_id)
    return task_shape(task, task.instance.definition)


def task_claim(who: Identity, task_id: int, user_id: str | None) -> None:
    """``POST /task/{id}/claim``: for oneself (assigning someone else is a delegation, which
    has its own rules: ``POST /api/v1/tasks/{id}/delegate``)."""
    if user_id not in (None, who.name):
        raise Forbidden(f"{who.name} may claim tasks only for themselves, not for {user_id!r}")
    tasks.claim(who, task_id)


def task_unclaim(who: Identity, task_id: int) -> None:
    tasks.unclaim(who, task_id)


def task_complete(who: Identity, task_id: int, variables: dict, *, config,
                  clock=utcnow) -> dict:
    """``POST /task/{id}/complete``: the inbox's completion (form, four-eyes, authority)."""
    answer = tasks.complete(who, task_id, variables, config=config, clock=clock)
    return to_jsonable(answer)


__all__ = ["CAMUNDA_VERSION", "correlate", "require_deployer", "definition_id", "deploy", "evaluate",
           "process_instance", "start", "task_claim", "task_complete", "task_get", "task_list",
           "task_shape", "task_unclaim", "version", "when"]
