"""``deploy`` and ``migrate``."""
from __future__ import annotations

import json
from pathlib import Path

import click

from .context import open_store


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--as", "actor", default="cli", show_default=True, help="Who is deploying.")
def deploy(paths, actor):
    """Deploy .bpmn/.dmn/.case.json/rules .json files (folders are expanded), all or nothing.

    Example: python server.py deploy bpmn dmn rules
    """
    from ..deployments import content_files, deploy as run_deploy
    from ..errors import OmniflowError
    config = open_store()
    files = {}
    for path in map(Path, paths):
        if path.is_dir():
            files.update(content_files([path]))
        else:
            files[path.name] = path.read_bytes()
    try:
        result = run_deploy(files, actor=actor, max_bytes=config.max_definition_bytes)
    except OmniflowError as exc:
        raise click.ClickException(json.dumps(exc.to_problem())) from exc
    for item in result["created"]:
        click.echo(f"deployed {item['kind']} {item['key']} v{item['version']} ({item['file']})")
    for item in result["unchanged"]:
        click.echo(f"unchanged {item['kind']} {item['key']} v{item['version']}")


@click.command()
def migrate():
    """Apply pending schema migrations (safe to run at any time)."""
    from .. import store
    open_store()
    click.echo(f"schema version {store.current_version()}")


COMMANDS = [deploy, migrate]
