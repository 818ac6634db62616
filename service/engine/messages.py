"""Message catch events, receive tasks and message boundary events, correlated simply.

SpiffWorkflow correlates messages through collaboration-level correlation keys evaluated on the
payload, which Camunda Modeler does not produce. Omniflow uses a rule that reads in both tools:

* the correlation of a waiting catch is a dict ``{key: value}`` computed from the process data
  when it starts waiting. Keys come from ``spiffworkflow:processVariableCorrelation`` (property id
  and expression) or, for Camunda/bpmn.io models, from a ``camunda:property`` named
  ``correlationKey`` on the catching element (or on the ``bpmn:message``) listing process variable
  names, comma separated (``po_id`` or ``order_id, line``);
* a delivered message matches a waiting catch of the same name when the payload holds every
  correlation key with an equal value (a catch without keys matches any payload);
* the payload goes into the variable named by ``spiffworkflow:messageVariable`` or
  ``camunda:resultVariable`` when there is one, otherwise it is merged into the task data.
"""
from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.util.event import BpmnEvent

__all__ = ["CorrelatedMessage"]


class CorrelatedMessage(MessageEventDefinition):
    """A message definition whose correlation is a plain dict computed from process data."""

    def __init__(self, name: str, correlation: dict[str, str] | None = None,
                 result_var: str | None = None, payload_expression: str | None = None, **kwargs: Any):
        super().__init__(name, [], **kwargs)
        # key -> expression over the process data (a plain variable name in the simple convention)
        self.correlation = dict(correlation or {})
        self.result_var = result_var
        self.payload_expression = payload_expression

    def catches(self, my_task, event):
        # Delivery is matched by Instance.deliver_message; an event thrown inside the process
        # (a message throw to the same process) is caught by name.
        return isinstance(event.event_definition, MessageEventDefinition) and \
            event.event_definition.name == self.name

    def update_task(self, my_task):
        if "correlation" not in my_task.internal_data:
            engine = my_task.workflow.script_engine
            values = {}
            for key, expression in self.correlation.items():
                try:
                    values[key] = engine.evaluate(my_task, expression)
                except Exception:  # a missing variable leaves the key unset: nothing will match
                    values[key] = None
            my_task.internal_data["correlation"] = values

    def update_task_data(self, my_task):
        payload = my_task.internal_data.pop(self.name, None)
        if payload is None:
            return
        if self.result_var:
            my_task.data[self.result_var] = payload
        elif isinstance(payload, dict):
            my_task.data.update(payload)

    def throw(self, my_task):
        if self.payload_expression:
            payload = my_task.workflow.script_engine.evaluate(my_task, self.payload_expression)
        else:
            payload = {}
        my_task.workflow.top_workflow.catch(BpmnEvent(self, payload=payload))

    def reset(self, my_task):
        my_task.internal_data.pop("correlation", None)
        super().reset(my_task)

    def matches(self, correlation: dict, payload: dict) -> bool:
        """Return whether ``payload`` carries every correlation value of a waiting catch."""
        return all(key in payload and payload[key] == value for key, value in correlation.items())

    def __eq__(self, other):
        return isinstance(other, MessageEventDefinition) and self.name == other.name
