"""Parse BPMN events: clock-aware timers, simply correlated messages, conditions, links,
compensation, and error variables.

* timers: our clock-aware definitions (``timers``); expressions compiled at deploy;
* messages: our correlation rule (``messages``), keys from ``spiffworkflow`` correlations,
  ``camunda:property correlationKey`` or Camunda 8's ``zeebe:subscription correlationKey``;
* conditional events: :class:`~service.engine.conditions.WatchedCondition`, compiled at deploy;
* link events: a link throw event continues at the link catch event of the same name in the
  same scope (resolved at deploy; a throw without its catch is refused);
* compensation: boundary events are read by the activity parser (they attach a handler, they
  do not wait), throw events become :class:`~service.engine.compensation.CompensationThrow`;
* error events keep ``camunda:errorCodeVariable``/``errorMessageVariable``;
* start events of event sub-processes remember whether they interrupt (``isInterrupting``);
  a process start event keeps ``camunda:initiator``.

Data associations of events are accepted and ignored, as for activities.
"""
from __future__ import annotations

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.parser.event_parsers import ERROR_EVENT_XPATH, ESCALATION_EVENT_XPATH
from SpiffWorkflow.bpmn.parser.util import first
from SpiffWorkflow.bpmn.specs.defaults import IntermediateThrowEvent
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
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

from .assignment import split_names
from .compensation import CompensationThrow
from .conditions import WatchedCondition
from .dialects import CAMUNDA_NS, NSMAP, camunda7, camunda8
from .expressions import is_expression
from .messages import CorrelatedMessage
from .task_parsers import ActivityParser, check_expression, check_language
from .timers import ClockCycle, ClockDuration, ClockTimeDate, check_literal

__all__ = ["BoundaryEventParser", "CatchEventParser", "EndEventParser", "ReceiveTaskParser",
           "SendTaskParser", "StartEventParser", "ThrowEventParser", "link_name"]

_C = "{" + CAMUNDA_NS + "}"


def link_name(node) -> str | None:
    """The link name of an event with a ``linkEventDefinition`` (None for other events)."""
    found = node.xpath("./bpmn:linkEventDefinition", namespaces=NSMAP)
    if not found:
        return None
    return (found[0].get("name") or node.get("name") or "").strip()


class _Events(SpiffEventDefinitionParser):
    """Event definitions as Omniflow runs them (see the module docstring)."""

    def parse_incoming_data_references(self):
        return []

    def parse_outgoing_data_references(self):
        return []

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
                else:
                    self._check_timer_text(xpath.rsplit(":", 1)[1], text)
                return cls(name, text, description=self.get_event_description(event))
        self.raise_validation_exception("a timer needs a timeDate, timeDuration or timeCycle")

    def _check_timer_text(self, kind: str, text: str) -> None:
        """An ISO 8601 literal, or (SpiffWorkflow's convention) a Python expression such as a
        variable name or ``"PT1H"``; anything else (a cron expression) is refused now."""
        try:
            check_literal(kind, text)
            return
        except (ValueError, TypeError, OverflowError) as exc:
            problem = exc
        try:
            check_expression(text, self.node, self.filename, "timer expression")
        except ValidationException:
            self.raise_validation_exception(
                f"timer {text!r} is neither an ISO 8601 date, duration or repeating interval "
                f"nor an expression (cron expressions are not supported): {problem}")

    def parse_conditional_event(self, event):
        condition = first(event.xpath("./bpmn:condition", namespaces=NSMAP))
        if condition is not None:
            check_language(condition, self.node, self.filename)
        text = (condition.text or "").strip() if condition is not None else ""
        if not text:
            self.raise_validation_exception("a conditional event needs a condition")
        check_expression(text, self.node, self.filename, "condition")
        return WatchedCondition(text, description=self.get_event_description(event))

    def parse_error_event(self, error_event):
        definition = super().parse_error_event(error_event)
        definition.code_variable = error_event.get(_C + "errorCodeVariable")
        definition.message_variable = error_event.get(_C + "errorMessageVariable")
        return definition

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
        keys = camunda7.properties(self.node).get("correlationKey")
        if keys is None and message is not None:
            keys = camunda7.properties(message).get("correlationKey")
        for key in split_names(keys):
            correlation.setdefault(key, key)
        zeebe_key = camunda8.correlation_key(message) if message is not None else None
        if zeebe_key:
            # Zeebe publishes one correlation value; we name it after the variable it reads
            # (``=orderId`` -> "orderId"), or "correlationKey" for any other expression.
            body = zeebe_key.lstrip("=").strip()
            correlation.setdefault(body if body.isidentifier() else "correlationKey",
                                   zeebe_key if zeebe_key.startswith("=") else f"={zeebe_key}")
        for expression in correlation.values():
            check_expression(expression, self.node, self.filename, "correlation expression")
        payload, variable = None, None
        for source in (message_event, message):
            if source is not None:
                found_payload, found_variable = self.parse_message_extensions(source)
                payload, variable = payload or found_payload, variable or found_variable
        variable = variable or self.node.get(_C + "resultVariable") or message_event.get(_C + "resultVariable")
        if payload:
            check_expression(payload, self.node, self.filename, "message payload")
        return CorrelatedMessage(name, correlation, variable, payload,
                                 description=self.get_event_description(message_event))

    def compensation(self):
        """``(True, activityRef)`` when this event throws compensation."""
        found = self.xpath("./bpmn:compensateEventDefinition")
        if not found:
            return False, None
        if (found[0].get("waitForCompletion") or "true").lower() == "false":
            self.raise_validation_exception("compensation with waitForCompletion=\"false\" is not "
                                            "supported")
        return True, (found[0].get("activityRef") or None)

    def pass_through(self):
        """A spec that passes immediately (a link event)."""
        return IntermediateThrowEvent(self.spec, self.bpmn_id, event_definition=NoneEventDefinition(),
                                      **self.bpmn_attributes)


class StartEventParser(_Events, SpiffStartEventParser):
    def get_event_definition(self, xpaths):
        # SpiffWorkflow reads no error or escalation definition on a start event, so an error
        # event sub-process would start with its process instead of waiting for the error.
        return super().get_event_definition([*xpaths, ERROR_EVENT_XPATH, ESCALATION_EVENT_XPATH])

    def create_task(self):
        task = super().create_task()
        parent = self.node.getparent()
        in_event_subprocess = (parent is not None and parent.tag.endswith("}subProcess")
                               and parent.get("triggeredByEvent") == "true")
        task.interrupting = in_event_subprocess and \
            (self.node.get("isInterrupting") or "true").lower() == "true"
        task.initiator_variable = camunda7.attr(self.node, "initiator")
        return task


class EndEventParser(_Events, SpiffEndEventParser):
    def create_task(self):
        compensate, activity = self.compensation()
        if compensate:
            task = CompensationThrow(self.spec, self.bpmn_id, activity_ref=activity,
                                     **self.bpmn_attributes)
            task.connect(self.spec.end)
            return task
        return super().create_task()


class CatchEventParser(_Events, SpiffIntermediateCatchEventParser):
    def create_task(self):
        if link_name(self.node) is not None:
            return self.pass_through()
        return super().create_task()


class ThrowEventParser(_Events, SpiffIntermediateThrowEventParser):
    def create_task(self):
        if link_name(self.node) is not None:
            return self.pass_through()
        compensate, activity = self.compensation()
        if compensate:
            return CompensationThrow(self.spec, self.bpmn_id, activity_ref=activity,
                                     **self.bpmn_attributes)
        return super().create_task()

    def parse_node(self):
        spec = super().parse_node()
        name = link_name(self.node)
        if name is not None:
            scope = self.node.getparent()
            catches = [n for n in scope.xpath("./bpmn:intermediateCatchEvent", namespaces=NSMAP)
                       if link_name(n) == name]
            if len(catches) != 1:
                problem = "no link catch event" if not catches else f"{len(catches)} link catch events"
                raise ValidationException(f"link {name!r}: {problem} of that name in the same "
                                          "process or sub-process", node=self.node,
                                          file_name=self.filename)
            self.task.connect(self.process_parser.parse_node(catches[0]))
        return spec


class BoundaryEventParser(_Events, SpiffBoundaryEventParser):
    pass


class SendTaskParser(_Events, ActivityParser, SpiffSendTaskParser):
    """A send task throws its message, unless Camunda/Zeebe give it an implementation (Camunda
    runs such a send task like a service task)."""

    def create_task(self):
        if self._implemented():
            pre, post = self.pre_post()
            return self.create_service(pre, post)
        return self.finish(SpiffSendTaskParser.create_task(self))

    def _implemented(self) -> bool:
        return any(self.node.get(_C + a) for a in ("class", "delegateExpression", "expression", "type")) \
            or bool(self.xpath("./bpmn:extensionElements/zeebe:taskDefinition")) \
            or bool(self.xpath("./bpmn:extensionElements/camunda:connector"))


class ReceiveTaskParser(_Events, ActivityParser, SpiffReceiveTaskParser):
    def create_task(self):
        return self.finish(SpiffReceiveTaskParser.create_task(self))
