"""Task specs for the BPMN tasks Omniflow runs differently from stock SpiffWorkflow.

* :class:`HumanTask`: a user task that also carries who may do it, when it is due, its form and
  its properties (Camunda or Spiff attributes, read at parse time).
* :class:`DecisionTask`: a business rule task that asks the runtime's ``DecisionPort`` instead of
  SpiffWorkflow's own DMN engine.
* :class:`ConnectorTask`: a service task that calls the runtime's ``ConnectorPort``.
* :class:`ExternalTask`: a service task done by an external worker (Camunda 7
  ``camunda:type="external"``, Camunda 8 ``zeebe:taskDefinition``); it waits, unless the
  service runs a connector of that topic itself (``ConnectorPort.handles``).
* :class:`ExpressionTask`: ``camunda:expression`` service tasks and ``zeebe:script`` tasks:
  evaluate one expression, keep the value in a variable.
* :class:`PassThroughTask`: ``bpmn:task`` and ``bpmn:manualTask``, which Camunda runs through.
* :class:`MappedCallActivity`: a call activity passing variables as ``camunda:in``/``out`` or
  ``zeebe:calledElement`` say.

Specs are parsed once and shared by every instance and thread (see ``library``), so they hold
only what was modelled; everything about a run goes through ``task.workflow.script_engine``,
which belongs to one instance.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from copy import deepcopy

from SpiffWorkflow.spiff.specs.defaults import CallActivity, NoneTask, UserTask
from SpiffWorkflow.spiff.specs.spiff_task import SpiffBpmnTask

from .io_mapping import evaluate_parameters, set_path, shadow

__all__ = ["Assignment", "CallMappings", "ConnectorTask", "DecisionTask", "ExpressionTask",
           "ExternalTask", "HumanTask", "MappedCallActivity", "PassThroughTask", "RESULT_MAPPINGS"]

#: Camunda 7's ``camunda:mapDecisionResult`` values, and ``dmnResult`` for Camunda 8's
#: ``zeebe:calledDecision`` (the decision's value as FEEL gives it: one row unwrapped).
RESULT_MAPPINGS = ("singleEntry", "singleResult", "collectEntries", "resultList", "dmnResult")


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
    form_key: str | None = None           # a form named but not listed (formKey, formRef, C8 form)


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

    The result goes into ``result_variable``. Without one, as SpiffWorkflow's ``calledDecisionId``
    does: a dict result (``singleResult``, the default then) is merged into the task data, and a
    one-output table's bare value is stored under that output column's name (under the decision
    id when the column has no name of its own, or for any other result).
    """

    def __init__(self, wf_spec, bpmn_id, decision_ref: str, result_variable: str | None = None,
                 mapping: str | None = None, binding=None, **kwargs):
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.decision_ref = decision_ref
        self.binding = binding            # ports.Binding, or None for the newest version
        self.result_variable = result_variable or None
        self.mapping = mapping or ("resultList" if self.result_variable else "singleResult")

    def _run_hook(self, my_task):
        my_task.workflow.script_engine.run_decision(my_task, self)
        return True


class ConnectorTask(SpiffBpmnTask):
    """Call a connector with evaluated parameters; store its result in ``result_variable``.

    ``params`` are :class:`~service.engine.io_mapping.Parameter` values (expressions, literals,
    or nested lists and maps of them, as ``camunda:list``/``camunda:map`` write them). A
    ``ConnectorError`` with a ``bpmn_error_code`` goes to what catches that error (see
    ``catching``).
    """

    def __init__(self, wf_spec, bpmn_id, connector: str, params: tuple = (),
                 result_variable: str | None = None, **kwargs):
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.connector = connector
        self.params = tuple(params)
        self.result_variable = result_variable or f"{bpmn_id}_result"

    def _run_hook(self, my_task):
        # None leaves the task STARTED: an error boundary event took over and will cancel it.
        return my_task.workflow.script_engine.run_connector(my_task, self)


class ExternalTask(SpiffBpmnTask):
    """Work for an external worker that fetches tasks by ``topic`` (Camunda's external task
    pattern, Zeebe's job type). While it waits the task is STARTED and listed by
    ``Instance.external_tasks``; ``complete_external`` or ``throw_bpmn_error`` end it.

    ``retries`` is the model's hint (``zeebe:taskDefinition retries``); ``headers`` are Zeebe
    task headers; ``priority`` is ``camunda:taskPriority``.
    """

    def __init__(self, wf_spec, bpmn_id, topic: str, retries: int | None = None,
                 headers: dict | None = None, priority: str | None = None,
                 result_variable: str | None = None, **kwargs):
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.topic = topic
        self.retries = retries
        self.headers = dict(headers or {})
        self.priority = priority
        self.result_variable = result_variable or f"{bpmn_id}_result"

    def _run_hook(self, my_task):
        # True when a connector of the service ran it; None: it waits for a worker (STARTED).
        return my_task.workflow.script_engine.run_external(my_task, self)


class ExpressionTask(SpiffBpmnTask):
    """Evaluate ``expression`` and keep its value in ``result_variable`` (when there is one)."""

    def __init__(self, wf_spec, bpmn_id, expression: str, result_variable: str | None = None,
                 **kwargs):
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.expression = expression
        self.result_variable = result_variable

    def _run_hook(self, my_task):
        value = my_task.workflow.script_engine.evaluate(my_task, self.expression)
        if self.result_variable:
            set_path(my_task.data, self.result_variable, value)
        return True


class PassThroughTask(NoneTask):
    """``bpmn:task`` and ``bpmn:manualTask``: nothing to do, so the token passes (Camunda's
    behaviour; SpiffWorkflow would wait for someone to complete them, with no one asked)."""

    def __init__(self, wf_spec, bpmn_id, **kwargs):
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.manual = False


@dataclass(frozen=True)
class CallMappings:
    """What a call activity passes. ``inputs``/``outputs`` are parameters evaluated against the
    caller's data (in) and the called process's end data (out); ``all_in``/``all_out`` pass every
    variable as well. ``outputs_from_child`` False: the outputs are the activity's own output
    mappings (Zeebe), evaluated after the child's variables were made visible to them."""

    inputs: tuple = ()
    all_in: bool = True
    outputs: tuple = ()
    all_out: bool = True
    outputs_from_child: bool = True


class MappedCallActivity(CallActivity):
    """A call activity that passes variables as the model says (see :class:`CallMappings`).

    Without mappings it behaves as SpiffWorkflow's: all variables in, all variables out.
    """

    def __init__(self, wf_spec, bpmn_id, subworkflow_spec, mappings: CallMappings | None = None,
                 **kwargs):
        super().__init__(wf_spec, bpmn_id, subworkflow_spec, **kwargs)
        self.mappings = mappings

    def copy_data(self, my_task, subworkflow):
        mappings = self.mappings
        if mappings is None:
            return super().copy_data(my_task, subworkflow)
        start = subworkflow.get_next_task(subworkflow.task_tree, skip_subprocesses=True,
                                          spec_name="Start")
        data = deepcopy(my_task.data) if mappings.all_in else {}
        for target, value in evaluate_parameters(my_task, mappings.inputs):
            set_path(data, target, value)
        start.set_data(**data)

    def update_data(self, my_task, subworkflow):
        mappings = self.mappings
        if mappings is None:
            return super().update_data(my_task, subworkflow)
        child = subworkflow.last_task.data
        if mappings.all_out:
            my_task.data.update(deepcopy(child))
        elif not mappings.outputs_from_child:
            # Zeebe: the child's variables are visible to the output mappings, then dropped.
            shadow(my_task, [name for name in child if name not in my_task.data])
            my_task.data.update(deepcopy(child))
        if mappings.outputs_from_child:
            for target, value in evaluate_parameters(my_task, mappings.outputs, data=child):
                set_path(my_task.data, target, value)
