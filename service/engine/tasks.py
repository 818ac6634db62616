"""Task specs for the BPMN tasks Omniflow runs differently from stock SpiffWorkflow.

* :class:`HumanTask`: a user task that also carries who may do it, when it is due, its form and
  its properties (Camunda or Spiff attributes, read at parse time).
* :class:`DecisionTask`: a business rule task that asks the runtime's ``DecisionPort`` instead of
  SpiffWorkflow's own DMN engine.
* :class:`ConnectorTask`: a service task that calls the runtime's ``ConnectorPort``.

Specs are parsed once and shared by every instance and thread (see ``library``), so they hold
only what was modelled; everything about a run goes through ``task.workflow.script_engine``,
which belongs to one instance.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.spiff.specs.defaults import UserTask
from SpiffWorkflow.spiff.specs.spiff_task import SpiffBpmnTask

__all__ = ["Assignment", "ConnectorTask", "DecisionTask", "HumanTask", "RESULT_MAPPINGS"]

RESULT_MAPPINGS = ("singleEntry", "singleResult", "collectEntries", "resultList")


@dataclass(frozen=True)
class Assignment:
    """Who may work on a human task and when it is due, as modelled (expressions unevaluated;
    ``assignment.resolve`` evaluates them when the task becomes ready)."""

    candidate_groups: tuple[str, ...] = ()
    candidate_users: tuple[str, ...] = ()
    assignee: str | None = None
    due_date: str | None = None
    follow_up_date: str | None = None
    lane: str | None = None
    form: dict = field(default_factory=dict)
    properties: dict = field(default_factory=dict)


class HumanTask(UserTask):
    """A user task with its assignment; it waits until ``Instance.complete_task``."""

    def __init__(self, wf_spec, bpmn_id, assignment: Assignment | None = None, **kwargs):
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.assignment = assignment or Assignment()


class DecisionTask(SpiffBpmnTask):
    """Evaluate a deployed decision and map its result into the task data.

    Mapping (Camunda's ``camunda:mapDecisionResult``; the value from the port is a list of rule
    outputs, each a dict, or a plain value):

    * ``singleEntry``: the one output value of the one matched rule (``None`` if none matched);
    * ``singleResult``: the output dict of the one matched rule;
    * ``collectEntries``: the list of the single output value of every matched rule;
    * ``resultList``: the list of output dicts.

    The result goes into ``result_variable``. Without one, a dict result (``singleResult``, the
    default then) is merged into the task data, as SpiffWorkflow's ``calledDecisionId`` does; any
    other result is stored under the decision id.
    """

    def __init__(self, wf_spec, bpmn_id, decision_ref: str, result_variable: str | None = None,
                 mapping: str | None = None, **kwargs):
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.decision_ref = decision_ref
        self.result_variable = result_variable or None
        self.mapping = mapping or ("resultList" if self.result_variable else "singleResult")

    def _run_hook(self, my_task):
        my_task.workflow.script_engine.run_decision(my_task, self)
        return True


class ConnectorTask(SpiffBpmnTask):
    """Call a connector with evaluated parameters; store its result in ``result_variable``.

    ``params`` maps parameter names to expressions (text, see ``expressions``), or to nested dicts
    and lists of them (Camunda ``camunda:map``/``camunda:list``). A ``ConnectorError`` with a
    ``bpmn_error_code`` is routed to a matching error boundary event when the task has one.
    """

    def __init__(self, wf_spec, bpmn_id, connector: str, params: dict[str, Any] | None = None,
                 result_variable: str | None = None, **kwargs):
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.connector = connector
        self.params = dict(params or {})
        self.result_variable = result_variable or f"{bpmn_id}_result"

    def _run_hook(self, my_task):
        # None leaves the task STARTED: an error boundary event took over and will cancel it.
        return my_task.workflow.script_engine.run_connector(my_task, self)
