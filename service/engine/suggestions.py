"""Suggest the fields of a generic form: the variables the process reads right after the task.

A user task whose form is only named (``camunda:formKey``) or absent accepts any variables
(``forms.generic_form``). To help the person (and the inbox that draws the form), we list the
variables the process reads on the way to its next wait state: the conditions of the gateways
it passes, and the assignment of the next user task (``camunda:assignee="${reviewer}"``). A
condition also hints the type (``${approved}``: a boolean; ``amount > 100``: a number;
``outcome == 'decided'``: a text, with ``decided`` as an example value).

This is a reading of expression text, not an evaluation: it only ever adds suggestions.
"""
from __future__ import annotations

import re
from typing import Any, Iterable

from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask

from .expressions import is_expression
from .forms import is_generic, suggest
from .tasks import ExternalTask, HumanTask

__all__ = ["assignment_reads", "suggest_fields"]

_NAME = r"([A-Za-z_][A-Za-z0-9_]*)"
_KEYWORDS = {"true", "false", "null", "and", "or", "not", "empty", "eq", "ne", "lt", "gt", "le",
             "ge", "div", "mod", "instanceof", "if", "then", "else", "for", "in", "return",
             "some", "every", "satisfies", "between", "True", "False", "None", "is",
             "now", "dateTime", "today", "date", "time", "duration", "string", "number"}
_STRINGS = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_PATTERNS = (
    (re.compile(r"^\s*(?:!|not\s+)?\s*" + _NAME + r"\s*$"), "boolean"),
    (re.compile(_NAME + r"\s*(?:==|!=|=|eq|ne)\s*(?:true|false|True|False)\b"), "boolean"),
    (re.compile(_NAME + r"\s*(?:==|!=|=|eq|ne|<=|>=|<|>|lt|gt|le|ge)\s*-?\d"), "number"),
    (re.compile(_NAME + r"\s*(?:==|!=|=|eq|ne)\s*['\"]"), "string"),
)
_EXAMPLE = re.compile(_NAME + r"\s*(?:==|=|eq)\s*('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")")


def _body(text: str) -> str:
    stripped = text.strip()
    if stripped.startswith("="):
        return stripped[1:]
    match = re.fullmatch(r"[$#]\{(.*)\}", stripped, re.S)
    return match.group(1) if match else stripped


def _reads(text: str) -> list[tuple[str, str | None, list[str]]]:
    """``(name, json type or None, example values)`` for each variable ``text`` reads."""
    body = _body(text)
    types: dict[str, str] = {}
    for pattern, json_type in _PATTERNS:
        for match in pattern.finditer(body):
            types.setdefault(match.group(1), json_type)
    examples: dict[str, list[str]] = {}
    for match in _EXAMPLE.finditer(body):
        examples.setdefault(match.group(1), []).append(match.group(2)[1:-1])
    without_strings = _STRINGS.sub(" ", body)
    names = []
    for match in re.finditer(r"(?<![\w.])" + _NAME, without_strings):
        name = match.group(1)
        if name not in _KEYWORDS and name not in names and not without_strings[match.end():].lstrip().startswith("("):
            names.append(name)
    return [(n, types.get(n), examples.get(n, [])) for n in names]


def _conditions(spec: Any) -> Iterable[str]:
    for condition, _ in getattr(spec, "cond_task_specs", ()):
        text = getattr(condition, "args", [None])[0]
        if isinstance(text, str):
            yield text


def _assignment_texts(spec: HumanTask) -> Iterable[tuple[str, bool]]:
    a = spec.assignment
    yield from ((t, False) for t in (a.assignee, *a.candidate_groups, *a.candidate_users) if t)


def assignment_reads(spec: HumanTask) -> list[str]:
    """The variables a human task's assignment expressions read (assignee, candidates, due
    and follow-up dates), first names only."""
    a = spec.assignment
    names: list[str] = []
    for text in (*(t for t, _ in _assignment_texts(spec)), a.due_date, a.follow_up_date):
        if not text or not (text.strip().startswith("=") or is_expression(text)):
            continue
        for name, _, _ in _reads(text):
            if name not in names:
                names.append(name)
    return names


def _ahead(task_spec: Any) -> Iterable[tuple[str, bool]]:
    """``(text, is_condition)`` for the expressions read between ``task_spec`` and the next
    wait state: a bare name is a boolean in a condition, a user or group name in an
    assignment (``camunda:assignee="${reviewer}"``)."""
    seen, queue = {task_spec.name}, list(task_spec.outputs)
    while queue:
        spec = queue.pop(0)
        if spec.name in seen:
            continue
        seen.add(spec.name)
        if isinstance(spec, HumanTask):
            yield from _assignment_texts(spec)
            continue
        if isinstance(spec, (ExternalTask, SubWorkflowTask, CatchingEvent)):
            continue
        yield from ((text, True) for text in _conditions(spec))
        queue.extend(spec.outputs)


def suggest_fields(process_spec: Any) -> None:
    """Add suggested fields to the generic forms of ``process_spec``'s user tasks (once)."""
    if getattr(process_spec, "omniflow_suggested", False):
        return
    process_spec.omniflow_suggested = True
    for spec in process_spec.task_specs.values():
        if not isinstance(spec, HumanTask) or not is_generic(spec.assignment.form):
            continue
        for text, is_condition in _ahead(spec):
            for name, json_type, examples in _reads(text):
                suggest(spec.assignment.form, name, json_type if is_condition else None)
                if examples:
                    field = spec.assignment.form["properties"][name]
                    field["examples"] = sorted(set(field.get("examples", [])) | set(examples))
