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
