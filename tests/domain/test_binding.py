"""Business rule tasks and call activities honour their version binding (Camunda 7's
decisionRefBinding / calledElementBinding, Camunda 8's bindingType), on the real engine and
database; the decision record names the version used."""
import io

import pytest

from service.store import DecisionRecord, Task

DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"
    xmlns:camunda="http://camunda.org/schema/1.0/dmn" id="labels" name="labels"
    namespace="http://omniflow.example/labels">
  <decision id="tier_label" name="tier label" camunda:versionTag="{tag}">
    <literalExpression><text>"{label}"</text></literalExpression>
  </decision>
</definitions>"""

def process(key: str, tasks: list[tuple[str, str]]) -> str:
    ids = [t for t, _ in tasks]
    xml = []
    for i, (task_id, attrs) in enumerate(tasks):
        source = "start" if i == 0 else ids[i - 1]
        xml.append(f'<bpmn:sequenceFlow id="f{i}" sourceRef="{source}" targetRef="{task_id}" />')
        xml.append(f'<bpmn:businessRuleTask id="{task_id}" camunda:decisionRef="tier_label" '
                   f'camunda:resultVariable="{task_id}" {attrs}><bpmn:incoming>f{i}'
                   f'</bpmn:incoming><bpmn:outgoing>f{i + 1}</bpmn:outgoing>'
                   '</bpmn:businessRuleTask>')
    n = len(tasks)
    xml.append(f'<bpmn:sequenceFlow id="f{n}" sourceRef="{ids[-1]}" targetRef="end" />')
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="p_{key}" targetNamespace="t">
  <bpmn:process id="{key}" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
    {"".join(xml)}
    <bpmn:endEvent id="end"><bpmn:incoming>f{n}</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>"""


BOUND = process("bound_case", [
    ("t_latest", ""),
    ("t_version", 'camunda:decisionRefBinding="version" camunda:decisionRefVersion="1"'),
    ("t_deployment", 'camunda:decisionRefBinding="deployment"'),
    ("t_tag", 'camunda:decisionRefBinding="versionTag" camunda:decisionRefVersionTag="gold"'),
])

ZEEBE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"
  xmlns:modeler="http://camunda.org/schema/modeler/1.0" id="z" targetNamespace="t"
  modeler:executionPlatform="Camunda Cloud" modeler:executionPlatformVersion="8.6.0">
  <bpmn:process id="zeebe_bound" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="decide" />
    <bpmn:businessRuleTask id="decide">
      <bpmn:extensionElements>
        <zeebe:calledDecision decisionId="tier_label" resultVariable="label"
                              bindingType="{binding}" />
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:sequenceFlow id="f2" sourceRef="decide" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>"""


@pytest.fixture
def people(users):
    return {"analyst": users.make("ana", ["analyst"]),
            "oms": users.make("oms", ["oms"], client=True)}


def deploy(actor, files: dict[str, str]):
    data = {"files": [(io.BytesIO(text.encode()), name) for name, text in files.items()]}
    return actor.post("/api/v1/deployments", data=data, content_type="multipart/form-data")


def deployed(actor, files):
    r = deploy(actor, files)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def labels(tag, label):
    return DMN.replace("{tag}", tag).replace("{label}", label)


def run(people, process_key) -> list[tuple[int, str]]:
    r = people["oms"].post("/api/v1/cases", json={"type": process_key, "data": {}})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["status"] == "completed", r.get_json()
    return [(d.definition_version, d.outputs) for d in DecisionRecord.select().where(
        DecisionRecord.case == r.get_json()["id"]).order_by(DecisionRecord.id)]


def test_decision_bindings_pick_the_version(people):
    ana = people["analyst"]
    deployed(ana, {"labels.dmn": labels("gold", "one"), "bound_case.bpmn": BOUND,
                   "zeebe_bound.bpmn": ZEEBE.replace("{binding}", "deployment")})
    assert run(people, "bound_case") == [(1, "one")] * 4
    deployed(ana, {"labels.dmn": labels("silver", "two")})
    # latest: 2; version 1; the version deployed with the process: 1; tag gold: 1
    assert run(people, "bound_case") == [(2, "two"), (1, "one"), (1, "one"), (1, "one")]
    assert run(people, "zeebe_bound") == [(1, "one")]          # Camunda 8 bindingType
    deployed(ana, {"labels.dmn": labels("gold", "three")})
    assert run(people, "bound_case") == [(3, "three"), (1, "one"), (1, "one"), (3, "three")]
    # A new version of the process binds "deployment" to what is deployed with it
    deployed(ana, {"zeebe_bound.bpmn": ZEEBE.replace("{binding}", "deployment")
                   .replace('id="decide"', 'id="decide" name="Decide"')})
    assert run(people, "zeebe_bound") == [(3, "three")]


@pytest.mark.parametrize("attrs, words", [
    ('camunda:decisionRefBinding="sometimes"', "not one of"),
    ('camunda:decisionRefBinding="version"', "needs camunda:decisionRefVersion"),
    ('camunda:decisionRefBinding="version" camunda:decisionRefVersion="two"', "version number"),
    ('camunda:decisionRefBinding="versionTag"', "needs the version tag"),
    ('camunda:decisionRefBinding="version" camunda:decisionRefVersion="7"', "version 7"),
    ('camunda:decisionRefBinding="versionTag" camunda:decisionRefVersionTag="platinum"',
     "'platinum'"),
])
def test_a_bad_binding_is_refused_naming_the_task(people, attrs, words):
    r = deploy(people["analyst"], {"labels.dmn": labels("gold", "one"),
                                   "bad.bpmn": process("bad_case", [("t_bad", attrs)])})
    body = r.get_json()
    assert r.status_code == 422 and r.mimetype == "application/problem+json", body
    assert body["element"] == "t_bad" and words in body["detail"], body


def test_a_zeebe_binding_type_outside_its_set_is_refused(people):
    r = deploy(people["analyst"], {"labels.dmn": labels("gold", "one"),
                                   "zeebe_bound.bpmn": ZEEBE.replace("{binding}", "version")})
    assert r.status_code == 422 and r.get_json()["element"] == "decide"
    assert "bindingType" in r.get_json()["detail"]


CHILD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="c" targetNamespace="t">
  <bpmn:process id="child_proc" isExecutable="true" camunda:versionTag="{tag}">
    <bpmn:startEvent id="cstart"><bpmn:outgoing>c1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="c1" sourceRef="cstart" targetRef="{task}" />
    <bpmn:userTask id="{task}" name="Child work" camunda:candidateGroups="customer_service">
      <bpmn:incoming>c1</bpmn:incoming><bpmn:outgoing>c2</bpmn:outgoing></bpmn:userTask>
    <bpmn:sequenceFlow id="c2" sourceRef="{task}" targetRef="cend" />
    <bpmn:endEvent id="cend"><bpmn:incoming>c2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>"""

PARENT = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="p" targetNamespace="t">
  <bpmn:process id="{key}" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call" />
    <bpmn:callActivity id="call" calledElement="child_proc" {attrs}>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:callActivity>
    <bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>"""


def child(tag, task):
    return CHILD.replace("{tag}", tag).replace("{task}", task)


def parent(key, attrs):
    return PARENT.replace("{key}", key).replace("{attrs}", attrs)


def open_tasks(people, key) -> list[str]:
    r = people["oms"].post("/api/v1/cases", json={"type": key, "data": {}})
    assert r.status_code == 201, r.get_json()
    return [t.element_id for t in Task.select().where(Task.case == r.get_json()["id"])]


def test_call_activity_bindings_pick_the_called_version(people):
    ana = people["analyst"]
    deployed(ana, {"child_proc.bpmn": child("gold", "work_v1")})
    deployed(ana, {"child_proc.bpmn": child("silver", "work_v2"),
                   "by_version.bpmn": parent("by_version", 'camunda:calledElementBinding='
                                             '"version" camunda:calledElementVersion="1"'),
                   "by_tag.bpmn": parent("by_tag", 'camunda:calledElementBinding="versionTag"'
                                         ' camunda:calledElementVersionTag="gold"'),
                   "by_deployment.bpmn": parent("by_deployment",
                                                'camunda:calledElementBinding="deployment"'),
                   "by_latest.bpmn": parent("by_latest", "")})
    deployed(ana, {"child_proc.bpmn": child("bronze", "work_v3")})
    assert open_tasks(people, "by_version") == ["work_v1"]
    assert open_tasks(people, "by_tag") == ["work_v1"]
    assert open_tasks(people, "by_deployment") == ["work_v2"]
    assert open_tasks(people, "by_latest") == ["work_v3"]
    r = deploy(ana, {"bad_call.bpmn": parent("bad_call", 'camunda:calledElementBinding='
                                             '"version" camunda:calledElementVersion="9"')})
    assert r.status_code == 422 and r.get_json()["element"] == "call", r.get_json()
