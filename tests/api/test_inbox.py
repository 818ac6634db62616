"""The inbox: visibility, filters, sorting by due time, pagination, claim/unclaim/delegate."""
import io

import pytest

PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="x">
  <bpmn:process id="{pid}" isExecutable="true">
    <bpmn:startEvent id="begin"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="begin" targetRef="work" />
    <bpmn:userTask id="work" name="Count the shelf" camunda:candidateGroups="{group}" {due}>
      <bpmn:extensionElements><camunda:formData>
        <camunda:formField id="counted" label="Units counted" type="long">
          <camunda:validation><camunda:constraint name="required" /></camunda:validation>
        </camunda:formField>
      </camunda:formData></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="finish" />
    <bpmn:endEvent id="finish"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture
def setup(users):
    analyst = users.make("ana", ["analyst"])
    files = {
        "late.bpmn": PROCESS.format(pid="late_count", group="store_associate",
                                    due='camunda:dueDate="2020-01-01T00:00:00Z"'),
        "soon.bpmn": PROCESS.format(pid="soon_count", group="store_associate",
                                    due='camunda:dueDate="PT4H"'),
        "open.bpmn": PROCESS.format(pid="open_count", group="store_associate", due=""),
        "other.bpmn": PROCESS.format(pid="finance_count", group="finance", due=""),
    }
    data = {"files": [(io.BytesIO(v.encode()), k) for k, v in files.items()]}
    assert analyst.post("/api/v1/deployments", data=data,
                        content_type="multipart/form-data").status_code == 201
    pos = users.make("pos", ["pos"], client=True)
    for pid in ("open_count", "soon_count", "late_count", "finance_count"):
        assert pos.post("/api/v1/cases", json={"type": pid, "data": {}}).status_code == 201
    return {"pos": pos, "sam": users.make("sam", ["store_associate"]),
            "kim": users.make("kim", ["store_associate"]),
            "fin": users.make("fin", ["finance"]), "admin": users.make("root", ["admin"]),
            "aud": users.make("aud", ["auditor"])}


def items(actor, **query):
    response = actor.get("/api/v1/tasks", query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_sorted_by_due_time_and_scoped_to_groups(setup):
    mine = items(setup["sam"])["items"]
    assert [t["case_type"] for t in mine] == ["late_count", "soon_count", "open_count"]
    assert [t["overdue"] for t in mine] == [True, False, False]
    assert [t["case_type"] for t in items(setup["fin"])["items"]] == ["finance_count"]
    assert len(items(setup["admin"])["items"]) == 4
    assert len(items(setup["aud"])["items"]) == 4


def test_filters(setup):
    assert [t["case_type"] for t in items(setup["sam"], overdue="true")["items"]] == ["late_count"]
    assert [t["case_type"] for t in items(setup["sam"], case_type="open_count")["items"]] == \
        ["open_count"]
    assert [t["case_type"] for t in items(setup["admin"], group="finance")["items"]] == \
        ["finance_count"]
    assert setup["sam"].get("/api/v1/tasks?limit=0").status_code == 422
    assert setup["sam"].get("/api/v1/tasks?status=weird").status_code == 422


def test_keyset_pagination_walks_everything_once(setup):
    seen, cursor = [], None
    while True:
        page = items(setup["admin"], limit=1, **({"cursor": cursor} if cursor else {}))
        seen += [t["id"] for t in page["items"]]
        cursor = page["next"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 4
    assert setup["admin"].get("/api/v1/tasks?cursor=!!!").status_code == 400


def test_pages_follow_due_order_across_open_and_claimed_tasks(setup):
    """Each status is read as its own ordered scan and merged: the walk with one row a page
    must give exactly the order of one big page, claimed tasks in their due-time place."""
    soon = next(t for t in items(setup["sam"])["items"] if t["case_type"] == "soon_count")
    assert setup["sam"].post(f"/api/v1/tasks/{soon['id']}/claim").status_code == 200
    whole = items(setup["admin"], limit=50)["items"]
    assert [t["case_type"] for t in whole[:2]] == ["late_count", "soon_count"]
    assert [t["status"] for t in whole[:2]] == ["open", "claimed"]
    undated = [t["id"] for t in whole[2:]]
    assert undated == sorted(undated) and all(t["due_at"] is None for t in whole[2:])
    walked, cursor = [], None
    while True:
        page = items(setup["admin"], limit=1, **({"cursor": cursor} if cursor else {}))
        walked += [t["id"] for t in page["items"]]
        cursor = page["next"]
        if not cursor:
            break
    assert walked == [t["id"] for t in whole]
    assert [t["id"] for t in items(setup["admin"], status="claimed")["items"]] == [soon["id"]]


def test_both_sql_forms_of_the_visibility_rule_list_the_same_tasks(setup, monkeypatch):
    """Callers with many candidate tasks are asked per row (EXISTS), others by list (IN)."""
    from service.policy import visibility
    before = {name: items(setup[name])["items"] for name in ("sam", "kim", "fin", "pos")}
    monkeypatch.setattr(visibility, "MANY_CANDIDATES", 1)
    for name, listed in before.items():
        assert items(setup[name])["items"] == listed, name
    assert [t["case_type"] for t in before["fin"]] == ["finance_count"]
    assert before["pos"] == []


def test_task_detail_has_form_and_case_context(setup):
    task = items(setup["sam"])["items"][0]
    detail = setup["sam"].get(f"/api/v1/tasks/{task['id']}").get_json()
    assert detail["form"]["properties"]["counted"]["type"] == "integer"
    assert detail["form"]["required"] == ["counted"]
    assert detail["case"]["type"] == "late_count"
    other = items(setup["fin"])["items"][0]
    assert setup["sam"].get(f"/api/v1/tasks/{other['id']}").status_code == 404


def test_claim_unclaim_delegate(setup):
    task_id = items(setup["sam"])["items"][0]["id"]
    url = f"/api/v1/tasks/{task_id}"
    assert setup["sam"].post(url + "/claim").get_json()["assignee"] == "sam"
    assert setup["kim"].post(url + "/claim").status_code == 409
    assert setup["kim"].post(url + "/complete", json={"data": {"counted": 3}}).status_code == 409
    assert setup["kim"].post(url + "/unclaim").status_code == 403
    assert setup["sam"].post(url + "/unclaim").get_json()["status"] == "open"
    delegated = setup["sam"].post(url + "/delegate", json={"to": "kim", "reason": "shift end"})
    assert delegated.status_code == 200 and delegated.get_json()["assignee"] == "kim"
    assert [t["id"] for t in items(setup["kim"], mine="true")["items"]] == [task_id]
    assert setup["sam"].post(url + "/delegate", json={"to": "nobody"}).status_code in (403, 422)
    assert setup["aud"].post(url + "/claim").status_code == 403
    done = setup["kim"].post(url + "/complete", json={"data": {"counted": 7}})
    assert done.status_code == 200 and done.get_json()["case_status"] == "completed"
    assert setup["kim"].post(url + "/claim").status_code == 409
    timeline = setup["admin"].get(f"/api/v1/cases/{done.get_json()['case_id']}/timeline")
    kinds = [e["kind"] for e in timeline.get_json()["items"]]
    assert kinds.count("task.claimed") == 1 and "task.unclaimed" in kinds
    assert "task.delegated" in kinds and "task.completed" in kinds


def test_case_listing_filters_and_pagination(setup):
    admin = setup["admin"]
    page = admin.get("/api/v1/cases?limit=3").get_json()
    assert len(page["items"]) == 3 and page["next"]
    rest = admin.get(f"/api/v1/cases?limit=3&cursor={page['next']}").get_json()
    assert len(rest["items"]) == 1 and rest["next"] is None
    assert [c["type"] for c in admin.get("/api/v1/cases?type=finance_count").get_json()["items"]] \
        == ["finance_count"]
    assert len(setup["pos"].get("/api/v1/cases").get_json()["items"]) == 4   # its own
    assert setup["fin"].get("/api/v1/cases").get_json()["items"][0]["type"] == "finance_count"
    assert len(setup["fin"].get("/api/v1/cases").get_json()["items"]) == 1


def test_listing_carries_case_context_and_detail_previews_policy(users, deployed):
    oms = users.make("oms", ["oms"], client=True)
    both = users.make("both", ["customer_service", "cs_supervisor"], {"refund": 500})
    data = {"order_id": "7", "reason": "damaged", "channel": "web", "value": 420, "margin": 0.3,
            "customer_tier": "gold"}
    mine = both.post("/api/v1/cases", json={"type": "order_exception", "data": data,
                                            "external_ref": "o-7"}).get_json()
    listed = both.get("/api/v1/tasks").get_json()["items"][0]
    assert listed["case"]["external_ref"] == "o-7" and listed["case"]["priority"]
    task_id = mine["tasks"][0]["id"]
    both.post(f"/api/v1/tasks/{task_id}/complete",
              json={"data": {"resolution": "refund", "refund_amount": 200}})
    approval = [t for t in both.get("/api/v1/tasks").get_json()["items"]
                if t["element_id"] == "approve_refund"][0]
    detail = both.get(f"/api/v1/tasks/{approval['id']}").get_json()
    assert detail["policy"] == {"allowed": False, "rule": "four-eyes",
                                "detail": detail["policy"]["detail"]}
    other = users.make("sup", ["cs_supervisor"], {"refund": 100})
    preview = other.get(f"/api/v1/tasks/{approval['id']}").get_json()["policy"]
    assert preview["allowed"] is False and preview["rule"] == "authority"
    assert oms.get(f"/api/v1/cases/{mine['id']}").status_code == 404
