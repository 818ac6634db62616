"""Activities as Camunda files write them: pass-through tasks, data, mappings, multi-instance,
calls between processes of one file, bindings for Java code and generic forms."""
from __future__ import annotations

import pytest

from service.engine import ProcessLibrary, parse_definitions
from service.errors import DefinitionInvalid

from bpmn_text import chain, definitions, flow, process


def _one(key: str, body: str, **kwargs) -> dict[str, bytes]:
    return {f"{key}.bpmn": definitions(process(key, body), **kwargs)}


def _complete_all(instance, data_for=lambda task: {}, limit=20):
    for _ in range(limit):
        tasks = instance.user_tasks()
        if not tasks or instance.status != "waiting":
            return
        instance.complete_task(tasks[0].id, data_for(tasks[0]), actor="ann")


def test_plain_and_manual_tasks_run_through(library, runtime):
    body = "\n".join(['<bpmn:startEvent id="s" />', '<bpmn:task id="t" name="Note it" />',
                      '<bpmn:manualTask id="m" name="Sign paper" />', '<bpmn:endEvent id="e" />',
                      chain("s", "t", "m", "e")])
    instance = runtime.start(library.spec("plain", 1, _one("plain", body)), {"x": 1})
    assert instance.status == "completed" and instance.data["x"] == 1


def test_data_objects_stores_and_associations_are_accepted(library, runtime):
    body = "\n".join([
        '<bpmn:dataObject id="DataObject_order" />',
        '<bpmn:dataObjectReference id="order" dataObjectRef="DataObject_order" />',
        '<bpmn:dataStoreReference id="ledger_ref" dataStoreRef="ledger" />',
        '<bpmn:startEvent id="s" />',
        '<bpmn:scriptTask id="write" scriptFormat="python">'
        '<bpmn:dataOutputAssociation id="a1"><bpmn:targetRef>order</bpmn:targetRef></bpmn:dataOutputAssociation>'
        '<bpmn:dataInputAssociation id="a2"><bpmn:sourceRef>ledger_ref</bpmn:sourceRef></bpmn:dataInputAssociation>'
        '<bpmn:script>order = {"id": 7}</bpmn:script></bpmn:scriptTask>',
        '<bpmn:userTask id="read"><bpmn:dataInputAssociation id="a3"><bpmn:sourceRef>order</bpmn:sourceRef>'
        '</bpmn:dataInputAssociation></bpmn:userTask>',
        '<bpmn:endEvent id="e" />', chain("s", "write", "read", "e")])
    files = {"data.bpmn": definitions(
        '<bpmn:dataStore id="ledger" name="General ledger" />' + process("data", body))}
    parse_definitions(files)
    instance = runtime.start(library.spec("data", 1, files), {})
    [task] = instance.user_tasks()
    assert task.data["order"] == {"id": 7}        # a data object is a process variable
    _complete_all(instance)
    assert instance.status == "completed"


def test_input_output_mapping_on_a_user_task_keeps_inputs_local(library, runtime):
    body = "\n".join([
        '<bpmn:startEvent id="s" />',
        '<bpmn:userTask id="review"><bpmn:extensionElements><camunda:inputOutput>'
        '<camunda:inputParameter name="limit">${amount * 2}</camunda:inputParameter>'
        '<camunda:inputParameter name="label">Review ${order}</camunda:inputParameter>'
        '<camunda:inputParameter name="lines"><camunda:list><camunda:value>a</camunda:value>'
        '<camunda:value>${order}</camunda:value></camunda:list></camunda:inputParameter>'
        '<camunda:outputParameter name="verdict">${approved ? "yes" : "no"}</camunda:outputParameter>'
        '</camunda:inputOutput></bpmn:extensionElements></bpmn:userTask>',
        '<bpmn:endEvent id="e" />', chain("s", "review", "e")])
    instance = runtime.start(library.spec("io", 1, _one("io", body)), {"amount": 21, "order": "A-1",
                                                                        "label": "kept"})
    [task] = instance.user_tasks()
    assert task.data["limit"] == 42 and task.data["label"] == "Review A-1"
    assert task.data["lines"] == ["a", "A-1"]
    instance.complete_task(task.id, {"approved": True}, actor="ann")
    assert instance.status == "completed"
    data = instance.data
    assert data["verdict"] == "yes" and data["approved"] is True
    assert "limit" not in data and "lines" not in data and data["label"] == "kept"


def test_a_bad_mapping_expression_is_refused_at_deploy():
    body = ('<bpmn:startEvent id="s" /><bpmn:scriptTask id="calc" scriptFormat="python">'
            '<bpmn:extensionElements><camunda:inputOutput><camunda:inputParameter name="x">'
            '${order.total()}</camunda:inputParameter></camunda:inputOutput></bpmn:extensionElements>'
            '<bpmn:script>y = 1</bpmn:script></bpmn:scriptTask><bpmn:endEvent id="e" />'
            + chain("s", "calc", "e"))
    with pytest.raises(DefinitionInvalid) as info:
        parse_definitions(_one("bad_io", body))
    assert info.value.extra["element"] == "calc" and "order.total" in info.value.detail


@pytest.mark.parametrize("sequential", ["false", "true"])
def test_camunda_collection_and_element_variable(library, runtime, sequential):
    body = "\n".join([
        '<bpmn:startEvent id="s" />',
        '<bpmn:userTask id="vote" camunda:assignee="${voter}">'
        f'<bpmn:multiInstanceLoopCharacteristics isSequential="{sequential}" '
        'camunda:collection="${voters}" camunda:elementVariable="voter">'
        '<bpmn:completionCondition>${nrOfCompletedInstances >= 2}</bpmn:completionCondition>'
        '</bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>',
        '<bpmn:endEvent id="e" />', chain("s", "vote", "e")])
    instance = runtime.start(library.spec("vote", 1, _one("vote", body)),
                             {"voters": ["ann", "bob", "cy"]})
    seen = []
    for _ in range(2):
        task = instance.user_tasks()[0]
        seen.append((task.assignee, task.data["loopCounter"]))
        instance.complete_task(task.id, {f"vote_{task.assignee}": True}, actor=task.assignee)
    assert instance.status == "completed", instance.failure
    assert [a for a, _ in seen] == ["ann", "bob"] and sorted(c for _, c in seen) == [0, 1]
    data = instance.data
    assert data["vote_ann"] is True and "voter" not in data and "loopCounter" not in data


def test_processes_of_one_file_call_each_other(library, runtime):
    caller = "\n".join(['<bpmn:startEvent id="s" />', '<bpmn:callActivity id="call" calledElement="child">'
                        '<bpmn:extensionElements><camunda:in source="amount" target="amount" />'
                        '<camunda:out source="doubled" target="result" /></bpmn:extensionElements>'
                        '</bpmn:callActivity>', '<bpmn:endEvent id="e" />', chain("s", "call", "e")])
    child = "\n".join(['<bpmn:startEvent id="cs" />', '<bpmn:scriptTask id="double" scriptFormat="python">'
                       '<bpmn:script>doubled = amount * 2\nsecret = "x"</bpmn:script></bpmn:scriptTask>',
                       '<bpmn:endEvent id="ce" />', chain("cs", "double", "ce")])
    content = definitions(process("parent", caller) + process("child", child))
    found = {d.key: d for d in parse_definitions({"both.bpmn": content})}
    assert found["parent"].called_processes == ("child",)
    # The service passes the file once for the process and once for what it calls.
    sources = {"both.bpmn": content, "both.bpmn#child@1": content}
    instance = runtime.start(library.spec("parent", 1, sources), {"amount": 4, "other": True})
    assert instance.status == "completed", instance.failure
    assert instance.data["result"] == 8
    assert "secret" not in instance.data and "doubled" not in instance.data   # only what is mapped


def test_java_code_needs_a_binding_beside_the_file(library, runtime, connectors):
    body = "\n".join([
        '<bpmn:startEvent id="s" />',
        '<bpmn:serviceTask id="archive" camunda:class="org.acme.ArchiveInvoiceService">'
        '<bpmn:extensionElements><camunda:inputOutput><camunda:inputParameter name="doc">'
        '${invoice}</camunda:inputParameter></camunda:inputOutput></bpmn:extensionElements>'
        '</bpmn:serviceTask>',
        '<bpmn:serviceTask id="notify" camunda:delegateExpression="${notifier}" />',
        '<bpmn:endEvent id="e" />', chain("s", "archive", "notify", "e")])
    files = _one("java", body)
    with pytest.raises(DefinitionInvalid) as info:
        parse_definitions(files)
    assert info.value.extra["element"] == "archive" and "java.bindings.json" in info.value.detail
    bindings = {"java.bpmn": b'{"bindings": {"org.acme.ArchiveInvoiceService": "archive.store", '
                             b'"${notifier}": {"topic": "notify"}}}'}
    [definition] = parse_definitions(files, bindings=bindings)
    assert definition.connectors == ("archive.store", "notify")
    assert definition.external_topics == ("notify",)
    assert definition.bindings["bindings"]["${notifier}"] == {"topic": "notify"}
    calls = []
    connectors.register("archive.store", lambda params: calls.append(params) or {"stored": True})
    spec = ProcessLibrary().spec("java", 1, files, bindings={"java.bpmn": definition.bindings})
    instance = runtime.start(spec, {"invoice": "INV-1"})
    assert calls == [{"doc": "INV-1"}]
    [job] = instance.external_tasks()
    assert job.topic == "notify" and job.element_id == "notify"


def test_bad_bindings_are_refused_with_the_file():
    body = '<bpmn:startEvent id="s" /><bpmn:endEvent id="e" />' + chain("s", "e")
    with pytest.raises(DefinitionInvalid, match="must be a connector name"):
        parse_definitions(_one("b", body), bindings={"b.bpmn": b'{"bindings": {"x": 3}}'})


def test_a_form_key_gives_a_generic_form_with_suggested_fields(library, runtime):
    body = "\n".join([
        '<bpmn:startEvent id="s" />',
        '<bpmn:userTask id="approve" camunda:formKey="embedded:app:forms/approve.html" />',
        '<bpmn:exclusiveGateway id="gw" />',
        '<bpmn:userTask id="check" camunda:assignee="${reviewer}" />',
        '<bpmn:endEvent id="ok" />', '<bpmn:endEvent id="no" />',
        chain("s", "approve", "gw"), flow("f_yes", "gw", "check", "${approved &amp;&amp; amount &gt; 100}"),
        flow("f_tier", "gw", "ok", "${tier == 'gold'}"), flow("f_no", "gw", "no", "${!approved}"),
        chain("check", "ok")])
    instance = runtime.start(library.spec("generic", 1, _one("generic", body)), {})
    [task] = instance.user_tasks()
    form = task.form
    assert form["x-omniflow-form"] == "generic" and form["additionalProperties"] is True
    assert form["x-form-key"] == "embedded:app:forms/approve.html"
    props = form["properties"]
    assert props["approved"]["type"] == "boolean" and props["amount"]["type"] == "number"
    assert props["tier"]["type"] == "string" and props["tier"]["examples"] == ["gold"]
    assert props["reviewer"]["x-suggested"] is True
    instance.complete_task(task.id, {"approved": True, "amount": 500, "reviewer": "bob",
                                     "anything": {"else": [1]}}, actor="ann")
    assert instance.user_tasks()[0].assignee == "bob"


def test_camunda_forms_lists_the_fields_when_the_form_has_none():
    body = ('<bpmn:startEvent id="s" /><bpmn:userTask id="t" camunda:formRef="kyc-form" '
            'camunda:formRefBinding="deployment" /><bpmn:endEvent id="e" />' + chain("s", "t", "e"))
    library = ProcessLibrary()
    spec = library.spec("fr", 1, _one("fr", body))
    form = spec.spec.task_specs["t"].assignment.form
    assert form["x-omniflow-form"] == "generic" and form["x-form-key"] == "kyc-form"
