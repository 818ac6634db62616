"""Parse BPMN from Camunda Modeler (7 and 8), bpmn.io, Operaton/Flowable and SpiffWorkflow's
editor into SpiffWorkflow specs.

We extend SpiffWorkflow's Spiff parser (``SpiffBpmnParser``) through its extension points
(``OVERRIDE_PARSER_CLASSES``, ``PROCESS_PARSER_CLASS``), so ``spiffworkflow:*`` extensions keep
working; what we read from each dialect is in ``dialects``, the element parsers are in
``task_parsers`` and ``event_parsers``. At this level:

* Operaton, Flowable and Activiti namespaces are read as Camunda 7's (``dialects.normalize``);
* data stores need no implementation (``_add_data_stores``), data objects are variables;
* compensation boundary events are not waiting events: the activity parser attaches their
  handler (``compensation_handler``);
* several processes in one file may call each other; a file added twice (a process and the
  process it calls, both from one file) is parsed once;
* connector bindings (``bindings``) reach the service task parser through ``bindings_for``.
"""
from __future__ import annotations

import hashlib
from typing import Any, Mapping

from lxml import etree

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.ProcessParser import AdHocParser
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.defaults import (
    BoundaryEvent,
    EndEvent,
    ExclusiveGateway,
    InclusiveGateway,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    ParallelGateway,
    StartEvent,
)
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser, SpiffProcessParser
from SpiffWorkflow.spiff.specs.defaults import ReceiveTask, ScriptTask, SendTask, SubWorkflowTask
from SpiffWorkflow.spiff.specs.defaults import TransactionSubprocess

from . import bindings as binding_rules
from .dialects import NSMAP, is_camunda8, normalize
from .event_parsers import (BoundaryEventParser, CatchEventParser, EndEventParser,
                            ReceiveTaskParser, SendTaskParser, StartEventParser, ThrowEventParser)
from .suggestions import suggest_fields
from .tasks import ConnectorTask, DecisionTask, HumanTask, MappedCallActivity, PassThroughTask
from .task_parsers import (AdHocRefused, CallActivityParser, ConditionalGateway,
                           DecisionTaskParser, HumanTaskParser, PassThroughParser, PlainGateway,
                           ScriptTaskParser, ServiceTaskParser, SubprocessParser, check_expression)

__all__ = ["NSMAP", "OmniflowParser", "check_expression"]


class _CompensationLookup:
    """Compensation boundary events are handled apart from waiting ones."""

    def _compensation_boundaries(self) -> dict[str, Any]:
        found = getattr(self, "_compensation", None)
        if found is None:
            found = self._compensation = {}
            for node in self.xpath(".//bpmn:boundaryEvent[bpmn:compensateEventDefinition]"):
                found[node.get("attachedToRef")] = node
        return found

    def parse_io_spec(self):
        return None                    # Camunda ignores a process's ioSpecification; so do we

    def get_boundary_events(self, attached_to_ref):
        compensation = self._compensation_boundaries().get(attached_to_ref)
        return [n for n in super().get_boundary_events(attached_to_ref) if n is not compensation]

    def compensation_handler(self, activity_id: str) -> Any:
        """The handler node associated with the activity's compensation boundary event."""
        boundary = self._compensation_boundaries().get(activity_id)
        if boundary is None:
            return None
        boundary_id = boundary.get("id")
        for association in self.doc_xpath(".//bpmn:association"):
            ends = (association.get("sourceRef"), association.get("targetRef"))
            if boundary_id in ends:
                other = ends[1] if ends[0] == boundary_id else ends[0]
                handler = self.get_node_by_id(other)
                if handler is not None and handler.get("isForCompensation") == "true":
                    return handler
        raise ValidationException("a compensation boundary event needs an association to an "
                                  "activity with isForCompensation=\"true\"", node=boundary,
                                  file_name=self.filename)


class OmniflowProcessParser(_CompensationLookup, SpiffProcessParser):
    """One process."""


class OmniflowAdHocParser(_CompensationLookup, AdHocParser):
    """One ad hoc sub-process."""


class OmniflowParser(SpiffBpmnParser):
    """SpiffWorkflow's Spiff parser, reading Camunda and Zeebe attributes and running through our
    ports.

    No XSD validation: Camunda Modeler and bpmn.io write extension elements the Spiff schema does
    not know; structural faults are caught by the parse itself and reported with the element.
    ``bindings`` maps a BPMN file name to its connector bindings (``bindings.parse_bindings``).
    """

    PROCESS_PARSER_CLASS = OmniflowProcessParser
    AD_HOC_PARSER_CLASS = OmniflowAdHocParser
    DATA_STORE_CLASSES: dict = {}

    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("task"): (PassThroughParser, PassThroughTask),
        full_tag("manualTask"): (PassThroughParser, PassThroughTask),
        full_tag("userTask"): (HumanTaskParser, HumanTask),
        full_tag("businessRuleTask"): (DecisionTaskParser, DecisionTask),
        full_tag("serviceTask"): (ServiceTaskParser, ConnectorTask),
        full_tag("scriptTask"): (ScriptTaskParser, ScriptTask),
        full_tag("subProcess"): (SubprocessParser, SubWorkflowTask),
        full_tag("transaction"): (SubprocessParser, TransactionSubprocess),
        full_tag("callActivity"): (CallActivityParser, MappedCallActivity),
        full_tag("adHocSubProcess"): (AdHocRefused, SubWorkflowTask),
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

    def __init__(self, bindings: Mapping[str, Any] | None = None):
        super().__init__(namespaces=NSMAP, validator=None)
        self._bindings = dict(bindings or {})
        self._resolved: dict[str, dict] = {}
        self._camunda8: dict[str | None, bool] = {}
        self._seen: dict[bytes, str | None] = {}     # content digest -> file name
        self.notes: list[dict] = []

    def add_bpmn_xml(self, bpmn, filename=None):
        """Add one file (normalized to Camunda 7 names); the same content twice is added once."""
        root = bpmn.getroot() if hasattr(bpmn, "getroot") else bpmn
        digest = hashlib.sha256(etree.tostring(root)).digest()
        if digest in self._seen:
            return
        self._seen[digest] = filename
        root = normalize(root)
        self._camunda8[filename] = is_camunda8(root)
        super().add_bpmn_xml(root, filename)

    def get_spec(self, process_id, required=True):
        spec = super().get_spec(process_id, required=required)
        if spec is not None:
            suggest_fields(spec)
        return spec

    def _add_data_stores(self, bpmn):
        """Data stores are accepted without an implementation (nothing reads or writes them)."""

    def _find_dependencies(self, process):
        super()._find_dependencies(process)
        for node in process.xpath(".//bpmn:callActivity/bpmn:extensionElements/zeebe:calledElement",
                                  namespaces=NSMAP):
            if node.get("processId"):
                self.process_dependencies.add(node.get("processId"))

    def camunda8(self, filename: str | None) -> bool:
        """Whether ``filename`` was drawn for Camunda 8 (its conditions must be FEEL)."""
        return self._camunda8.get(filename, False)

    def bindings_for(self, filename: str | None) -> dict:
        """The connector bindings given for ``filename`` (parsed once)."""
        if filename not in self._resolved:
            raw = self._bindings.get(filename)
            try:
                self._resolved[filename] = {} if raw is None else binding_rules.parse_bindings(
                    binding_rules.bindings_file_for(filename or ""), raw)
            except binding_rules.BindingsInvalid as exc:
                raise ValidationException(str(exc), file_name=filename) from exc
        return self._resolved[filename]
