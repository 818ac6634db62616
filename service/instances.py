"""Process instances inside one unit of work: start or load, run, and save everything at once.

A request runs the engine in memory first, then writes in one short transaction: the new engine
state (guarded by the instance's ``version`` — optimistic locking, so a concurrent change is a
409 and never a lost update), the inbox projection, decision records, outbox jobs and the audit
events of every engine step. Running the engine before the write lock keeps SQLite's single
writer free for the few milliseconds the writes need.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from . import audit, definitions, incidents, messaging
from .audit import Event
from .connectors import registry as connector_registry
from .decision_port import DecisionPort
from .engine.ports import DecisionOutcome
from .errors import StaleInstance
from .store import (Case, DecisionRecord, Definition, Instance, Job, Task,
                    TaskCandidate, joined, rows, to_jsonable, utcnow)
from .views import iso

ENGINE_ACTOR = "engine"


@dataclass
class Run:
    """Side effects of one engine run, collected in memory until the unit of work commits."""
    decisions: list = field(default_factory=list)
    outbox: list = field(default_factory=list)


class _RecordingDecisions:
    def __init__(self, run: Run):
        self.run, self.port = run, DecisionPort()

    def evaluate(self, decision_ref: str, inputs: dict) -> DecisionOutcome:
        outcome = self.port.evaluate(decision_ref, inputs)
        self.run.decisions.append(outcome.record)
        return outcome


class _OutboxConnectors:
    def __init__(self, run: Run):
        self.run = run

    def call(self, name: str, params: dict, *, idempotency_key: str):
        return connector_registry.call(name, params, idempotency_key=idempotency_key,
                                       outbox=self.run.outbox)


_library = None


def library():
    global _library
    if _library is None:
        from .engine import ProcessLibrary
        _library = ProcessLibrary()
    return _library


class _Sources(Mapping):
    """The BPMN sources of a definition, read from the database only if the library misses."""

    def __init__(self, row: Definition):
        self.row, self._files = row, None

    def _load(self) -> dict:
        if self._files is None:
            row = self.row
            if "source" not in row.__data__:      # loaded without its (large) source column
                row = Definition.get_by_id(row.id)
            self._files = definitions.process_sources(row)
        return self._files

    def __getitem__(self, name):
        return self._load()[name]

    def __iter__(self):
        return iter(self._load())

    def __len__(self):
        return len(self._load())


def spec_for(row: Definition):
    # The content hash is part of the key: the same key and version can name different content
    # in two databases (a test suite, a staging copy), never in one.
    return library().spec(row.key, (row.version, row.sha256), _Sources(row))


def runtime(run: Run, *, clock=None, script_cpu_seconds: float = 1.0):
    from .engine import Runtime
    return Runtime(decisions=_RecordingDecisions(run), connectors=_OutboxConnectors(run),
                   clock=clock or utcnow, script_cpu_seconds=script_cpu_seconds)


def start(row: Definition, data: dict, *, clock=None, script_cpu_seconds=1.0):
    """Run a new instance to its first wait state (in memory)."""
    run = Run()
    inst = runtime(run, clock=clock, script_cpu_seconds=script_cpu_seconds).start(spec_for(row), data)
    return inst, run


def load(row: Instance, *, definition: Definition | None = None, clock=None,
         script_cpu_seconds=1.0):
    """Rebuild an instance from its row; pass ``definition`` when the caller already has it."""
    run = Run()
    definition = definition or Definition.get_by_id(row.definition_id)
    inst = runtime(run, clock=clock, script_cpu_seconds=script_cpu_seconds).load(
        spec_for(definition), row.state)
    return inst, run


def save(case: Case, inst, run: Run, *, actor: str, row: Instance | None = None,
         definition: Definition | None = None, extra_events=(), new_case: bool = False):
    """Write the engine state and its projections in the current transaction.

    ``row`` is the loaded instance row (its ``version`` is the one the caller read); ``None``
    creates the instance. Raises ``StaleInstance`` when another request saved first. All audit
    events of the unit of work (``extra_events`` first) are appended once, at the end.
    Returns the instance row; ``row.created_tasks`` lists the inbox rows this save created.
    """
    now = utcnow()
    state = inst.dumps()
    status = inst.status
    next_due = inst.next_due_at()
    with joined():
        if row is None:
            values = dict(case=case.id, definition=definition.id, state=state, status=status,
                          next_due_at=next_due, created_at=now, updated_at=now, version=1)
            row = Instance(id=rows.insert(Instance, **values), **values)
            fresh = True
        else:
            changed = (Instance.update(state=state, status=status, version=Instance.version + 1,
                                       next_due_at=next_due, updated_at=now)
                       .where(Instance.id == row.id, Instance.version == row.version).execute())
            if changed != 1:
                raise StaleInstance(f"case {case.id} was changed by another request; reload "
                                    "and try again", case=case.id)
            row.version += 1
            fresh = False
        events = list(extra_events)
        events += _engine_events(case, row, inst)
        created = _project_tasks(case, row, inst, now, events, fresh=fresh)
        if not fresh or inst.waiting_messages():
            messaging.sync_subscriptions(row, inst)
        if run.decisions:
            rows.insert_many(DecisionRecord, [
                {"case": case.id, "instance": row.id, "kind": "decision",
                 "element_id": rec.get("element_id"), "definition_key": rec["definition_key"],
                 "definition_version": rec["definition_version"], "inputs": rec["inputs"],
                 "outputs": rec["outputs"], "matched_rules": rec["matched_rules"],
                 "actor": ENGINE_ACTOR, "created_at": now} for rec in run.decisions])
        if run.outbox:
            Job.insert_many([
                {"kind": "outbox", "instance": row.id, "case": case.id, "due_at": now,
                 "payload": to_jsonable(item), "idempotency_key": item["idempotency_key"]}
                for item in run.outbox]).on_conflict_ignore().execute()
        case_update = {}
        if status == "completed" and case.status in ("open", "incident"):
            case_update.update(status="completed", closed_at=now)
            events.append(Event("case.completed", ENGINE_ACTOR, case.id, row.id, {}))
        elif status == "failed":
            # A retry with backoff while attempts remain, then an incident (sets case status).
            incidents.on_failure(case, row, inst, now=now, events=events)
        priority = definitions.case_type(case.type).priority_of(inst.data)
        if priority and priority != case.priority:
            case_update["priority"] = priority
        if case_update or not new_case:
            case_update["updated_at"] = now
            Case.update(**case_update).where(Case.id == case.id).execute()
            for key, value in case_update.items():
                setattr(case, key, value)
        audit.append(events)
    row.created_tasks = created
    return row


def _engine_events(case: Case, row: Instance, inst) -> list[Event]:
    out = []
    for ev in inst.drain_events():
        detail = {"element_id": ev.element_id, "element_name": ev.element_name}
        detail.update(ev.detail or {})
        out.append(Event(f"engine.{ev.kind}", ENGINE_ACTOR, case.id, row.id, detail))
    return out


def _project_tasks(case: Case, row: Instance, inst, now: dt.datetime, events: list, *,
                   fresh: bool) -> list[Task]:
    """Make the inbox rows match the engine's ready user tasks; returns the tasks created."""
    ready = {t.id: t for t in inst.user_tasks()}
    open_rows = [] if fresh else list(Task.select().where(
        Task.instance == row, Task.status.in_(("open", "claimed"))))
    known = {r.engine_task_id for r in open_rows}
    gone = [r for r in open_rows if r.engine_task_id not in ready]
    if gone:
        ids = [r.id for r in gone]
        Task.update(status="cancelled").where(Task.id.in_(ids)).execute()
        TaskCandidate.delete().where(TaskCandidate.task.in_(ids)).execute()
        for r in gone:
            events.append(Event("task.withdrawn", ENGINE_ACTOR, case.id, row.id,
                                {"task": r.id, "element_id": r.element_id}))
    created, candidates = [], []
    for tid, view in ready.items():
        if tid in known:
            continue
        groups = sorted(set(view.candidate_groups or ()))
        users = sorted(set(view.candidate_users or ()))
        values = dict(instance=row.id, case=case.id, engine_task_id=tid,
                      element_id=view.element_id, name=view.name, case_type=case.type,
                      candidate_groups=groups, candidate_users=users, assignee=view.assignee,
                      status="claimed" if view.assignee else "open",
                      claimed_by=view.assignee, claimed_at=now if view.assignee else None,
                      form=to_jsonable(view.form or {}),
                      properties=to_jsonable(view.properties or {}), due_at=view.due_at,
                      created_at=now)
        task = Task(id=rows.insert(Task, **values), **values)
        created.append(task)
        candidates += [{"task": task.id, "kind": "group", "name": g} for g in groups]
        candidates += [{"task": task.id, "kind": "user", "name": u} for u in users]
        if view.assignee and view.assignee not in users:
            candidates.append({"task": task.id, "kind": "user", "name": view.assignee})
        events.append(Event("task.created", ENGINE_ACTOR, case.id, row.id,
                            {"task": task.id, "element_id": view.element_id, "name": view.name,
                             "candidate_groups": groups, "candidate_users": users,
                             "assignee": view.assignee,
                             "due_at": iso(view.due_at)}))
    if candidates:
        rows.insert_many(TaskCandidate, candidates)
    return created
