"""``migrate-instances``: move running instances of a process version to another version.

The same use case as ``POST /api/v1/migrations`` (``--dry-run``: ``/migrations/dry-run``),
with a progress bar; ``server.py migrate`` is the database schema, not this.
"""
from __future__ import annotations

import json

import click

from ..usecases import migrations as usecase
from .context import open_store, problems_as_errors, progress_bar


def _pairs(values, what: str) -> dict:
    out = {}
    for value in values:
        source, sep, target = value.partition("=")
        if not sep or not source or not target:
            raise click.BadParameter(f"{value!r}: write SOURCE=TARGET", param_hint=what)
        out[source] = target
    return out


@click.command("migrate-instances")
@click.argument("process")
@click.option("--from", "source", type=int, required=True, help="The source version.")
@click.option("--to", "target", type=int, required=True, help="The target version.")
@click.option("--map", "mapping", multiple=True,
              help="SOURCE_ELEMENT=TARGET_ELEMENT (repeat); unnamed elements keep their id.")
@click.option("--set", "variables", multiple=True,
              help="NAME=JSON value to set on the moved instances (repeat).")
@click.option("--dry-run", is_flag=True, help="List what cannot move and why; change nothing.")
@click.option("--as", "actor", default=None, help="Who migrates (default: the operator).")
def migrate_instances(process, source, target, mapping, variables, dry_run, actor):
    """Move the running instances of PROCESS version --from to version --to.

    Example: python server.py migrate-instances order_exception --from 1 --to 2
    --map handle_exception=handle_order_exception --dry-run
    """
    config = open_store()
    values = {}
    for name, text in _pairs(variables, "--set").items():
        try:
            values[name] = json.loads(text)
        except ValueError:
            values[name] = text
    plan = {"process": process, "source_version": source, "target_version": target,
            "mapping": _pairs(mapping, "--map"), "variables": values}
    who = usecase.OPERATOR
    with problems_as_errors(), progress_bar("migrating") as (on_total, progress):
        if dry_run:
            answer = usecase.dry_run(who, plan, config=config)
        else:
            answer = usecase.execute(who, plan, config=config, on_total=on_total,
                                     progress=progress, actor=actor)
    if dry_run:
        click.echo(f"{answer['movable']} of {answer['instances']} running instances can move; "
                   f"{answer['blocked_count']} cannot")
    else:
        click.echo(f"moved {answer['moved']}; {answer['blocked_count']} blocked; "
                   f"{answer['failed_count']} failed")
    for item in answer.get("blocked", []) + answer.get("failed", []):
        reasons = item.get("reasons") or [item]
        for r in reasons:
            click.echo(f"  instance {item['instance_id']} (case {item.get('case_id')}): "
                       f"{r.get('detail')}")


COMMANDS = [migrate_instances]
