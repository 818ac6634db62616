"""Notifications by email (a real aiosmtpd server) and by webhook (a real HTTP receiver)."""
from __future__ import annotations

import datetime as dt
import io
import json
import socket
import threading

import pytest
from aiosmtpd.controller import Controller

from service.engine.ports import FixedClock
from service.store import AuditEvent, Case, Job
from service.worker import Worker

PROCESS = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="damaged_goods" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="handle"/>
    <bpmn:userTask id="handle" name="Handle damaged goods" camunda:candidateGroups="customer_service"
                   camunda:dueDate="=duration(&quot;PT1H&quot;)"/>
    <bpmn:sequenceFlow id="f2" sourceRef="handle" targetRef="end"/>
    <bpmn:endEvent id="end"/>
    <bpmn:boundaryEvent id="late" cancelActivity="false" attachedToRef="handle">
      <bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="late" targetRef="escalated"/>
    <bpmn:userTask id="escalated" name="Escalated damaged goods" camunda:candidateGroups="cs_supervisor">
      <bpmn:extensionElements>
        <camunda:properties><camunda:property name="escalation" value="true"/></camunda:properties>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f4" sourceRef="escalated" targetRef="end2"/>
    <bpmn:endEvent id="end2"/>
  </bpmn:process>
</bpmn:definitions>
"""


class Mailbox:
    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
        return "250 OK"

    def subjects(self):
        return sorted((tuple(to), next(line[9:] for line in text.splitlines()
                                       if line.startswith("Subject: ")))
                      for to, text in self.messages)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    mailbox.port, mailbox.controller = controller.port, controller
    yield mailbox
    if controller._thread is not None:
        controller.stop()


@pytest.fixture
def config(config, smtp):
    """Email on: the app and the worker send through the local SMTP server."""
    return config.with_(smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_timeout=2)


@pytest.fixture
def clock():
    return FixedClock(dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
                      + dt.timedelta(minutes=1))


def deploy(users, files):
    analyst = users.made.get("ana") or users.make("ana", ["analyst"])
    data = {"files": [(io.BytesIO(body), name) for name, body in files.items()]}
    answer = analyst.client.post("/api/v1/deployments", data=data, headers=analyst.headers,
                                 content_type="multipart/form-data")
    assert answer.status_code == 201, answer.get_json()


def people(users):
    agent = users.make("agent", ["customer_service"])
    quiet = users.make("quiet", ["customer_service"])
    boss = users.make("boss", ["cs_supervisor"])
    users.make("nomail", ["customer_service"])               # no address: no email
    users.make("bot", ["customer_service"], client=True)     # machine clients are never told
    for actor, email, muted in ((agent, "agent@example.com", []),
                                (quiet, "quiet@example.com", ["task_assigned"]),
                                (boss, "boss@example.com", [])):
        answer = actor.client.put("/api/v1/users/me/notifications", headers=actor.headers,
                                  json={"email": email, "muted": muted})
        assert answer.status_code == 200, answer.get_json()
    return agent, quiet, boss


def test_assigned_breached_and_escalated_by_email_with_opt_out(config, users, smtp, clock):
    agent, quiet, boss = people(users)
    deploy(users, {"damaged_goods.bpmn": PROCESS})
    oms = users.make("oms", ["oms"], client=True)
    case = oms.post("/api/v1/cases", json={"type": "damaged_goods", "data": {}}).get_json()
    worker = Worker(config, clock=clock, owner="w1")
    assert worker.run_once().notified == 1              # agent only: quiet opted out
    assert smtp.subjects() == [(("agent@example.com",),
                                f"New task: Handle damaged goods (case {case['id']})")]
    assert worker.run_once().notified == 0              # sent once

    clock.advance(hours=1)
    tally = worker.run_once()
    assert tally.timers == 1
    subjects = smtp.subjects()
    assert ((("boss@example.com",), f"Escalated to you: Escalated damaged goods "
                                    f"(case {case['id']})")) in subjects
    breached = [to for to, subject in subjects if subject.startswith("SLA breached")]
    assert sorted(breached) == [("agent@example.com",), ("quiet@example.com",)]
    assert len(smtp.messages) == 4
    clock.advance(hours=1)
    worker.run_once()
    assert len(smtp.messages) == 4                      # a breach is told once per task
    sent = AuditEvent.select().where(AuditEvent.kind == "notification.sent").count()
    assert sent == 4 and Case.get_by_id(case["id"]).status == "open"


def test_a_webhook_connector_file_receives_every_notification(config, users, receiver, clock):
    """Beside email: everyone in the group, with or without an address."""
    people(users)
    hook = {"connector": "omniflow.notifications", "method": "POST",
            "url": "{env.OMNIFLOW_CONNECTOR_OMS_URL}/ok/notify",
            "body": {"kind": "{kind}", "user": "{user}", "task": "{task}", "text": "{subject}"}}
    deploy(users, {"damaged_goods.bpmn": PROCESS,
                   "omniflow.notifications.connector.json": json.dumps(hook).encode()})
    oms = users.make("oms", ["oms"], client=True)
    oms.post("/api/v1/cases", json={"type": "damaged_goods", "data": {}})
    assert Worker(config, clock=clock, owner="w1").run_once().notified == 3   # + agent's email
    bodies = sorted((r.body["user"], r.body["kind"]) for r in receiver.requests)
    assert bodies == [("agent", "task_assigned"), ("nomail", "task_assigned")]
    jobs = {str(j.id) for j in Job.select().where(Job.kind == "notify")
            if j.payload["channel"] == "webhook"}
    assert {r.headers["idempotency-key"] for r in receiver.requests} == jobs


def test_a_delegation_tells_the_new_assignee(config, users, smtp, clock):
    agent, quiet, boss = people(users)
    deploy(users, {"damaged_goods.bpmn": PROCESS})
    oms = users.make("oms", ["oms"], client=True)
    oms.post("/api/v1/cases", json={"type": "damaged_goods", "data": {}})
    task = agent.get("/api/v1/tasks").get_json()["items"][0]
    answer = agent.post(f"/api/v1/tasks/{task['id']}/delegate", json={"to": "boss"})
    assert answer.status_code == 200, answer.get_json()
    Worker(config, clock=clock, owner="w1").run_once()
    assert (("boss@example.com",), f"New task: Handle damaged goods (case {task['case_id']})") \
        in smtp.subjects()


def test_an_unreachable_smtp_server_is_retried_then_given_up(config, users, smtp, clock):
    smtp.controller.stop()                              # the mail server goes away
    people(users)
    deploy(users, {"damaged_goods.bpmn": PROCESS})
    oms = users.make("oms", ["oms"], client=True)
    case = oms.post("/api/v1/cases", json={"type": "damaged_goods", "data": {}}).get_json()
    worker = Worker(config, clock=clock, owner="w1")
    for _ in range(5):
        assert worker.run_once().notified == 1
        clock.advance(minutes=2)
    job = Job.get(Job.kind == "notify")
    assert job.status == "failed" and job.attempts == 5 and "SMTP" in job.last_error
    assert Case.get_by_id(case["id"]).status == "open"          # never an incident
    assert AuditEvent.select().where(AuditEvent.kind == "notification.failed").count() == 5


def test_preferences_are_checked_and_audited(users):
    agent = users.make("agent", ["customer_service"])
    bad = agent.client.put("/api/v1/users/me/notifications", headers=agent.headers,
                           json={"email": "not an address"})
    assert bad.status_code == 422 and bad.get_json()["field"] == "email"
    bad = agent.client.put("/api/v1/users/me/notifications", headers=agent.headers,
                           json={"muted": ["everything"]})
    assert bad.status_code == 422
    ok = agent.client.put("/api/v1/users/me/notifications", headers=agent.headers,
                          json={"email": "a@example.com", "muted": ["sla_breached"]})
    assert ok.get_json()["muted"] == ["sla_breached"]
    assert agent.get("/api/v1/users/me/notifications").get_json()["email"] == "a@example.com"
    event = AuditEvent.get(AuditEvent.kind == "notifications.preferences")
    assert event.actor == "agent" and event.detail["after"]["email"] == "a@example.com"
