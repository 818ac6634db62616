"""Camunda 8 (Zeebe) files: user tasks, decisions, scripts, calls, messages, FEEL everywhere."""
from __future__ import annotations

from datetime import timedelta

import pytest

from service.engine import parse_definitions
from service.errors import DefinitionInvalid

from bpmn_text import chain, definitions, flow, process


def _files(key: str, body: str) -> dict[str, bytes]:
    return {f"{key}.bpmn": definitions(process(key, body))}


def test_a_zeebe_user_task_with_assignment_and_schedule(library, runtime, clock):
    body = "\n".join([
        '<bpmn:startEvent id="s" />',
        '<bpmn:userTask id="review"><bpmn:extensionElements><zeebe:userTask />'
        '<zeebe:assignmentDefinition assignee="=owner" candidateGroups="=[region + &quot;-leads&quot;, &quot;audit&quot;]" '
        'candidateUsers="ann, bob" /><zeebe:taskSchedule dueDate="=now() + duration(&quot;P1D&quot;)" '
        'followUpDate="P2D" /><zeebe:formDefinition formId="review-form" />'
        '</bpmn:extensionElements></bpmn:userTask>',
        '<bpmn:exclusiveGateway id="gw" default="f_no" />', '<bpmn:endEvent id="yes" />',
        '<bpmn:endEvent id="no" />', chain("s", "review", "gw"),
        flow("f_yes", "gw", "yes", "= approved = true"), flow("f_no", "gw", "no")])
    instance = runtime.start(library.spec("c8", 1, _files("c8", body)), {"owner": "cy", "region": "north"})
    [task] = instance.user_tasks()
    assert task.form["x-omniflow-form"] == "generic" and task.form["properties"]["approved"]["type"] == "boolean"
    assert task.assignee == "cy" and task.candidate_groups == ("north-leads", "audit")
    assert task.candidate_users == ("ann", "bob")
    assert task.follow_up_at == clock.now + timedelta(days=2) and task.due_at is not None
    instance.complete_task(task.id, {"approved": True}, actor="cy")
    assert instance.status == "completed"


def test_an_embedded_camunda_form_becomes_the_task_form(library):
    body = ('<bpmn:startEvent id="s" /><bpmn:userTask id="t"><bpmn:extensionElements><zeebe:userTask />'
            '<zeebe:formDefinition formKey="camunda-forms:bpmn:F" /></bpmn:extensionElements>'
            '</bpmn:userTask><bpmn:endEvent id="e" />' + chain("s", "t", "e"))
    form = ('<bpmn:extensionElements><zeebe:userTaskForm id="F">{"components": [{"key": "approved", '
            '"type": "checkbox", "label": "Approved?"}, {"key": "reason", "type": "select", "values": '
            '[{"value": "price"}, {"value": "stock"}], "validate": {"required": true}}]}'
            '</zeebe:userTaskForm></bpmn:extensionElements>')
    content = definitions(process("f", body).replace("<bpmn:startEvent", form + "<bpmn:startEvent", 1))
    spec = library.spec("f", 1, {"f.bpmn": content})
    schema = spec.spec.task_specs["t"].assignment.form
    assert schema["properties"]["approved"] == {"type": "boolean", "title": "Approved?"}
    assert schema["properties"]["reason"]["enum"] == ["price", "stock"]
    assert schema["required"] == ["reason"]


def test_called_decision_script_and_called_element(library, runtime, decisions):
    decisions.decisions["discount"] = lambda inputs: [{"rate": 0.1 if inputs["tier"] == "gold" else 0}]
    parent = "\n".join([
        '<bpmn:startEvent id="s" />',
        '<bpmn:businessRuleTask id="rate"><bpmn:extensionElements><zeebe:calledDecision '
        'decisionId="discount" resultVariable="rate" /></bpmn:extensionElements></bpmn:businessRuleTask>',
        '<bpmn:scriptTask id="price"><bpmn:extensionElements><zeebe:script expression="=total * (1 - rate)" '
        'resultVariable="price" /></bpmn:extensionElements></bpmn:scriptTask>',
        '<bpmn:callActivity id="invoice"><bpmn:extensionElements><zeebe:calledElement processId="billing" '
        'propagateAllChildVariables="false" /><zeebe:ioMapping><zeebe:input source="=price" target="amount" />'
        '<zeebe:output source="=invoice_no" target="invoice.number" /></zeebe:ioMapping>'
        '</bpmn:extensionElements></bpmn:callActivity>',
        '<bpmn:endEvent id="e" />', chain("s", "rate", "price", "invoice", "e")])
    child = ('<bpmn:startEvent id="cs" /><bpmn:scriptTask id="number"><bpmn:extensionElements>'
             '<zeebe:script expression="=&quot;INV-&quot; + string(amount)" resultVariable="invoice_no" />'
             '</bpmn:extensionElements></bpmn:scriptTask><bpmn:endEvent id="ce" />'
             + chain("cs", "number", "ce"))
    content = definitions(process("shop", parent) + process("billing", child))
    found = {d.key: d for d in parse_definitions({"shop.bpmn": content})}
    assert found["shop"].decision_refs == ("discount",) and found["shop"].called_processes == ("billing",)
    sources = {"shop.bpmn": content, "shop.bpmn#billing@1": content}
    instance = runtime.start(library.spec("shop", 1, sources), {"tier": "gold", "total": 200})
    assert instance.status == "completed", instance.failure
    data = instance.data
    assert data["rate"] == 0.1 and data["price"] == 180
    assert data["invoice"] == {"number": "INV-180"} and "invoice_no" not in data and "amount" not in data


def test_a_subscription_correlation_key_keys_the_waiting_catch(library, runtime):
    message = ('<bpmn:message id="M" name="payment_received"><bpmn:extensionElements>'
               '<zeebe:subscription correlationKey="=order_id" /></bpmn:extensionElements></bpmn:message>')
    body = ('<bpmn:startEvent id="s" /><bpmn:intermediateCatchEvent id="paid"><bpmn:messageEventDefinition '
            'messageRef="M" /></bpmn:intermediateCatchEvent><bpmn:endEvent id="e" />' + chain("s", "paid", "e"))
    files = {"pay.bpmn": definitions(message + process("pay", body))}
    instance = runtime.start(library.spec("pay", 1, files), {"order_id": "O-9"})
    [waiting] = instance.waiting_messages()
    assert waiting.keyed and waiting.correlation == {"order_id": "O-9"}
    instance.deliver_message("payment_received", {"order_id": "O-9", "amount": 5})
    assert instance.status == "completed" and instance.data["amount"] == 5


@pytest.mark.parametrize("condition", ["approved == true", "$.approved == true", "${approved}"])
def test_conditions_in_a_camunda_8_file_must_be_feel(condition):
    body = ('<bpmn:startEvent id="s" /><bpmn:exclusiveGateway id="gw" default="f2" /><bpmn:endEvent id="a" />'
            '<bpmn:endEvent id="b" /><bpmn:serviceTask id="job"><bpmn:extensionElements>'
            '<zeebe:taskDefinition type="x" /></bpmn:extensionElements></bpmn:serviceTask>'
            + chain("s", "job", "gw") + flow("f1", "gw", "a", condition) + flow("f2", "gw", "b"))
    with pytest.raises(DefinitionInvalid) as info:
        parse_definitions(_files("c8cond", body))
    assert info.value.extra["element"] == "f1" and "FEEL" in info.value.detail


def test_a_dynamic_job_type_is_refused_at_deploy():
    body = ('<bpmn:startEvent id="s" /><bpmn:serviceTask id="job"><bpmn:extensionElements>'
            '<zeebe:taskDefinition type="=kind" /></bpmn:extensionElements></bpmn:serviceTask>'
            + chain("s", "job"))
    with pytest.raises(DefinitionInvalid) as info:
        parse_definitions(_files("dyn", body))
    assert info.value.extra["element"] == "job" and "job type" in info.value.detail
