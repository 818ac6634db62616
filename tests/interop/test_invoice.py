"""Camunda's invoice example, unchanged: invoice.v2.bpmn, reviewInvoice.bpmn and
invoiceBusinessDecisions.dmn from camunda/camunda-bpm-platform (examples/invoice).

The engine runs it with the real parser, our DMN engine for the business rule task, and the
state saved and reloaded between every step, as the service does. The only thing added beside
the files is the connector binding for its Java service task (``camunda:class``).
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from service.engine import ConnectorRegistry, FixedClock, ProcessLibrary, Runtime, parse_definitions

from .conftest import CorpusDecisions, corpus_file

BINDINGS = {"invoice.v2.bpmn": {"bindings": {
    "org.camunda.bpm.example.invoice.service.ArchiveInvoiceService": "invoice.archive"}}}
INVOICE = {"creditor": "Great Pizza for Everyone Inc.", "amount": 30.0,
           "invoiceCategory": "Travel Expenses", "invoiceNumber": "GPFE-23232323",
           "invoiceDocument": "invoice.pdf"}


def _sources() -> dict[str, bytes]:
    invoice = corpus_file("bpmn", "c7__invoice.v2.bpmn")
    review = corpus_file("bpmn", "c7__reviewInvoice.bpmn")
    return {"invoice.v2.bpmn": invoice, "reviewInvoice.bpmn": review}


@pytest.fixture
def archive():
    return []


@pytest.fixture
def invoice(archive):
    clock = FixedClock()
    connectors = ConnectorRegistry({"invoice.archive": lambda params: archive.append(params) or {"ok": True}})
    decisions = CorpusDecisions("c7__invoiceBusinessDecisions.dmn")
    runtime = Runtime(decisions=decisions, connectors=connectors, clock=clock)
    spec = ProcessLibrary().spec("invoice", 1, _sources(), bindings=BINDINGS)

    class Case:
        def __init__(self, data):
            self.instance = runtime.start(spec, data, initiator="demo")

        def task(self, element_id):
            self.instance = runtime.load(spec, self.instance.dumps())
            found = [t for t in self.instance.user_tasks() if t.element_id == element_id]
            assert found, (element_id, [t.element_id for t in self.instance.user_tasks()],
                           self.instance.status, self.instance.failure)
            return found[0]

        def complete(self, element_id, data):
            task = self.task(element_id)
            self.instance.complete_task(task.id, data, actor="demo")
            return task

    Case.clock, Case.decisions = clock, decisions
    return Case


def test_the_files_deploy_unchanged_with_a_binding_for_the_java_task():
    found = {d.key: d for d in parse_definitions(_sources(), bindings=BINDINGS)}
    invoice = found["invoice"]
    assert invoice.called_processes == ("ReviewInvoice",)
    assert invoice.decision_refs == ("invoice-assign-approver",)
    assert invoice.connectors == ("invoice.archive",)
    assert any("taskListener" in note for note in invoice.notes)     # javascript listeners: noted
    with pytest.raises(Exception) as info:
        parse_definitions(_sources())                                    # no binding: refused
    assert info.value.extra["element"] == "ServiceTask_1" and info.value.extra["line"]


def test_approved_invoice_is_paid_and_archived(invoice, archive):
    case = invoice(INVOICE)
    approve = case.complete("approveInvoice", {"approved": True})
    assert approve.form["x-omniflow-form"] == "generic"
    assert approve.form["properties"]["approved"]["type"] == "boolean"
    assert approve.due_at == case.clock.now + timedelta(weeks=1)   # ${dateTime().plusWeeks(1)...}
    transfer = case.complete("prepareBankTransfer", {})
    assert transfer.candidate_groups == ("accounting",)
    assert case.instance.status == "completed", case.instance.failure
    assert archive == [{}]
    assert case.decisions.results[0][0] == "invoice-assign-approver"


def test_rejected_invoice_goes_to_review_and_back_to_approval_when_clarified(invoice, archive):
    case = invoice(INVOICE)
    case.complete("approveInvoice", {"approved": False})
    assign = case.complete("assignReviewer", {"reviewer": "mary"})
    assert assign.assignee == "demo"
    review = case.task("reviewInvoice")
    assert review.assignee == "mary"                                     # ${reviewer}
    assert review.due_at == case.clock.now + timedelta(days=2)          # plusDays(2)
    assert review.data["amount"] == 30.0 and "approved" not in review.data   # only camunda:in
    case.complete("reviewInvoice", {"clarified": True})
    again = case.task("approveInvoice")                                  # ${clarified}
    assert again.data["clarified"] is True                               # camunda:out
    case.complete("approveInvoice", {"approved": True})
    case.complete("prepareBankTransfer", {})
    assert case.instance.status == "completed" and len(archive) == 1


def test_rejected_invoice_not_clarified_is_not_processed(invoice, archive):
    case = invoice(INVOICE)
    case.complete("approveInvoice", {"approved": False})
    case.complete("assignReviewer", {"reviewer": "mary"})
    case.complete("reviewInvoice", {"clarified": False})                 # ${!clarified}
    assert case.instance.status == "completed", case.instance.failure
    assert archive == []
    taken = [e.detail["target"] for e in case.instance.drain_events() if e.kind == "gateway_taken"]
    assert "invoiceNotProcessed" in taken


@pytest.mark.parametrize("amount, category, groups", [
    (800, "Misc", ("management",)),
    (30, "Misc", ("accounting", "sales")),
    (30, "Travel Expenses", ("accounting", "sales")),
])
def test_the_approver_groups_are_camundas(invoice, amount, category, groups):
    case = invoice({**INVOICE, "amount": amount, "invoiceCategory": category})
    assert tuple(sorted(case.task("approveInvoice").candidate_groups)) == tuple(sorted(groups))
    _, _, warnings = case.decisions.results[0]
    assert warnings == ()
