"""The one command line: ``python server.py COMMAND``.

Each command is a thin wrapper over a function the API also uses. Command groups live in their
own modules (each exports ``COMMANDS``) and register here.
"""
from __future__ import annotations
from . import migrations, what_if  # issue 14: migrate-instances, what-if

import click

from ..config import Config
from . import audit, content, logs, models, serve, users, worker

COMMAND_MODULES = [serve, content, users, models, worker, audit]

COMMAND_MODULES += [what_if, migrations]


class OmniflowCLI(click.Group):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for module in COMMAND_MODULES:
            for command in module.COMMANDS:
                self.add_command(command)

    def parse_args(self, ctx, args):
        if not args or (args[0].startswith("-") and args[0] not in ("--help", "-h")):
            args = ["serve", *args]   # `serve` is the default command
        return super().parse_args(ctx, args)


@click.group(cls=OmniflowCLI)
def cli():
    """Omniflow: governed decisions for retail operations.

    \b
    Examples:
      python server.py serve --demo         start on SQLite with the retail content and demo users
      python server.py deploy bpmn/*.bpmn   deploy analysts' files
      python server.py users add ana --groups customer_service --authority refund=500
    """
    logs.configure(Config.from_env())
