"""External tasks (Camunda 7 topics, Camunda 8 job types) as engine wait states."""
from __future__ import annotations

import pytest

from service.engine import parse_definitions
from service.errors import Conflict, NotFound

from bpmn_text import chain, definitions, process

ERRORS = ('<bpmn:error id="Err_stock" name="Out of stock" errorCode="OUT_OF_STOCK" />'
          '<bpmn:error id="Err_fraud" name="Fraud" errorCode="FRAUD" />')


def _reship(extra: str = "", *, boundary: str = "") -> dict[str, bytes]:
    body = "\n".join([
        '<bpmn:startEvent id="s" />',
        '<bpmn:serviceTask id="reship" name="Reship" camunda:type="external" camunda:topic="oms.reship" '
        'camunda:taskPriority="5"><bpmn:extensionElements><camunda:inputOutput>'
        '<camunda:inputParameter name="order">${order_id}</camunda:inputParameter>'
        '<camunda:outputParameter name="tracking">${carrier_ref}</camunda:outputParameter>'
        '</camunda:inputOutput></bpmn:extensionElements></bpmn:serviceTask>',
        boundary, '<bpmn:userTask id="confirm" />', '<bpmn:endEvent id="e" />',
        chain("s", "reship", "confirm", "e"), extra])
    return {"reship.bpmn": definitions(ERRORS + process("reship", body))}


def _spec(library, files, key="reship"):
    return library.spec(key, 1, files)


def test_an_external_task_waits_for_a_worker_and_completes_with_its_variables(library, runtime):
    files = _reship()
    [definition] = parse_definitions(files)
    assert definition.external_topics == ("oms.reship",)
    spec = _spec(library, files)
    instance = runtime.start(spec, {"order_id": "A-1"})
    assert instance.status == "waiting" and instance.user_tasks() == []
    [job] = instance.external_tasks()
    assert (job.topic, job.element_id, job.name, job.priority) == ("oms.reship", "reship", "Reship", "5")
    assert job.variables["order"] == "A-1" and job.variables["order_id"] == "A-1"
    created = next(e for e in instance.drain_events() if e.kind == "external_task_created")
    assert created.detail["topic"] == "oms.reship"
    instance = runtime.load(spec, instance.dumps())          # waits across a save and load
    instance.complete_external(job.id, {"carrier_ref": "DHL-9"}, worker="w1")
    [task] = instance.user_tasks()
    assert task.element_id == "confirm"
    assert task.data["tracking"] == "DHL-9" and "order" not in task.data   # inputs stay local
    assert instance.external_tasks() == []
    with pytest.raises(NotFound):               # done and gone: a worker's late complete
        instance.complete_external(job.id, {})


def test_a_connector_of_the_service_runs_the_topic_instead(library, runtime, connectors):
    calls = []
    connectors.register("oms.reship", lambda params: calls.append(params) or {"queued": True})
    instance = runtime.start(_spec(library, _reship()), {"order_id": "A-1", "carrier_ref": "own"})
    assert calls == [{"order": "A-1"}] and instance.external_tasks() == []
    assert instance.user_tasks()[0].element_id == "confirm"


def test_a_bpmn_error_follows_the_boundary_event_with_its_code(library, runtime):
    boundary = ('<bpmn:boundaryEvent id="no_stock" attachedToRef="reship"><bpmn:errorEventDefinition '
                'errorRef="Err_stock" camunda:errorCodeVariable="code" camunda:errorMessageVariable="why" />'
                '</bpmn:boundaryEvent><bpmn:userTask id="refund" />')
    files = _reship(chain("no_stock", "refund"), boundary=boundary)
    instance = runtime.start(_spec(library, files), {"order_id": "A-1"})
    [job] = instance.external_tasks()
    instance.throw_bpmn_error(job.id, "OUT_OF_STOCK", "none left", {"stock": 0}, worker="w1")
    [task] = instance.user_tasks()
    assert task.element_id == "refund"
    assert task.data["stock"] == 0 and task.data["code"] == "OUT_OF_STOCK" and task.data["why"] == "none left"
    assert instance.external_tasks() == []


def test_a_bpmn_error_goes_to_an_error_event_subprocess(library, runtime):
    handler = ('<bpmn:subProcess id="on_error" triggeredByEvent="true"><bpmn:startEvent id="es">'
               '<bpmn:errorEventDefinition errorRef="Err_fraud" /></bpmn:startEvent>'
               '<bpmn:userTask id="investigate" /><bpmn:endEvent id="ee" />'
               + chain("es", "investigate", "ee") + '</bpmn:subProcess>')
    instance = runtime.start(_spec(library, _reship(handler)), {"order_id": "A-1"})
    instance.throw_bpmn_error(instance.external_tasks()[0].id, "FRAUD", "card stolen")
    assert [t.element_id for t in instance.user_tasks()] == ["investigate"]
    assert instance.external_tasks() == []
    instance.complete_task(instance.user_tasks()[0].id, {}, actor="ann")
    assert instance.status == "completed", instance.failure


def test_a_bpmn_error_leaves_a_subprocess_for_the_boundary_of_the_subprocess(library, runtime):
    body = "\n".join([
        '<bpmn:startEvent id="s" />',
        '<bpmn:subProcess id="fulfil"><bpmn:startEvent id="fs" />'
        '<bpmn:serviceTask id="pick" camunda:type="external" camunda:topic="wms.pick" />'
        '<bpmn:endEvent id="fe" />' + chain("fs", "pick", "fe") + '</bpmn:subProcess>',
        '<bpmn:boundaryEvent id="any_error" attachedToRef="fulfil"><bpmn:errorEventDefinition />'
        '</bpmn:boundaryEvent>', '<bpmn:userTask id="manual" />',
        '<bpmn:endEvent id="e" />', '<bpmn:endEvent id="e2" />',
        chain("s", "fulfil", "e"), chain("any_error", "manual", "e2")])
    files = {"nested.bpmn": definitions(ERRORS + process("nested", body))}
    instance = runtime.start(_spec(library, files, "nested"), {})
    [job] = instance.external_tasks()
    assert job.element_id == "pick"
    instance.throw_bpmn_error(job.id, "OUT_OF_STOCK")
    assert [t.element_id for t in instance.user_tasks()] == ["manual"]


def test_an_uncaught_bpmn_error_fails_naming_the_element(library, runtime):
    instance = runtime.start(_spec(library, _reship()), {"order_id": "A-1"})
    instance.throw_bpmn_error(instance.external_tasks()[0].id, "FRAUD", "card stolen")
    assert instance.status == "failed"
    assert instance.failure.extra["element"] == "reship"
    assert "FRAUD" in instance.failure.detail and "not caught" in instance.failure.detail


def test_a_worker_giving_up_fails_the_instance_until_retry(library, runtime):
    spec = _spec(library, _reship())
    instance = runtime.start(spec, {"order_id": "A-1"})
    [job] = instance.external_tasks()
    instance.fail_external(job.id, "OMS down", details="503 three times")
    assert instance.status == "failed" and instance.failure.extra["element"] == "reship"
    assert instance.failure.extra["retryable"] is True and instance.failure.extra["topic"] == "oms.reship"
    instance = runtime.load(spec, instance.dumps())
    with pytest.raises(Conflict):
        instance.complete_external(job.id, {})
    instance.retry()
    assert instance.status == "waiting" and [j.id for j in instance.external_tasks()] == [job.id]
    instance.complete_external(job.id, {"carrier_ref": "UPS-1"})
    assert instance.user_tasks()[0].data["tracking"] == "UPS-1"


def test_a_zeebe_job_carries_its_type_retries_and_headers(library, runtime):
    body = "\n".join([
        '<bpmn:startEvent id="s" />',
        '<bpmn:serviceTask id="charge" name="Charge card"><bpmn:extensionElements>'
        '<zeebe:taskDefinition type="payment.charge" retries="5" />'
        '<zeebe:taskHeaders><zeebe:header key="currency" value="EUR" /></zeebe:taskHeaders>'
        '<zeebe:ioMapping><zeebe:input source="=total * 100" target="cents" />'
        '<zeebe:output source="=receipt.id" target="payment.receipt" /></zeebe:ioMapping>'
        '</bpmn:extensionElements></bpmn:serviceTask>',
        '<bpmn:endEvent id="e" />', chain("s", "charge", "e")])
    files = {"pay.bpmn": definitions(process("pay", body))}
    instance = runtime.start(library.spec("pay", 1, files), {"total": 12.5})
    [job] = instance.external_tasks()
    assert (job.topic, job.retries, job.headers) == ("payment.charge", 5, {"currency": "EUR"})
    assert job.variables["cents"] == 1250
    instance.complete_external(job.id, {"receipt": {"id": "R-7"}})
    assert instance.status == "completed"
    assert instance.data["payment"] == {"receipt": "R-7"} and "cents" not in instance.data
