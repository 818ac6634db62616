"""Marshmallow schemas of the /engine-rest bodies and answers (Camunda's field names).

Unknown fields are ignored, as Camunda's REST API ignores them: clients send fields we do not
use (``tenantId``, ``usePriority``, ``sorting``, ``localVariables``...).
"""
from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from ..limits import MAX_ID


class Lenient(Schema):
    class Meta:
        unknown = EXCLUDE


class TypedValue(Schema):
    value = fields.Raw(allow_none=True)
    type = fields.String(metadata={"description": "String, Boolean, Integer, Short, Long, "
                                                  "Double, Date, Json, Object (JSON), Null"})
    valueInfo = fields.Dict()


Variables = fields.Dict(keys=fields.String(), values=fields.Raw(), load_default=dict,
                        metadata={"description": "name -> {\"value\": ..., \"type\": ...}"})


class CamundaError(Schema):
    type = fields.String(metadata={"description": "InvalidRequestException, "
                                                  "BadUserRequestException, "
                                                  "AuthenticationException, "
                                                  "AuthorizationException, "
                                                  "OptimisticLockingException, ..."})
    message = fields.String()
    code = fields.Integer()
    field = fields.String()
    # Where a deployment's fault is (the same names /api/v1's problems use).
    element = fields.String()
    file = fields.String()
    line = fields.Integer()


class VersionAnswer(Schema):
    version = fields.String()


class StartBody(Lenient):
    variables = Variables
    businessKey = fields.String(load_default=None, allow_none=True,
                                validate=validate.Length(max=200))


class ProcessInstanceAnswer(Schema):
    id = fields.String()
    definitionId = fields.String()
    businessKey = fields.String(allow_none=True)
    ended = fields.Boolean()
    suspended = fields.Boolean()
    caseId = fields.Integer(metadata={"description": "Omniflow's case id"})


class MessageBody(Lenient):
    messageName = fields.String(required=True, validate=validate.Length(1, 200))
    businessKey = fields.String(load_default=None, allow_none=True)
    processInstanceId = fields.Integer(load_default=None, allow_none=True,
                                       validate=validate.Range(1, MAX_ID))
    correlationKeys = Variables
    processVariables = Variables
    resultEnabled = fields.Boolean(load_default=False)


class EvaluateBody(Lenient):
    variables = Variables


class DeploymentAnswer(Schema):
    id = fields.String()
    name = fields.String(allow_none=True)
    source = fields.String(allow_none=True)
    deploymentTime = fields.String()
    deployedProcessDefinitions = fields.Dict(allow_none=True)
    deployedDecisionDefinitions = fields.Dict(allow_none=True)


class TaskQuery(Lenient):
    processInstanceId = fields.Integer(validate=validate.Range(1, MAX_ID))
    processDefinitionKey = fields.String()
    taskDefinitionKey = fields.String()
    assignee = fields.String()
    candidateGroup = fields.String()
    unassigned = fields.Boolean(load_default=False)
    firstResult = fields.Integer(load_default=0, validate=validate.Range(0, 10_000_000))
    maxResults = fields.Integer(load_default=100, validate=validate.Range(1, 1000))


class TaskAnswer(Schema):
    id = fields.String()
    name = fields.String(allow_none=True)
    assignee = fields.String(allow_none=True)
    created = fields.String()
    due = fields.String(allow_none=True)
    processDefinitionId = fields.String()
    processInstanceId = fields.String()
    taskDefinitionKey = fields.String()


class ClaimBody(Lenient):
    userId = fields.String(load_default=None, allow_none=True)


class CompleteTaskBody(Lenient):
    variables = Variables
    withVariablesInReturn = fields.Boolean(load_default=False)


# -- external tasks -----------------------------------------------------------------------

MAX_LOCK_MS = 7 * 24 * 3600 * 1000
WorkerId = fields.String(required=True, validate=validate.Length(1, 200),
                         metadata={"description": "the worker's id (the lock's holder)"})


class FetchTopic(Lenient):
    topicName = fields.String(required=True, validate=validate.Length(1, 200))
    lockDuration = fields.Integer(required=True, validate=validate.Range(1, MAX_LOCK_MS),
                                  metadata={"description": "milliseconds"})
    variables = fields.List(fields.String(validate=validate.Length(1, 200)), allow_none=True,
                            load_default=None,
                            metadata={"description": "the variables to return; null: all"})
    localVariables = fields.Boolean(load_default=False)
    deserializeValues = fields.Boolean(load_default=True)
    includeExtensionProperties = fields.Boolean(load_default=False)
    businessKey = fields.String(load_default=None, allow_none=True)
    processDefinitionKey = fields.String(load_default=None, allow_none=True)
    processVariables = fields.Dict(load_default=dict, allow_none=True)


class FetchAndLockBody(Lenient):
    workerId = WorkerId
    maxTasks = fields.Integer(required=True, validate=validate.Range(0, 1000))
    usePriority = fields.Boolean(load_default=False, allow_none=True)
    asyncResponseTimeout = fields.Integer(load_default=None, allow_none=True,
                                          validate=validate.Range(0, 1_800_000),
                                          metadata={"description": "long polling, in ms"})
    topics = fields.List(fields.Nested(FetchTopic), required=True,
                         validate=validate.Length(1, 100))


class ExternalTaskAnswer(Schema):
    id = fields.String()
    topicName = fields.String()
    workerId = fields.String(allow_none=True)
    lockExpirationTime = fields.String(allow_none=True)
    createTime = fields.String()
    activityId = fields.String()
    activityInstanceId = fields.String()
    executionId = fields.String()
    processInstanceId = fields.String()
    processDefinitionId = fields.String(allow_none=True)
    processDefinitionKey = fields.String()
    processDefinitionVersionTag = fields.String(allow_none=True)
    businessKey = fields.String(allow_none=True)
    retries = fields.Integer(allow_none=True)
    errorMessage = fields.String(allow_none=True)
    suspended = fields.Boolean()
    tenantId = fields.String(allow_none=True)
    priority = fields.Integer()


class LockedExternalTaskAnswer(ExternalTaskAnswer):
    variables = fields.Dict(metadata={"description": "name -> {\"value\", \"type\"}"})
    errorDetails = fields.String(allow_none=True)
    extensionProperties = fields.Dict()


class ExternalTaskQuery(Lenient):
    topicName = fields.String()
    workerId = fields.String()
    locked = fields.Boolean(load_default=False)
    notLocked = fields.Boolean(load_default=False)
    withRetriesLeft = fields.Boolean(load_default=False)
    noRetriesLeft = fields.Boolean(load_default=False)
    processInstanceId = fields.Integer(validate=validate.Range(1, MAX_ID))
    activityId = fields.String()
    firstResult = fields.Integer(load_default=0, validate=validate.Range(0, 10_000_000))
    maxResults = fields.Integer(load_default=100, validate=validate.Range(1, 1000))


class CountAnswer(Schema):
    count = fields.Integer()


class CompleteExternalBody(Lenient):
    workerId = WorkerId
    variables = Variables
    localVariables = Variables


class FailureBody(Lenient):
    workerId = WorkerId
    errorMessage = fields.String(load_default=None, allow_none=True)
    errorDetails = fields.String(load_default=None, allow_none=True)
    retries = fields.Integer(required=True, validate=validate.Range(0, 2**31 - 1))
    retryTimeout = fields.Integer(load_default=0, allow_none=True,
                                  validate=validate.Range(0, 2**53))


class BpmnErrorBody(Lenient):
    workerId = WorkerId
    errorCode = fields.String(required=True, validate=validate.Length(1, 200))
    errorMessage = fields.String(load_default=None, allow_none=True)
    variables = Variables


class ExtendLockBody(Lenient):
    workerId = WorkerId
    newDuration = fields.Integer(required=True, validate=validate.Range(1, MAX_LOCK_MS))
