"""Process instances on our records: start or load an engine instance, and write its state.

An engine run happens in memory first (:func:`start`, :func:`load` and then an operation on the
instance); its side effects on other systems and its decisions are collected in the
:class:`Process` until the unit of work writes them. Running the engine before the write lock
keeps SQLite's single writer free for the few milliseconds the writes need.

:func:`save_state` writes the engine state guarded by the instance's ``version`` (optimistic
locking: a concurrent change is a 409, never a lost update) and answers with what the save
found, so the caller (``usecases.unit_of_work``) decides what follows: project the inbox, sync
message subscriptions, schedule a retry or open an incident. This module imports none of those.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from peewee import SQL

from ..connectors import registry as connector_registry
from ..engine import ProcessLibrary, Runtime
from ..engine.ports import DecisionOutcome
from ..errors import StaleInstance
from ..store import Case, Definition, Instance, rows
from . import definitions, deployed_connectors, shadow_decisions
from .deployed_decisions import DeployedDecisions


@dataclass
class Process:
    """An engine instance and the side effects of its runs, held until the unit of work commits.

    ``decisions`` are decision records (the port's ``record`` dicts); ``outbox`` the connector
    calls to deliver after commit.
    """
    inst: object
    decisions: list = field(default_factory=list)
    outbox: list = field(default_factory=list)
    # Loaded waiting, with no external task and no message catch: the instance then has no
    # live external-task or subscription rows (each save makes them mirror its state), so the
    # save need not read them back unless this run made some.
    had_no_rows: bool = False


class _RecordingDecisions:
    """The engine's decision port: evaluates deployed DMN and keeps the records for the save."""

    def __init__(self, process: Process, caller: Definition | None = None):
        self.process, self.port = process, DeployedDecisions(caller)

    def evaluate(self, decision_ref: str, inputs: dict, binding=None) -> DecisionOutcome:
        outcome = self.port.evaluate(decision_ref, inputs, binding)
        # A shadow table of the same definition is evaluated beside it, recorded, not used.
        shadow = shadow_decisions.evaluate(outcome.record["definition_key"],
                                           outcome.record["decision"], inputs)
        if shadow is not None:
            outcome.record["shadow"] = shadow
        self.process.decisions.append(outcome.record)
        return outcome


class _OutboxConnectors:
    """The engine's connector port: calls that change other systems wait in the outbox."""

    def __init__(self, process: Process):
        self.process = process

    def handles(self, name: str) -> bool:
        """Whether this service runs ``name`` itself (a built-in connector or a deployed
        connector file); an external task of any other topic waits for an external worker."""
        return name in connector_registry or deployed_connectors.spec(name) is not None

    def call(self, name: str, params: dict, *, idempotency_key: str):
        # An analyst's HTTP connector file. Its name is usually no file's: the snapshot answers
        # that without a query, and only a name no built-in connector has is looked up again.
        if (deployed_connectors.known_spec(name) is not None
                or (name not in connector_registry and deployed_connectors.spec(name) is not None)):
            self.process.outbox.append({"connector": name, "system": "http", "params": params,
                                        "idempotency_key": idempotency_key})
            return {"status": "queued", "idempotency_key": idempotency_key}
        return connector_registry.call(name, params, idempotency_key=idempotency_key,
                                       outbox=self.process.outbox)


_library = ProcessLibrary()


class _Sources(Mapping):
    """The BPMN sources of a definition (or their connector bindings, ``read`` =
    ``definitions.process_bindings``), read from the database only if the library misses."""

    def __init__(self, row: Definition, read=definitions.process_sources):
        self.row, self.read, self._files = row, read, None

    def _load(self) -> dict:
        if self._files is None:
            row = self.row
            if "source" not in row.__data__ or "bindings" not in row.__data__:
                row = Definition.get_by_id(row.id)    # loaded without its large columns
            self._files = self.read(row)
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
    return _library.spec(row.key, (row.version, row.sha256), _Sources(row),
                         bindings=_Sources(row, definitions.process_bindings))


def _runtime(process: Process, *, clock, script_cpu_seconds: float,
             definition: Definition | None = None) -> Runtime:
    return Runtime(decisions=_RecordingDecisions(process, definition),
                   connectors=_OutboxConnectors(process),
                   clock=clock, script_cpu_seconds=script_cpu_seconds)


def start(row: Definition, data: dict, *, clock, script_cpu_seconds: float,
          initiator: str | None = None, timer_fired: bool = False) -> Process:
    """Run a new instance of ``row`` to its first wait state (in memory); ``initiator`` fills a
    start event's ``camunda:initiator`` variable, ``timer_fired`` starts a timer start event
    as that timer firing now."""
    process = Process(None)
    process.inst = _runtime(process, clock=clock, script_cpu_seconds=script_cpu_seconds,
                            definition=row).start(spec_for(row), data, initiator=initiator,
                                                  timer_fired=timer_fired)
    return process


def load(row: Instance, *, clock, script_cpu_seconds: float,
         definition: Definition | None = None) -> Process:
    """Rebuild an instance from its row; pass ``definition`` when the caller already has it."""
    process = Process(None)
    definition = definition or Definition.get_by_id(row.definition_id)
    process.inst = _runtime(process, clock=clock, script_cpu_seconds=script_cpu_seconds,
                            definition=definition).load(spec_for(definition), row.state)
    inst = process.inst
    process.had_no_rows = (row.status == "waiting" and inst.status == "waiting"
                           and not inst.external_tasks() and not inst.waiting_messages())
    return process


def migrate(row: Instance, target: Definition, mapping: dict, variables: dict | None, *,
            clock, script_cpu_seconds: float) -> Process:
    """The instance of ``row`` moved onto ``target`` (another version of its process), in
    memory; ``EngineFailure`` naming the element when it cannot move."""
    process = Process(None)
    process.inst = _runtime(process, clock=clock, script_cpu_seconds=script_cpu_seconds,
                            definition=target).migrate(spec_for(target), row.state, mapping,
                                                       variables)
    return process


@dataclass
class Saved:
    """What :func:`save_state` wrote: the row (its version bumped) and whether it is new."""
    row: Instance
    fresh: bool


# The save of every operation on a live instance: its SQL is built once (``rows.Prepared``).
_SAVE_STATE = rows.Prepared(
    lambda state, status, due, at, id_, version: (
        Instance.update(state=state, status=status, version=Instance.version + SQL("1"),
                        next_due_at=due, updated_at=at)
        .where(Instance.id == id_, Instance.version == version)),
    "{}", "waiting", rows.STAND_IN_TIME, rows.STAND_IN_TIME, -1, -1,
    fields=(Instance.state, None, Instance.next_due_at, Instance.updated_at, None, None))


def save_state(case: Case, inst, *, row: Instance | None, definition: Definition | None,
               now: dt.datetime) -> Saved:
    """Write the engine state in the caller's transaction.

    ``row`` is the loaded instance row (its ``version`` is the one the caller read); ``None``
    creates the instance of ``definition``. Raises ``StaleInstance`` when another request saved
    first.
    """
    state = inst.dumps()
    status = inst.status
    next_due = inst.next_due_at()
    if row is None:
        values = dict(case=case.id, definition=definition.id, state=state, status=status,
                      next_due_at=next_due, created_at=now, updated_at=now, version=1)
        return Saved(Instance(id=rows.insert(Instance, **values), **values), True)
    if definition is not None and definition.id != row.definition_id:
        changed = (Instance.update(state=state, status=status, version=Instance.version + 1,
                                   next_due_at=next_due, updated_at=now,
                                   definition=definition.id)      # a migrated instance
                   .where(Instance.id == row.id, Instance.version == row.version).execute())
        migrated = True
    else:
        changed = _SAVE_STATE.execute(state, status, next_due, now, row.id, row.version)
        migrated = False
    if changed != 1:
        raise StaleInstance(f"case {case.id} was changed by another request; reload and try "
                            "again", case=case.id)
    row.version += 1
    if migrated:
        row.definition_id = definition.id
    return Saved(row, False)


__all__ = ["Process", "Saved", "load", "migrate", "save_state", "spec_for", "start"]
