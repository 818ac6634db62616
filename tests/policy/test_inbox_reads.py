"""The inbox read has two SQL forms (``policy.visibility.inbox_tasks``): groups with many open
tasks ask each row in due order; small groups start from the caller's own ids. Both must list
exactly what the visibility rule admits, in due order, page by page."""
import datetime as dt
import random

import pytest

from service.policy import visibility
from service.policy.identity import Identity
from service.policy.visibility import may_see_task
from service.store import Case, Definition, Instance, Task, TaskCandidate, atomic
from service.usecases import tasks as inbox

GROUPS = ["big", "big", "big", "big", "small", "other"]
PEOPLE = ["ann", "bob", "cy"]


@pytest.fixture
def open_work(db, deployed):
    """90 tasks over groups, statuses, due times (some none, some equal) and people who were
    assigned, claimed, completed or were named as candidates."""
    rnd = random.Random(11)
    definition = Definition.select().where(Definition.kind == "bpmn").first()
    base = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)
    with atomic():
        case = Case.create(type="order_exception", submitted_by="oms", data={}, status="open")
        instance = Instance.create(case=case, definition=definition, state="{}")
        for i in range(90):
            group = rnd.choice(GROUPS)
            person = rnd.choice(PEOPLE + [None, None, None])
            status = rnd.choice(["open", "open", "claimed", "completed", "cancelled"])
            due = None if i % 7 == 0 else base + dt.timedelta(hours=rnd.randrange(0, 30))
            task = Task.create(
                instance=instance, case=case, engine_task_id=f"t{i}", element_id="work",
                name="Work", case_type="order_exception", candidate_groups=[group],
                candidate_users=[person] if person and i % 5 == 0 else [], status=status,
                due_at=due, assignee=person if status != "open" and i % 3 else None,
                claimed_by=rnd.choice([person, "bob"]) if status == "claimed" else None,
                completed_by=person if status == "completed" else None)
            if status in ("open", "claimed"):          # candidate rows exist for open tasks only
                TaskCandidate.create(task=task, kind="group", name=group)
                for user in task.candidate_users:
                    TaskCandidate.create(task=task, kind="user", name=user)


def _expected(who, statuses):
    rows = [t for t in Task.select() if t.status in statuses and may_see_task(who, t)]
    return [t.id for t in sorted(rows, key=lambda t: (t.due_at is None, t.due_at or 0, t.id))]


def _paged(who, status=None):
    seen, cursor = [], None
    while True:
        page = inbox.listing(who, limit=4, cursor=cursor, status=status)
        seen += [item["id"] for item in page["items"]]
        cursor = page["next"]
        if not cursor:
            return seen


@pytest.mark.parametrize("many", [False, True], ids=["from-own-ids", "per-row"])
@pytest.mark.parametrize("who", [Identity("ann", frozenset({"small"})),
                                 Identity("bob", frozenset({"big"})),
                                 Identity("cy", frozenset({"nobody"})),
                                 Identity("ann", frozenset({"small", "other"}))],
                         ids=["small-group", "big-group", "no-group", "two-groups"])
def test_both_forms_list_what_the_rule_admits_in_due_order(open_work, who, many, monkeypatch):
    monkeypatch.setattr(visibility, "MANY_CANDIDATES", 1 if many else 10_000)
    _, driven = visibility.inbox_tasks(who, Task.select(), ["open", "claimed"])
    assert driven is not many
    expected = _expected(who, ("open", "claimed"))
    assert expected and _paged(who) == expected
    assert _paged(who, status="claimed") == _expected(who, ("claimed",))
    assert _paged(who, status="completed") == _expected(who, ("completed",))
    assert _paged(who, status="cancelled") == _expected(who, ("cancelled",))


def test_the_form_follows_what_the_caller_may_see_in_the_statuses_read(open_work, monkeypatch):
    """Someone with a long history of completed tasks but a small group: their open inbox is
    read from their ids, their completed list in due order (sorting every id they ever completed
    cost 230 ms at 100,000 of them)."""
    who = Identity("ann", frozenset({"small"}))
    task = Task.get(Task.engine_task_id == "t1")
    with atomic():
        for i in range(40):
            Task.create(instance=task.instance, case=task.case, engine_task_id=f"done{i}",
                        element_id="work", name="Work", case_type="order_exception",
                        candidate_groups=["small"], status="completed", claimed_by="ann",
                        completed_by="ann", due_at=task.due_at)
    completed = len(_expected(who, ("completed",)))
    visible_open = len(_expected(who, ("open", "claimed")))
    assert visible_open < completed
    monkeypatch.setattr(visibility, "MANY_CANDIDATES", completed)
    assert visibility.inbox_tasks(who, Task.select(), ["open", "claimed"])[1] is True
    assert visibility.inbox_tasks(who, Task.select(), ["completed"])[1] is False
    assert _paged(who, status="completed") == _expected(who, ("completed",))
