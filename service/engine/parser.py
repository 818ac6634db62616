"""Parse BPMN from Camunda Modeler, bpmn.io and SpiffWorkflow's editor into SpiffWorkflow specs.

We extend SpiffWorkflow's Spiff parser (``SpiffBpmnParser``) through its extension point,
``OVERRIDE_PARSER_CLASSES``, so that ``spiffworkflow:*`` extensions keep working and the Camunda
attributes analysts use are read too:

* user/manual tasks: ``camunda:candidateGroups``, ``candidateUsers``, ``assignee``, ``dueDate``,
  ``formData``; lanes become candidate groups (lane name, or lane id when unnamed);
  ``camunda:properties`` and ``spiffworkflow:properties`` become the task's properties;
* business rule tasks: ``spiffworkflow:calledDecisionId`` or ``camunda:decisionRef`` with
  ``camunda:mapDecisionResult`` and ``camunda:resultVariable``, run through our DecisionPort;
* service tasks: ``spiffworkflow:serviceTaskOperator`` or Camunda's external topic,
  ``delegateExpression``, ``class`` or ``camunda:connector`` with ``camunda:inputOutput``;
* timers: our clock-aware definitions (``timers``); messages: our correlation rule (``messages``);
* scripts and conditions are compiled at parse time (restricted Python or FEEL) so a bad one is
  reported at deploy, not when an instance reaches it.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.parser.node_parser import DEFAULT_NSMAP
from SpiffWorkflow.bpmn.parser.task_parsers import ConditionalGatewayParser, GatewayParser
from SpiffWorkflow.bpmn.parser.util import first
from SpiffWorkflow.bpmn.specs.defaults import ExclusiveGateway, InclusiveGateway, ParallelGateway
from SpiffWorkflow.spiff.parser.event_parsers import (
    SpiffBoundaryEventParser,
    SpiffEndEventParser,
    SpiffEventDefinitionParser,
    SpiffIntermediateCatchEventParser,
    SpiffIntermediateThrowEventParser,
    SpiffReceiveTaskParser,
    SpiffSendTaskParser,
    SpiffStartEventParser,
)
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import SPIFFWORKFLOW_NSMAP, SpiffTaskParser
from SpiffWorkflow.spiff.parser.task_spec import ScriptTaskParser as SpiffScriptTaskParser
from SpiffWorkflow.bpmn.specs.defaults import (
    BoundaryEvent,
    EndEvent,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    StartEvent,
)
from SpiffWorkflow.spiff.specs.defaults import ReceiveTask, ScriptTask, SendTask

from service.sandbox.python import Sandbox, ScriptRejected

from .assignment import split_names
from .expressions import ExpressionError, check_feel, classify, is_expression
from .juel import JuelError, compile_juel
from .forms import FormError, camunda_form, inline_form
from .messages import CorrelatedMessage
from .spiff_compat import spiff_extensions
from .tasks import RESULT_MAPPINGS, Assignment, ConnectorTask, DecisionTask, HumanTask
from .timers import ClockCycle, ClockDuration, ClockTimeDate, due_of

__all__ = ["CAMUNDA_NS", "NSMAP", "OmniflowParser", "SPIFF_NS", "check_expression"]

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
SPIFF_NS = SPIFFWORKFLOW_NSMAP["spiffworkflow"]
NSMAP = {**DEFAULT_NSMAP, "camunda": CAMUNDA_NS, "spiffworkflow": SPIFF_NS}
_C = "{" + CAMUNDA_NS + "}"


def check_expression(text: str | None, node: Any, filename: str | None, what: str) -> None:
    """Compile an expression (FEEL, EL ``${...}`` or restricted Python) or raise ValidationException."""
    if text is None or not text.strip():
        return
    language, body = classify(text)
    try:
        if language == "feel":
            check_feel(body)
        elif language == "juel":
            compile_juel(body)
        else:
            Sandbox.check(body, "eval")
    except (ExpressionError, ScriptRejected, JuelError) as exc:
        raise ValidationException(f"invalid {what} {text.strip()!r}: {exc}", node=node,
                                  file_name=filename) from exc


def check_assignment(assignment: Assignment, node: Any, filename: str | None) -> None:
    """Compile every expression of a human task's assignment (deploy-time, with the element)."""
    for what, texts in (("candidate group", assignment.candidate_groups),
                        ("candidate user", assignment.candidate_users),
                        ("assignee", (assignment.assignee,)), ("due date", (assignment.due_date,)),
                        ("follow-up date", (assignment.follow_up_date,))):
        for text in texts:
            if text and is_expression(text):
                check_expression(text, node, filename, what)
            elif text and what in ("due date", "follow-up date"):
                try:
                    due_of(text, datetime.now(timezone.utc))
                except (ValueError, TypeError) as exc:
                    raise ValidationException(f"invalid {what} {text!r}: an ISO date, date-time "
                                              "or duration, or an expression", node=node,
                                              file_name=filename) from exc


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def _camunda_properties(node: Any) -> dict[str, str]:
    props = {}
    for prop in node.xpath("./bpmn:extensionElements/camunda:properties/camunda:property",
                           namespaces=NSMAP):
        if prop.get("name"):
            props[prop.get("name")] = prop.get("value", "")
    return props


def _lane_of(parser: TaskParser) -> str | None:
    ref = first(parser.doc_xpath(f".//bpmn:flowNodeRef[normalize-space(text())='{parser.bpmn_id}']"))
    if ref is None:
        return None
    lane = ref.getparent()
    return lane.get("name") or lane.get("id")


def _check_scripts(parser: TaskParser, *scripts: str | None) -> None:
    for script in scripts:
        if script:
            try:
                Sandbox.check(script, "exec")
            except ScriptRejected as exc:
                raise ValidationException(f"script refused: {exc}", node=parser.node,
                                          file_name=parser.filename) from exc


class _TaskMixin(SpiffTaskParser):
    """Pre/post scripts are compiled at parse time like any other script."""

    def _pre_post(self) -> tuple[str | None, str | None]:
        ext = self.parse_extensions()
        pre, post = ext.get("preScript"), ext.get("postScript")
        _check_scripts(self, pre, post)
        return pre, post


class HumanTaskParser(_TaskMixin):
    def create_task(self):
        ext = self.parse_extensions()
        pre, post = self._pre_post()
        properties = {**ext.get("properties", {}), **_camunda_properties(self.node)}
        for value in properties.values():
            if isinstance(value, str) and value.startswith("="):
                check_expression(value, self.node, self.filename, "property expression")
        try:
            form = camunda_form(self.node, NSMAP)
            if not form and properties.get("formJsonSchema"):
                form = inline_form(properties.pop("formJsonSchema"))
        except FormError as exc:
            raise ValidationException(str(exc), node=exc.node if exc.node is not None else self.node,
                                      file_name=self.filename) from exc
        lane = _lane_of(self)
        groups = split_names(self.node.get(f"{_C}candidateGroups")) or ((lane,) if lane else ())
        assignment = Assignment(
            candidate_groups=groups,
            candidate_users=split_names(self.node.get(f"{_C}candidateUsers")),
            assignee=(self.node.get(f"{_C}assignee") or "").strip() or None,
            due_date=(self.node.get(f"{_C}dueDate") or "").strip() or None,
            follow_up_date=(self.node.get(f"{_C}followUpDate") or "").strip() or None,
            lane=lane,
            form=form,
            properties=properties,
        )
        check_assignment(assignment, self.node, self.filename)
        return self.spec_class(self.spec, self.bpmn_id, assignment=assignment,
                               variable=ext.get("variableName"), prescript=pre, postscript=post,
                               **self.bpmn_attributes)


class DecisionTaskParser(_TaskMixin):
    @staticmethod
    def get_decision_ref(node):
        # SpiffWorkflow's DMN-aware parser collects these as dependencies; we only report them.
        ref = spiff_extensions(node).get("calledDecisionId")
        return ref or node.get(f"{_C}decisionRef")

    def create_task(self):
        ext = self.parse_extensions()
        pre, post = self._pre_post()
        ref = ext.get("calledDecisionId") or self.node.get(f"{_C}decisionRef")
        if not ref or not ref.strip():
            self.raise_validation_exception("a business rule task needs a decision reference "
                                            "(spiffworkflow:calledDecisionId or camunda:decisionRef)")
        mapping = self.node.get(f"{_C}mapDecisionResult")
        if mapping is not None and mapping not in RESULT_MAPPINGS:
            self.raise_validation_exception(f"unsupported camunda:mapDecisionResult {mapping!r}")
        return DecisionTask(self.spec, self.bpmn_id, decision_ref=ref.strip(),
                            result_variable=self.node.get(f"{_C}resultVariable"), mapping=mapping,
                            prescript=pre, postscript=post, **self.bpmn_attributes)


class ConnectorTaskParser(_TaskMixin):
    def create_task(self):
        ext = self.parse_extensions()
        pre, post = self._pre_post()
        operator = ext.get("serviceTaskOperator")
        if operator is not None:
            name = operator["name"]
            params: dict[str, Any] = {k: v["value"] for k, v in operator["parameters"].items()}
            result = operator.get("resultVariable")
        else:
            name = self._camunda_connector()
            params = self._camunda_inputs()
            result = self.node.get(f"{_C}resultVariable")
        if not name:
            self.raise_validation_exception(
                "a service task needs a connector: spiffworkflow:serviceTaskOperator, "
                "camunda:topic (type external), camunda:delegateExpression, camunda:class "
                "or camunda:connector")
        self._check_params(params)
        return ConnectorTask(self.spec, self.bpmn_id, connector=name, params=params,
                             result_variable=result, prescript=pre, postscript=post,
                             **self.bpmn_attributes)

    def _camunda_connector(self) -> str | None:
        node = self.node
        if node.get(f"{_C}type") == "external":
            return (node.get(f"{_C}topic") or "").strip() or None
        delegate = node.get(f"{_C}delegateExpression")
        if delegate:
            body = delegate.strip()
            return body[2:-1].strip() if body[:2] in ("${", "#{") and body.endswith("}") else body
        if node.get(f"{_C}class"):
            return node.get(f"{_C}class").strip()
        connector_id = first(self.xpath("./bpmn:extensionElements/camunda:connector/camunda:connectorId"))
        if connector_id is not None and connector_id.text:
            return connector_id.text.strip()
        return None

    def _camunda_inputs(self) -> dict[str, Any]:
        params = {}
        for node in self.xpath("./bpmn:extensionElements//camunda:inputOutput/camunda:inputParameter"):
            params[node.get("name")] = self._value(node)
        return params

    def _value(self, node: Any) -> Any:
        children = [c for c in node if isinstance(c.tag, str)]
        if children:
            child = children[0]
            if child.tag == f"{_C}map":
                return {entry.get("key"): self._value(entry) for entry in child if entry.tag == f"{_C}entry"}
            if child.tag == f"{_C}list":
                return [self._value(item) for item in child if isinstance(item.tag, str)]
            if child.tag == f"{_C}value":
                return self._value(child)
            raise ValidationException(f"unsupported input parameter content {child.tag}",
                                      node=self.node, file_name=self.filename)
        text = (node.text or "").strip()
        if is_expression(text):
            return text
        return repr(text)  # a literal: a Python string expression

    def _check_params(self, params: Any) -> None:
        values = params.values() if isinstance(params, dict) else params
        for value in values:
            if isinstance(value, (dict, list)):
                self._check_params(value)
            else:
                check_expression(value, self.node, self.filename, "service task parameter")


class ScriptTaskParser(SpiffScriptTaskParser, _TaskMixin):
    def create_task(self):
        language = (self.node.get("scriptFormat") or "python").strip().lower()
        if language not in ("python", "python3", "text/x-python"):
            self.raise_validation_exception(f"script format {language!r} is not supported; use python")
        task = super().create_task()
        if not task.script or not task.script.strip():
            self.raise_validation_exception("a script task needs a script")
        _check_scripts(self, task.script, task.prescript, task.postscript)
        return task


class _FlowRecorder:
    """Keep each outgoing flow's id and name on the gateway spec, for ``gateway_taken`` events."""

    def _record(self, outgoing_task, flow_node):
        flows = getattr(self.task, "omniflow_flows", None)
        if flows is None:
            flows = self.task.omniflow_flows = {}
        flows[outgoing_task.name] = {"flow_id": flow_node.get("id"), "flow_name": flow_node.get("name")}


class ConditionalGateway(_FlowRecorder, ConditionalGatewayParser):
    def connect_outgoing(self, outgoing_task, flow_node, is_default):
        self._record(outgoing_task, flow_node)
        if not is_default:
            check_expression(self.parse_condition(flow_node), flow_node, self.filename, "condition")
        super().connect_outgoing(outgoing_task, flow_node, is_default)


class PlainGateway(_FlowRecorder, GatewayParser):
    def connect_outgoing(self, outgoing_task, flow_node, is_default):
        self._record(outgoing_task, flow_node)
        super().connect_outgoing(outgoing_task, flow_node, is_default)


class _Events(SpiffEventDefinitionParser):
    """Clock-aware timers and simply correlated messages (see ``timers`` and ``messages``)."""

    def parse_timer_event(self, event):
        name = self.node.get("name", self.node.get("id"))
        for xpath, cls in ((".//bpmn:timeDate", ClockTimeDate),
                           (".//bpmn:timeDuration", ClockDuration),
                           (".//bpmn:timeCycle", ClockCycle)):
            node = first(self.xpath(xpath))
            if node is not None:
                text = (node.text or "").strip()
                if not text:
                    self.raise_validation_exception("a timer needs a value")
                if is_expression(text):
                    check_expression(text, self.node, self.filename, "timer expression")
                return cls(name, text, description=self.get_event_description(event))
        self.raise_validation_exception("a timer needs a timeDate, timeDuration or timeCycle")

    def parse_message_event(self, message_event):
        ref = message_event.get("messageRef")
        message = None
        if ref:
            message = first(self.doc_xpath(f'.//bpmn:message[@id="{ref}"]'))
            if message is None:
                self.raise_validation_exception(f"message {ref!r} is not defined in this file")
            name = message.get("name") or ref
        else:
            name = self.node.get("name") or self.node.get("id")
        correlation: dict[str, str] = {}
        for prop in message_event.xpath(".//spiffworkflow:processVariableCorrelation", namespaces=NSMAP):
            key = first(prop.xpath("./spiffworkflow:propertyId", namespaces=NSMAP))
            expression = first(prop.xpath("./spiffworkflow:expression", namespaces=NSMAP))
            if key is not None and expression is not None:
                correlation[key.text.strip()] = expression.text.strip()
        keys = _camunda_properties(self.node).get("correlationKey")
        if keys is None and message is not None:
            keys = _camunda_properties(message).get("correlationKey")
        for key in _split(keys):
            correlation.setdefault(key, key)
        for expression in correlation.values():
            check_expression(expression, self.node, self.filename, "correlation expression")
        payload, variable = None, None
        for source in (message_event, message):
            if source is not None:
                found_payload, found_variable = self.parse_message_extensions(source)
                payload, variable = payload or found_payload, variable or found_variable
        variable = variable or self.node.get(f"{_C}resultVariable") or message_event.get(f"{_C}resultVariable")
        if payload:
            check_expression(payload, self.node, self.filename, "message payload")
        return CorrelatedMessage(name, correlation, variable, payload,
                                 description=self.get_event_description(message_event))


class StartEventParser(_Events, SpiffStartEventParser):
    pass


class EndEventParser(_Events, SpiffEndEventParser):
    pass


class CatchEventParser(_Events, SpiffIntermediateCatchEventParser):
    pass


class ThrowEventParser(_Events, SpiffIntermediateThrowEventParser):
    pass


class BoundaryEventParser(_Events, SpiffBoundaryEventParser):
    pass


class SendTaskParser(_Events, SpiffSendTaskParser):
    pass


class ReceiveTaskParser(_Events, SpiffReceiveTaskParser):
    pass


class OmniflowParser(SpiffBpmnParser):
    """SpiffWorkflow's Spiff parser, reading Camunda attributes and running through our ports.

    No XSD validation: Camunda Modeler and bpmn.io write extension elements the Spiff schema does
    not know; structural faults are caught by the parse itself and reported with the element.
    """

    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("userTask"): (HumanTaskParser, HumanTask),
        full_tag("manualTask"): (HumanTaskParser, HumanTask),
        full_tag("businessRuleTask"): (DecisionTaskParser, DecisionTask),
        full_tag("serviceTask"): (ConnectorTaskParser, ConnectorTask),
        full_tag("scriptTask"): (ScriptTaskParser, ScriptTask),
        full_tag("exclusiveGateway"): (ConditionalGateway, ExclusiveGateway),
        full_tag("inclusiveGateway"): (ConditionalGateway, InclusiveGateway),
        full_tag("parallelGateway"): (PlainGateway, ParallelGateway),
        full_tag("startEvent"): (StartEventParser, StartEvent),
        full_tag("endEvent"): (EndEventParser, EndEvent),
        full_tag("intermediateCatchEvent"): (CatchEventParser, IntermediateCatchEvent),
        full_tag("intermediateThrowEvent"): (ThrowEventParser, IntermediateThrowEvent),
        full_tag("boundaryEvent"): (BoundaryEventParser, BoundaryEvent),
        full_tag("sendTask"): (SendTaskParser, SendTask),
        full_tag("receiveTask"): (ReceiveTaskParser, ReceiveTask),
    }

    def __init__(self):
        super().__init__(namespaces=NSMAP, validator=None)
