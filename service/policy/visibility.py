"""Who may see which task, case and incident: the one rule, as queries and as a predicate.

A **task** is visible to admins and auditors, to its candidates (a group of the caller's or the
caller by name) while it is open, and at any time to whoever it is assigned to, claimed it or
completed it. A **case** is visible to whoever submitted it and to whoever may see one of its
tasks; an **incident** to whoever may see its case. Anything else is answered 404, so a caller
cannot even learn that an object exists.

Candidates are read from ``task_candidate``, which holds rows only for open tasks: the inbox
index stays the size of the open work, and "candidates see it while it is open" is the same
rule in SQL and in :func:`may_see_task`.
"""
from __future__ import annotations

import peewee

from ..store import Case, Definition, Incident, Task, TaskCandidate, rows
from .identity import Identity
from .rules import can_see_task

OPEN = ("open", "claimed")


def _sees_everything(who: Identity) -> bool:
    return who.is_admin or who.is_auditor


def _groups(who: Identity) -> list[str]:
    return list(who.groups) or [""]


def _is_candidate(groups: list, name):
    """Candidate rows naming one of ``groups`` or the person ``name``."""
    return (((TaskCandidate.kind == "group") & TaskCandidate.name.in_(groups))
            | ((TaskCandidate.kind == "user") & (TaskCandidate.name == name)))


# A task is the caller's own (visible at any time) when its assignee, claimer or completer.
_PERSONAL = (Task.assignee, Task.claimed_by, Task.completed_by)


def _task_condition(who: Identity, *, per_row: bool = False):
    """The rule as SQL. ``per_row`` asks the candidate question of each task row (EXISTS) rather
    than building the caller's whole candidate list first (IN); the answer is the same."""
    if per_row:
        condition = peewee.fn.EXISTS(TaskCandidate.select(TaskCandidate.id).where(
            (TaskCandidate.task == Task.id) & _is_candidate(_groups(who), who.name)))
    else:
        condition = Task.id.in_(TaskCandidate.select(TaskCandidate.task).where(
            _is_candidate(_groups(who), who.name)))
    for column in _PERSONAL:
        condition = condition | (column == who.name)
    return condition


def visible_tasks(who: Identity, query):
    """``query`` (a select over ``Task``) narrowed to the tasks ``who`` may see."""
    return query if _sees_everything(who) else query.where(_task_condition(who))


# Past this many tasks the caller may see (in the statuses read), the inbox's ordered scan asks
# each row (EXISTS) instead of building the list: at 1,000,000 open tasks a group with 40 % of
# them took 530 ms to list and 6 ms to ask; a group with 0.01 % is faster as a list.
MANY_CANDIDATES = 5000


def _own_or_candidate_ids(who: Identity, statuses):
    """The ids of the tasks :func:`_task_condition` admits in ``statuses``, as one list of index
    reads (UNION ALL: a task both the caller's own and a candidate's comes twice): the caller's
    candidate rows (open tasks only), then the caller's own tasks in those statuses (each
    column of ``_PERSONAL`` is indexed with ``status``, so the tasks a person completed over
    the years are not read for their open inbox). Returns the statement and its parameters."""
    groups = _groups(who)
    return (_id_list_statement(len(groups), len(statuses)),
            _id_list_params(groups, who.name, statuses))


def _id_list_params(groups: list, name: str, statuses) -> list:
    """The id list's parameters, in the order its statement takes them: the candidate
    condition's, then a (person, status) pair per column of ``_PERSONAL`` and status."""
    pairs = [value for _ in _PERSONAL for status in statuses for value in (name, status)]
    return ["group", *groups, "user", name, *pairs]


_ID_LISTS: dict[tuple[int, int], rows.Prepared] = {}


def _id_list_statement(groups: int, statuses: int) -> rows.Prepared:
    """The id list's statement for callers with ``groups`` groups reading ``statuses``
    statuses, built once per shape (peewee took longer to build its seven selects than the
    database took to run them)."""
    statement = _ID_LISTS.get((groups, statuses))
    if statement is None:
        def build(_group, *rest):
            names, (_user, name, *pairs) = rest[:groups], rest[groups:]
            ids = TaskCandidate.select(TaskCandidate.task).where(_is_candidate(list(names), name))
            pairs = iter(pairs)
            for column in _PERSONAL:
                for _ in range(statuses):   # one equality each: PostgreSQL seeks on both columns
                    person, status = next(pairs), next(pairs)
                    ids = ids + Task.select(Task.id).where(column == person,
                                                           Task.status == status)
            return ids
        stand_ins = _id_list_params([f"g{n}" for n in range(groups)], "u", ["s"] * statuses)
        statement = _ID_LISTS[(groups, statuses)] = rows.Prepared(build, *stand_ins)
    return statement


def inbox_tasks(who: Identity, query, statuses) -> tuple:
    """:func:`visible_tasks` in the SQL form that suits an inbox read in due order for ``who``
    of the tasks in ``statuses`` (the read filters by them too); returns the query and whether
    the read should start from a list of ids (``driven``) rather than from the due-order index.

    A caller who may see many tasks in ``statuses`` finds a page early in the due order, asking
    each row (EXISTS). One who may see few would walk the whole due index to fill a page (2 to
    4 s at a million open tasks, for a group with a hundred tasks or none): their ids (fewer
    than 5,000: candidate rows plus their own tasks in ``statuses``) are read first, and the
    page is read from that list. A list of values rather than a subquery: PostgreSQL, which
    cannot know that a person's claimed tasks are mostly completed ones, estimated the subquery
    at 200,000 rows and walked the whole task table (0.4 s).
    """
    if _sees_everything(who):
        return query, False
    statement, params = _own_or_candidate_ids(who, list(statuses))
    ids = statement.values_if_fewer(MANY_CANDIDATES, *params)
    if ids is None:
        return query.where(_task_condition(who, per_row=True)), False
    return query.where(rows.one_of(Task.id, sorted(set(ids)))), True


def may_see_task(who: Identity, task: Task) -> bool:
    """The same rule as :func:`visible_tasks`, for a task row already loaded."""
    if _sees_everything(who) or who.name in (task.assignee, task.claimed_by, task.completed_by):
        return True
    return task.status in OPEN and can_see_task(who, task.candidate_groups,
                                                task.candidate_users, None)


def visible_cases(who: Identity):
    """Cases ``who`` may see, with their definition joined (views show its version)."""
    query = Case.select(Case, Definition).join(Definition, peewee.JOIN.LEFT_OUTER)
    if _sees_everything(who):
        return query
    via_tasks = Case.id.in_(Task.select(Task.case).where(_task_condition(who)))
    return query.where((Case.submitted_by == who.name) | via_tasks)


def visible_incidents(who: Identity):
    """Incidents of the cases ``who`` may see, with their case joined."""
    query = Incident.select(Incident, Case).join(Case)
    if _sees_everything(who):
        return query
    return query.where(Incident.case.in_(visible_cases(who).select(Case.id)))


__all__ = ["inbox_tasks", "may_see_task", "visible_cases", "visible_incidents", "visible_tasks"]
