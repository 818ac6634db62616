"""What every command needs before it touches the database, and around the use case it runs."""
from __future__ import annotations

import json
import sys
from contextlib import contextmanager

import click

from ..config import Config
from ..errors import OmniflowError
from ..usecases import system


def open_store() -> Config:
    """Bind the database from the environment and bring its schema up to date."""
    return system.open_store(Config.from_env())


@contextmanager
def problems_as_errors():
    """A use case's refusal ends the command with its problem+json, as the API would answer."""
    try:
        yield
    except OmniflowError as exc:
        raise click.ClickException(json.dumps(exc.to_problem())) from exc


@contextmanager
def progress_bar(label: str):
    """``(on_total, progress)`` for a long use case: the bar (on stderr) appears once the use
    case says how many items there are, moves with ``progress(n)`` and is closed at the end."""
    bar = {}

    def on_total(n: int) -> None:
        bar["bar"] = click.progressbar(length=n, label=label, file=sys.stderr, show_pos=True)
        bar["bar"].__enter__()

    try:
        yield on_total, lambda n: bar["bar"].update(n)
    finally:
        if "bar" in bar:
            bar["bar"].__exit__(None, None, None)
