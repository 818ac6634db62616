"""``deploy`` and ``migrate``."""
from __future__ import annotations

import click

from ..usecases import deployments, system
from .context import open_store, problems_as_errors


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--as", "actor", default="cli", show_default=True, help="Who is deploying.")
def deploy(paths, actor):
    """Deploy .bpmn/.dmn/.case.json/rules .json files (folders are expanded), all or nothing.

    Example: python server.py deploy bpmn dmn rules
    """
    config = open_store()
    with problems_as_errors():
        result = deployments.deploy_paths(paths, actor=actor, config=config)
    for item in result["created"]:
        click.echo(f"deployed {item['kind']} {item['key']} v{item['version']} ({item['file']})")
    for item in result["unchanged"]:
        click.echo(f"unchanged {item['kind']} {item['key']} v{item['version']}")


@click.command()
def migrate():
    """Apply pending schema migrations (safe to run at any time)."""
    open_store()
    click.echo(f"schema version {system.health()['schema_version']}")


COMMANDS = [deploy, migrate]
