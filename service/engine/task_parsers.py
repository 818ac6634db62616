"""Parse BPMN activities and gateways as Camunda 7, Camunda 8 and SpiffWorkflow files write them.

Every activity parser (:class:`ActivityParser`) also:

* reads the element's input/output mapping (``camunda:inputOutput`` or ``zeebe:ioMapping``) and
  compiles every expression in it;
* accepts data associations (to data objects and data stores) and ignores them: a data object
  is a process variable as far as the engine is concerned, and a data store needs no
  implementation;
* builds multi-instance activities from ``loopCardinality``, ``loopDataInputRef``,
  ``camunda:collection``/``elementVariable`` or ``zeebe:loopCharacteristics``;
* notes listeners it does not run (``ProcessDefinition.notes``).

Anything that would fail when an instance reaches it for a reason visible in the file (an
expression outside the supported languages, a script in JavaScript, Java code with no binding) is
refused here, at deploy, naming the element.
"""
from __future__ import annotations

import ast
from datetime import datetime, timezone
from typing import Any

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.parser.task_parsers import ConditionalGatewayParser, GatewayParser
from SpiffWorkflow.bpmn.parser.task_parsers import SubprocessParser as SpiffSubprocessParser
from SpiffWorkflow.bpmn.specs.data_spec import TaskDataReference
from SpiffWorkflow.spiff.parser.task_spec import SpiffTaskParser

from . import bindings as binding_rules
from .assignment import split_names
from .dialects import ModelError, camunda7, camunda8
from .expressions import ExpressionError, check_feel, classify, is_expression
from .forms import FormError, camunda_form, camunda_forms_schema, generic_form, inline_form
from .io_mapping import IoMapping, Literal, Parameter, Variable
from .juel import JuelError, compile_juel
from .ports import BINDINGS, Binding
from .multi_instance import ExpressionReference, ParallelInstances, SequentialInstances
from service.sandbox.python import Sandbox, ScriptRejected
from .spiff_compat import copy_task_attrs, spiff_extensions
from .tasks import (RESULT_MAPPINGS, Assignment, CallMappings, ConnectorTask, DecisionTask,
                    ExpressionTask, ExternalTask, MappedCallActivity)
from .timers import due_of

__all__ = ["ActivityParser", "AdHocRefused", "CallActivityParser", "ConditionalGateway", "DecisionTaskParser",
           "HumanTaskParser", "PassThroughParser", "PlainGateway", "ScriptTaskParser",
           "ServiceTaskParser", "SubprocessParser", "check_expression"]

_PYTHON = ("python", "python3", "text/x-python")


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
            _no_foreign_literals(body)
    except (ExpressionError, ScriptRejected, JuelError) as exc:
        raise ValidationException(f"invalid {what} {text.strip()!r}: {exc}", node=node,
                                  file_name=filename) from exc


def _no_foreign_literals(body: str) -> None:
    """``true``/``false``/``null`` in a Python expression are JUEL or JavaScript habits; they
    would fail as unknown names when an instance arrives, so they are refused now."""
    try:
        names = {n.id for n in ast.walk(ast.parse(body, mode="eval")) if isinstance(n, ast.Name)}
    except SyntaxError:
        return
    foreign = sorted(names & {"true", "false", "null", "undefined"})
    if foreign:
        raise ScriptRejected(f"{', '.join(foreign)} is not Python; write the condition as EL "
                             "(${...}), FEEL (=...) or Python with True/False/None")


_EXPRESSION_LANGUAGES = {"", "juel", "feel", "python", "http://www.omg.org/spec/feel/20140401",
                         "https://www.omg.org/spec/dmn/20191111/model/", "http://www.w3.org/1999/xpath"}


def check_language(expression_node: Any, element: Any, filename: str | None) -> None:
    """Refuse a condition written in a scripting language (``language="groovy"``)."""
    language = (expression_node.get("language") or "").strip().lower()
    if language and language not in _EXPRESSION_LANGUAGES and not language.startswith("http"):
        raise ValidationException(f"a condition in {language} is not run by this engine; write "
                                  "it as EL (${...}), FEEL (=...) or python", node=element,
                                  file_name=filename)


def check_value(value: Any, node: Any, filename: str | None, what: str) -> None:
    """Compile every expression in a parameter value tree."""
    if isinstance(value, (Literal, Variable)) or value is None:
        return
    if isinstance(value, dict):
        for item in value.values():
            check_value(item, node, filename, what)
    elif isinstance(value, (list, tuple)):
        for item in value:
            check_value(item, node, filename, what)
    else:
        check_expression(value, node, filename, what)


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


def check_scripts(parser: Any, *scripts: str | None) -> None:
    for script in scripts:
        if script:
            try:
                Sandbox.check(script, "exec")
            except ScriptRejected as exc:
                raise ValidationException(f"script refused: {exc}", node=parser.node,
                                          file_name=parser.filename) from exc


def _lane_of(parser: Any) -> str | None:
    refs = parser.doc_xpath(f".//bpmn:flowNodeRef[normalize-space(text())='{parser.bpmn_id}']")
    if not refs:
        return None
    lane = refs[0].getparent()
    return lane.get("name") or lane.get("id")


class ActivityParser(SpiffTaskParser):
    """What every activity parser shares (see the module docstring)."""

    PARALLEL_MI_CLASS = ParallelInstances
    SEQUENTIAL_MI_CLASS = SequentialInstances

    # -- shared helpers ---------------------------------------------------------------------

    def fail(self, message: str, node: Any = None) -> None:
        """Refuse the element (named by its id) at the line of ``node`` (default: the element)."""
        exc = ValidationException(message, node=self.node, file_name=self.filename)
        exc.line_number = (node if node is not None else self.node).sourceline
        raise exc

    def binding(self, zeebe_element: str, camunda_prefix: str) -> Binding | None:
        """The version binding of a business rule task or call activity: Camunda 7's
        ``camunda:<prefix>Binding`` (latest, deployment, version with ``<prefix>Version``,
        versionTag with ``<prefix>VersionTag``) or Camunda 8's ``bindingType`` (latest,
        deployment, versionTag with ``versionTag``) on ``zeebe:<element>``. ``None``: latest."""
        found = self.node.xpath(f"./bpmn:extensionElements/zeebe:{zeebe_element}",
                                namespaces=camunda8.NSMAP)
        if found:
            where, kind = found[0], (found[0].get("bindingType") or "").strip() or "latest"
            number, tag = None, (found[0].get("versionTag") or "").strip() or None
            allowed, what = ("latest", "deployment", "versionTag"), "bindingType"
        else:
            where = self.node
            kind = camunda7.attr(self.node, f"{camunda_prefix}Binding") or "latest"
            number = camunda7.attr(self.node, f"{camunda_prefix}Version")
            tag = camunda7.attr(self.node, f"{camunda_prefix}VersionTag")
            allowed, what = BINDINGS, f"camunda:{camunda_prefix}Binding"
        if kind not in allowed:
            self.fail(f"{what} {kind!r} is not one of {', '.join(allowed)}", where)
        for value in (number, tag):
            if value and (is_expression(value) or value.startswith("=")):
                self.fail(f"a version given as an expression ({value!r}) is not supported: "
                          "name the version", where)
        if kind == "version":
            if not number or not number.isdigit() or not 1 <= int(number) <= 2**31 - 1:
                self.fail(f"a version binding needs camunda:{camunda_prefix}Version, a "
                          f"version number (got {number!r})", where)
            return Binding("version", version=int(number))
        if kind == "versionTag":
            if not tag:
                self.fail(f"a versionTag binding needs the version tag "
                          f"({'versionTag' if found else f'camunda:{camunda_prefix}VersionTag'})",
                          where)
            return Binding("versionTag", version_tag=tag)
        return None if kind == "latest" else Binding(kind)

    def dialect(self, reader):
        """Call a dialect reader, turning its ModelError into a deploy error on this element."""
        try:
            return reader(self.node)
        except ModelError as exc:
            self.fail(str(exc), exc.node)

    def note(self, text: str) -> None:
        self.process_parser.parser.notes.append(
            {"file": self.filename, "element": self.bpmn_id, "line": self.node.sourceline,
             "note": text})

    def pre_post(self) -> tuple[str | None, str | None]:
        ext = self.parse_extensions()
        pre, post = ext.get("preScript"), ext.get("postScript")
        check_scripts(self, pre, post)
        return pre, post

    def io_mapping(self) -> IoMapping:
        mapping = self.dialect(camunda8.io_mapping) or IoMapping()
        if not mapping:
            mapping = self.dialect(camunda7.io_mapping)
        for parameter in (*mapping.inputs, *mapping.outputs):
            check_value(parameter.value, self.node, self.filename, "input/output mapping")
        return mapping

    def finish(self, task: Any, mapping: IoMapping | None = None) -> Any:
        """Attach the input/output mapping and note listeners we do not run."""
        task.io_mapping = self.io_mapping() if mapping is None else mapping
        for text in camunda7.listener_notes(self.node) + camunda8.listener_notes(self.node):
            self.note(text)
        return task

    # -- service implementations (service, send and business rule tasks) --------------------

    def create_service(self, pre, post):
        """Pick what runs the task, in this order: a SpiffWorkflow operator, a Zeebe job type, a
        Camunda external topic, a ``camunda:connector``, a ``camunda:expression``, or
        ``camunda:class``/``delegateExpression`` through a connector binding."""
        attrs = dict(prescript=pre, postscript=post, **self.bpmn_attributes)
        result = camunda7.attr(self.node, "resultVariable")
        operator = self.parse_extensions().get("serviceTaskOperator")
        if operator is not None:
            params = tuple(Parameter(k, v["value"]) for k, v in operator["parameters"].items())
            for parameter in params:
                check_expression(parameter.value, self.node, self.filename, "service task parameter")
            return self.finish(ConnectorTask(self.spec, self.bpmn_id, connector=operator["name"],
                                             params=params, result_variable=operator.get("resultVariable"),
                                             **attrs))
        job = self.dialect(camunda8.job)
        if job is not None:
            return self.finish(ExternalTask(self.spec, self.bpmn_id, topic=job.type, retries=job.retries,
                                            headers=job.headers, result_variable=result, **attrs))
        topic = camunda7.external_topic(self.node)
        if topic is not None:
            if not topic:
                self.fail("an external service task needs a camunda:topic")
            if is_expression(topic):
                self.fail(f"a topic given as an expression ({topic!r}) is not supported")
            return self.finish(ExternalTask(self.spec, self.bpmn_id, topic=topic,
                                            priority=camunda7.attr(self.node, "taskPriority"),
                                            result_variable=result, **attrs))
        connector, connector_io = self.dialect(camunda7.connector_id)
        if connector:
            return self._connector(connector, connector_io, result, attrs)
        expression = camunda7.attr(self.node, "expression")
        if expression:
            check_expression(expression, self.node, self.filename, "camunda:expression")
            return self.finish(ExpressionTask(self.spec, self.bpmn_id, expression=expression,
                                              result_variable=result, **attrs))
        java = camunda7.attr(self.node, "class") or camunda7.attr(self.node, "delegateExpression")
        if java:
            return self._bound(java, result, attrs)
        self.fail("a service task needs an implementation: camunda:type=\"external\" with a "
                  "topic, zeebe:taskDefinition, camunda:expression, camunda:connector, "
                  "spiffworkflow:serviceTaskOperator, or camunda:class/delegateExpression with "
                  "a connector binding")

    def _connector(self, name: str, io: IoMapping, result: str | None, attrs: dict) -> Any:
        for parameter in (*io.inputs, *io.outputs):
            check_value(parameter.value, self.node, self.filename, "connector parameter")
        own = self.io_mapping()
        task = ConnectorTask(self.spec, self.bpmn_id, connector=name,
                             params=tuple(io.inputs), result_variable=result, **attrs)
        return self.finish(task, IoMapping(own.inputs, own.outputs + io.outputs))

    def _bound(self, java: str, result: str | None, attrs: dict) -> Any:
        rules = self.process_parser.parser.bindings_for(self.filename)
        binding = binding_rules.resolve(rules, self.bpmn_id, java)
        kind = "camunda:class" if camunda7.attr(self.node, "class") else "camunda:delegateExpression"
        if binding is None:
            self.fail(f"{kind} {java!r} names Java code this engine does not have: bind it to a "
                      f"connector or an external task topic in "
                      f"{binding_rules.bindings_file_for(self.filename or 'the file')} "
                      f"(key {java!r} or {self.bpmn_id!r})")
        if binding.topic:
            return self.finish(ExternalTask(self.spec, self.bpmn_id, topic=binding.topic,
                                            result_variable=result, **attrs))
        own = self.io_mapping()
        task = ConnectorTask(self.spec, self.bpmn_id, connector=binding.connector,
                             params=tuple(own.inputs), result_variable=result, **attrs)
        return self.finish(task, IoMapping((), own.outputs))

    # -- SpiffWorkflow hooks ----------------------------------------------------------------

    def parse_io_spec(self):
        return None                    # Camunda ignores ioSpecification; so do we

    def parse_incoming_data_references(self):
        return []                      # data objects are variables; data stores need nothing

    def parse_outgoing_data_references(self):
        return []

    def _add_multiinstance_task(self, loop_characteristics):
        prefix = "./bpmn:multiInstanceLoopCharacteristics"
        if self.xpath(f"{prefix}/bpmn:loopCardinality") or self.xpath(f"{prefix}/bpmn:loopDataInputRef"):
            for node in self.xpath(f"{prefix}/bpmn:loopCardinality"):
                check_expression(node.text, self.node, self.filename, "loop cardinality")
            return super()._add_multiinstance_task(loop_characteristics)
        zeebe = None
        try:
            zeebe = camunda8.loop(loop_characteristics)
        except ModelError as exc:
            self.fail(str(exc), exc.node)
        collection, element = camunda7.collection(loop_characteristics)
        output, output_item = None, None
        if zeebe is not None:
            collection, element = zeebe.collection, zeebe.element
            output = TaskDataReference(zeebe.output_collection) if zeebe.output_collection else None
            output_item = (ExpressionReference(zeebe.output_element) if zeebe.output_element
                           and is_expression(zeebe.output_element) else
                           TaskDataReference(zeebe.output_element) if zeebe.output_element else None)
        if not collection:
            self.fail("a multi-instance activity needs loopCardinality, loopDataInputRef, "
                      "camunda:collection or zeebe:loopCharacteristics inputCollection")
        if is_expression(collection):
            check_expression(collection, self.node, self.filename, "collection")
            data_input = ExpressionReference(collection)
        else:
            data_input = TaskDataReference(collection)
        condition = self.xpath(f"{prefix}/bpmn:completionCondition")
        condition = condition[0].text if condition else None
        check_expression(condition, self.node, self.filename, "completion condition")
        sequential = loop_characteristics.get("isSequential") == "true"
        original = self.spec.task_specs.pop(self.task.name)
        params = {"task_spec": "", "cardinality": None, "data_input": data_input,
                  "data_output": output, "input_item": TaskDataReference(element) if element else None,
                  "output_item": output_item, "condition": condition}
        cls = self.SEQUENTIAL_MI_CLASS if sequential else self.PARALLEL_MI_CLASS
        self.task = cls(self.spec, original.name, description="MultiInstance", **params)
        copy_task_attrs(self, original, loop_characteristics)

    def parse_node(self):
        spec = super().parse_node()
        handler = self.process_parser.compensation_handler(self.bpmn_id)
        if handler is not None:
            handler_spec = self.process_parser.parse_node(handler)
            self.task.compensation_handler = handler_spec.name
            # A handler has no sequence flow in; SpiffWorkflow refuses to run a task without an
            # input, so it gets the activity it compensates (no flow is added to the activity).
            if not handler_spec.inputs:
                handler_spec.inputs = [self.task]
        return spec


class PassThroughParser(ActivityParser):
    """``bpmn:task`` and ``bpmn:manualTask`` (see ``tasks.PassThroughTask``)."""

    def create_task(self):
        pre, post = self.pre_post()
        return self.finish(self.spec_class(self.spec, self.bpmn_id, prescript=pre, postscript=post,
                                           **self.bpmn_attributes))


class HumanTaskParser(ActivityParser):
    def create_task(self):
        ext = self.parse_extensions()
        pre, post = self.pre_post()
        properties = {**ext.get("properties", {}), **camunda7.properties(self.node),
                      **camunda8.properties(self.node)}
        for value in properties.values():
            if isinstance(value, str) and value.startswith("="):
                check_expression(value, self.node, self.filename, "property expression")
        form, form_key = self._form(properties)
        lane = _lane_of(self)
        zeebe = self.dialect(camunda8.assignment)
        if zeebe is not None:
            groups, users = split_names(zeebe.candidate_groups), split_names(zeebe.candidate_users)
            assignee, due, follow_up = zeebe.assignee, zeebe.due_date, zeebe.follow_up_date
        else:
            groups = split_names(camunda7.attr(self.node, "candidateGroups"))
            users = split_names(camunda7.attr(self.node, "candidateUsers"))
            assignee = camunda7.attr(self.node, "assignee")
            due = camunda7.attr(self.node, "dueDate")
            follow_up = camunda7.attr(self.node, "followUpDate")
        assignment = Assignment(
            candidate_groups=groups or ((lane,) if lane else ()), candidate_users=users,
            assignee=assignee, due_date=due, follow_up_date=follow_up, lane=lane, form=form,
            properties=properties, form_key=form_key)
        check_assignment(assignment, self.node, self.filename)
        return self.finish(self.spec_class(self.spec, self.bpmn_id, assignment=assignment,
                                           variable=ext.get("variableName"), prescript=pre,
                                           postscript=post, **self.bpmn_attributes))

    def _form(self, properties: dict) -> tuple[dict, str | None]:
        try:
            form = camunda_form(self.node, camunda7.NSMAP)
            if not form and properties.get("formJsonSchema"):
                form = inline_form(properties.pop("formJsonSchema"))
            if form:
                return form, None
            key, embedded = camunda8.form(self.node)
            if embedded:
                return camunda_forms_schema(embedded, key), key
            key = key or camunda7.form_key(self.node) or properties.get("formJsonSchemaFilename")
            return generic_form(key), key
        except FormError as exc:
            self.fail(str(exc), exc.node)


class DecisionTaskParser(ActivityParser):
    @staticmethod
    def get_decision_ref(node):
        # SpiffWorkflow's DMN-aware parser collects these as dependencies; we only report them.
        ref = spiff_extensions(node).get("calledDecisionId")
        return ref or node.get("{%s}decisionRef" % camunda7.CAMUNDA_NS)

    def create_task(self):
        ext = self.parse_extensions()
        pre, post = self.pre_post()
        zeebe = self.dialect(camunda8.called_decision)
        if zeebe is not None:
            return self.finish(DecisionTask(
                self.spec, self.bpmn_id, decision_ref=zeebe.decision_id,
                result_variable=zeebe.result_variable, mapping="dmnResult", prescript=pre,
                postscript=post, binding=self.binding("calledDecision", "decisionRef"),
                **self.bpmn_attributes))
        job = self.dialect(camunda8.job)
        if job is not None or camunda7.external_topic(self.node) is not None:
            return self.create_service(pre, post)
        ref = ext.get("calledDecisionId") or camunda7.attr(self.node, "decisionRef")
        if not ref:
            self.fail("a business rule task needs a decision reference "
                      "(camunda:decisionRef, zeebe:calledDecision or spiffworkflow:calledDecisionId)")
        if is_expression(ref):
            self.fail(f"a decision reference given as an expression ({ref!r}) is not supported: "
                      "name the decision")
        mapping = camunda7.attr(self.node, "mapDecisionResult")
        if mapping is not None and mapping not in RESULT_MAPPINGS:
            self.fail(f"unsupported camunda:mapDecisionResult {mapping!r}")
        return self.finish(DecisionTask(
            self.spec, self.bpmn_id, decision_ref=ref.strip(),
            result_variable=camunda7.attr(self.node, "resultVariable"), mapping=mapping,
            prescript=pre, postscript=post, binding=self.binding("calledDecision", "decisionRef"),
            **self.bpmn_attributes))


class ServiceTaskParser(ActivityParser):
    """Service tasks: see ``ActivityParser.create_service``."""

    def create_task(self):
        pre, post = self.pre_post()
        return self.create_service(pre, post)


class ScriptTaskParser(ActivityParser):
    def create_task(self):
        pre, post = self.pre_post()
        attrs = dict(prescript=pre, postscript=post, **self.bpmn_attributes)
        zeebe = self.dialect(camunda8.script)
        if zeebe is not None:
            expression, result = zeebe
            check_expression(expression, self.node, self.filename, "zeebe:script expression")
            return self.finish(ExpressionTask(self.spec, self.bpmn_id, expression=expression,
                                              result_variable=result, **attrs))
        if camunda7.attr(self.node, "resource"):
            self.fail("a script loaded from a resource (camunda:resource) is not supported; "
                      "write the script in the file")
        language = (self.node.get("scriptFormat") or "python").strip().lower()
        script = next((c.text for c in self.node if isinstance(c.tag, str) and c.tag.endswith("script")), None)
        if not script or not script.strip():
            self.fail("a script task needs a script")
        result = camunda7.attr(self.node, "resultVariable")
        if language in ("juel", "feel"):
            text = script.strip() if language == "juel" else "=" + script.strip().lstrip("=")
            check_expression(text, self.node, self.filename, f"{language} script")
            return self.finish(ExpressionTask(self.spec, self.bpmn_id, expression=text,
                                              result_variable=result, **attrs))
        if language not in _PYTHON:
            self.fail(f"a {language} script is not run by this engine; write it in python "
                      "(restricted), FEEL or JUEL")
        if result:
            self.fail("camunda:resultVariable on a python script task is not supported; set the "
                      "variable in the script")
        check_scripts(self, script, pre, post)
        return self.finish(self.spec_class(self.spec, self.bpmn_id, script=script, **attrs))


class SubprocessParser(ActivityParser):
    """Embedded sub-processes, transactions and event sub-processes (SpiffWorkflow looks for
    ``triggeredByEvent`` in the BPMN namespace, where modelers never put it, and so never builds
    an event sub-process as one)."""

    def create_task(self):
        pre, post = self.pre_post()
        subworkflow_spec = SpiffSubprocessParser.get_subprocess_spec(self)
        triggered = (self.node.get("triggeredByEvent") or "").lower() == "true"
        cls = self.EVENT_SUBPROCESS_CLASS if triggered else self.spec_class
        return self.finish(cls(self.spec, self.bpmn_id, subworkflow_spec=subworkflow_spec,
                               prescript=pre, postscript=post, **self.bpmn_attributes))


class AdHocRefused(ActivityParser):
    """Ad hoc sub-processes: Camunda 7 does not run them and SpiffWorkflow's support needs its
    own editor's extensions; refused at deploy rather than failing when reached."""

    def create_task(self):
        self.fail("ad hoc sub-processes are not supported; model the activities with gateways")


class CallActivityParser(ActivityParser):
    def create_task(self):
        pre, post = self.pre_post()
        own = self.io_mapping()
        zeebe = self.dialect(camunda8.called_element)
        if zeebe is not None:
            called = zeebe.process_id
            mappings = CallMappings(inputs=(), all_in=zeebe.propagate_parent, outputs=(),
                                    all_out=zeebe.propagate_child, outputs_from_child=False)
            if not zeebe.propagate_parent:
                mappings = CallMappings(tuple(Parameter(p.target, Variable(p.target))
                                              for p in own.inputs),
                                        False, (), zeebe.propagate_child, False)
        else:
            called = (self.node.get("calledElement") or "").strip()
            if not called:
                self.fail("a call activity needs calledElement (or zeebe:calledElement processId)")
            if is_expression(called):
                self.fail(f"a called process given as an expression ({called!r}) is not "
                          "supported: name the process")
            found = self.dialect(camunda7.call_mappings)
            mappings = None
            if found is not None:
                mappings = CallMappings(found.inputs, found.all_in, found.outputs, found.all_out)
                for parameter in (*found.inputs, *found.outputs):
                    check_value(parameter.value, self.node, self.filename, "camunda:in/out")
        task = MappedCallActivity(self.spec, self.bpmn_id, subworkflow_spec=called,
                                  mappings=mappings, prescript=pre, postscript=post,
                                  **self.bpmn_attributes)
        task.binding = self.binding("calledElement", "calledElement")
        return self.finish(task, own)


class _FlowRecorder:
    """Keep each outgoing flow's id and name on the gateway spec, for ``gateway_taken`` events."""

    def _record(self, outgoing_task, flow_node):
        flows = getattr(self.task, "omniflow_flows", None)
        if flows is None:
            flows = self.task.omniflow_flows = {}
        flows[outgoing_task.name] = {"flow_id": flow_node.get("id"), "flow_name": flow_node.get("name")}


class ConditionalGateway(_FlowRecorder, ConditionalGatewayParser):
    def parse_incoming_data_references(self):
        return []

    def parse_outgoing_data_references(self):
        return []

    def connect_outgoing(self, outgoing_task, flow_node, is_default):
        self._record(outgoing_task, flow_node)
        if not is_default:
            for expression in flow_node.xpath("./bpmn:conditionExpression", namespaces=camunda7.NSMAP):
                check_language(expression, flow_node, self.filename)
            condition = self.parse_condition(flow_node)
            if condition is not None and self.process_parser.parser.camunda8(self.filename) \
                    and not condition.strip().startswith("="):
                raise ValidationException(
                    f"condition {condition.strip()!r}: Camunda 8 conditions are FEEL "
                    "expressions starting with '='", node=flow_node, file_name=self.filename)
            check_expression(condition, flow_node, self.filename, "condition")
        super().connect_outgoing(outgoing_task, flow_node, is_default)


class PlainGateway(_FlowRecorder, GatewayParser):
    def parse_incoming_data_references(self):
        return []

    def parse_outgoing_data_references(self):
        return []

    def connect_outgoing(self, outgoing_task, flow_node, is_default):
        self._record(outgoing_task, flow_node)
        super().connect_outgoing(outgoing_task, flow_node, is_default)
