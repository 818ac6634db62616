"""Camunda's invoice example through the public API, files unchanged: deploy (with the connector
bindings file beside the BPMN and an HTTP connector file for the archive), start, the inbox,
complete, to the end. Real database, real engine, real DMN; the corpus is read in place."""
from __future__ import annotations

import io
import json

import pytest

from service.store import Definition, Job

from .conftest import corpus_file

INVOICE = {"creditor": "Great Pizza for Everyone Inc.", "amount": 30.0,
           "invoiceCategory": "Travel Expenses", "invoiceNumber": "GPFE-23232323",
           "invoiceDocument": "invoice.pdf"}
BINDINGS = {"bindings": {
    "org.camunda.bpm.example.invoice.service.ArchiveInvoiceService": "invoice.archive"}}
ARCHIVE = {"connector": "invoice.archive", "method": "POST",
           "url": "{env.OMNIFLOW_CONNECTOR_ARCHIVE_URL}/invoices/{invoiceNumber}",
           "body": {"invoice": "{invoiceNumber}"}}


def files(bindings=BINDINGS) -> dict[str, bytes]:
    out = {"invoice.v2.bpmn": corpus_file("bpmn", "c7__invoice.v2.bpmn"),
           "reviewInvoice.bpmn": corpus_file("bpmn", "c7__reviewInvoice.bpmn"),
           "invoiceBusinessDecisions.dmn": corpus_file("dmn", "c7__invoiceBusinessDecisions.dmn"),
           "invoice.archive.connector.json": json.dumps(ARCHIVE).encode()}
    if bindings is not None:
        out["invoice.v2.bindings.json"] = (bindings if isinstance(bindings, bytes)
                                           else json.dumps(bindings).encode())
    return out


def upload(actor, content: dict[str, bytes]):
    data = {"files": [(io.BytesIO(body), name) for name, body in content.items()]}
    return actor.post("/api/v1/deployments", data=data, content_type="multipart/form-data")


@pytest.fixture
def people(users):
    class People:
        analyst = users.make("ana", ["analyst"])
        client = users.make("erp", ["erp"], client=True)
        accountant = users.make("acc", ["accounting"])
        manager = users.make("boss", ["management"])
        demo = users.make("demo", ["clerks"])       # camunda:assignee="demo"
    return People


@pytest.fixture
def deployed(people):
    answer = upload(people.analyst, files())
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def start(people, data=None):
    answer = people.client.post("/api/v1/cases", json={"type": "invoice",
                                                       "data": data or INVOICE})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def inbox(actor, case_id):
    items = actor.get("/api/v1/tasks").get_json()["items"]
    return {t["element_id"]: t for t in items if t["case_id"] == case_id}


def complete(actor, task, data):
    answer = actor.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": data})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def test_the_bindings_are_stored_with_the_version_and_shown(deployed, people):
    row = Definition.get(Definition.key == "invoice")
    assert row.bindings == {"bindings": {
        "org.camunda.bpm.example.invoice.service.ArchiveInvoiceService":
            {"connector": "invoice.archive"}}}
    detail = people.analyst.get("/api/v1/definitions/invoice?kind=bpmn").get_json()
    assert detail["bindings"] == row.bindings
    assert any("taskListener" in note for note in detail["notes"])      # listeners: not run
    # the same files again: nothing new; other bindings: a new version of the process
    again = upload(people.analyst, files()).get_json()
    assert ("bpmn", "invoice") not in {(c["kind"], c["key"]) for c in again["created"]}
    changed = upload(people.analyst, files({"bindings": {"ServiceTask_1": "invoice.archive"}}))
    assert [c["version"] for c in changed.get_json()["created"] if c["key"] == "invoice"] == [2]


def test_an_approved_invoice_runs_to_the_end_through_the_api(deployed, people):
    case = start(people, {**INVOICE, "amount": 800, "invoiceCategory": "Misc"})
    assert [t["name"] for t in case["tasks"]] == ["Approve Invoice"]
    assert inbox(people.accountant, case["id"]) == {}            # 800, Misc: management only
    approve = inbox(people.manager, case["id"])["approveInvoice"]
    assert approve["candidate_groups"] == ["management"]
    detail = people.manager.get(f"/api/v1/tasks/{approve['id']}").get_json()
    assert detail["form"]["x-omniflow-form"] == "generic"
    complete(people.manager, approve, {"approved": True})
    transfer = inbox(people.accountant, case["id"])["prepareBankTransfer"]
    done = complete(people.accountant, transfer, {})
    assert done["case_status"] == "completed"
    [job] = Job.select().where(Job.kind == "outbox", Job.case == case["id"])
    assert job.payload["connector"] == "invoice.archive"          # the Java task, bound
    timeline = [e["kind"] for e in people.manager.get(
        f"/api/v1/cases/{case['id']}/timeline").get_json()["items"]]
    assert "engine.decision_evaluated" in timeline and timeline[-1] == "case.completed"


def test_a_rejected_invoice_goes_through_review_in_the_called_process(deployed, people):
    case = start(people)                                          # 30, Travel: accounting, sales
    complete(people.accountant, inbox(people.accountant, case["id"])["approveInvoice"],
             {"approved": False})
    assign = inbox(people.demo, case["id"])["assignReviewer"]     # in the called process
    assert assign["assignee"] == "demo"
    complete(people.demo, assign, {"reviewer": "boss"})
    review = inbox(people.manager, case["id"])["reviewInvoice"]   # ${reviewer}
    assert review["assignee"] == "boss"
    complete(people.manager, review, {"clarified": True})
    again = inbox(people.accountant, case["id"])["approveInvoice"]   # back to approval
    complete(people.accountant, again, {"approved": True})
    transfer = inbox(people.accountant, case["id"])["prepareBankTransfer"]
    assert complete(people.accountant, transfer, {})["case_status"] == "completed"


def test_a_rejected_invoice_not_clarified_ends_unprocessed(deployed, people):
    case = start(people)
    complete(people.accountant, inbox(people.accountant, case["id"])["approveInvoice"],
             {"approved": False})
    complete(people.demo, inbox(people.demo, case["id"])["assignReviewer"], {"reviewer": "boss"})
    done = complete(people.manager, inbox(people.manager, case["id"])["reviewInvoice"],
                    {"clarified": False})
    assert done["case_status"] == "completed"
    assert Job.select().where(Job.kind == "outbox", Job.case == case["id"]).count() == 0


def test_bad_bindings_files_are_refused_naming_the_file(people):
    answer = upload(people.analyst, files(b"{not json"))
    assert answer.status_code == 422
    assert answer.get_json()["file"] == "invoice.v2.bindings.json"
    answer = upload(people.analyst, files({"bindings": {"x": 42}}))
    assert answer.status_code == 422 and answer.get_json()["file"] == "invoice.v2.bindings.json"
    lonely = upload(people.analyst, {"other.bindings.json": json.dumps(BINDINGS).encode()})
    assert lonely.status_code == 422 and lonely.get_json()["file"] == "other.bindings.json"
    missing = upload(people.analyst, files(None))                # the Java task needs a binding
    body = missing.get_json()
    assert missing.status_code == 422 and body["element"] == "ServiceTask_1"
    assert body["file"] == "invoice.v2.bpmn" and body["line"]
    assert Definition.select().count() == 0
