"""``audit verify|checkpoint|public-key``: the audit trail from the shell.

``audit verify --public-key KEY.pem --checkpoints FILE`` is the auditor's own check: it needs
read access to the database, the public key and the checkpoint file, never the service's
audit key, so it can run on the auditor's machine against a read replica.
"""
from __future__ import annotations

import json
from pathlib import Path

import click

from ..config import Config
from ..usecases import audit_trail, system
from .context import open_store


@click.group()
def audit():
    """Verify the audit trail, sign a checkpoint, print the public key."""


@audit.command("verify")
@click.option("--public-key", "public_key", type=click.Path(exists=True, dir_okay=False),
              help="The audit public key (PEM). Without it, the service's own key is used.")
@click.option("--checkpoints", type=click.Path(dir_okay=False),
              help="The signed checkpoint file (default: the service's).")
@click.option("--incremental", is_flag=True, help="Only the rows after the last checkpoint.")
def verify(public_key, checkpoints, incremental):
    """Verify links, hashes and signed checkpoints; exit 1 if the trail does not hold.

    Example: python server.py audit verify --public-key audit.pub --checkpoints ckpt.jsonl
    """
    config = Config.from_env()
    if public_key:
        system.open_store(config, migrate=False, audit_key=False)
        result = audit_trail.check(public_pem=Path(public_key).read_text(),
                                   checkpoint_file=checkpoints or config.audit_checkpoint_file,
                                   incremental=incremental)
    else:
        open_store()
        key = system.audit_key()
        result = audit_trail.check(public_pem=key.public_pem(), key=key,
                                   checkpoint_file=checkpoints or config.audit_checkpoint_file,
                                   incremental=incremental)
    click.echo(json.dumps(result, indent=1))
    if not result["ok"]:
        raise SystemExit(1)


@audit.command("checkpoint")
def checkpoint():
    """Sign the current head of the trail into the checkpoint file (the worker does this too).

    Example: python server.py audit checkpoint
    """
    config = open_store()
    written = audit_trail.write_checkpoint(config)
    click.echo(f"checkpoint at seq {written.seq}" if written else "head unchanged: nothing signed")


@audit.command("public-key")
def public_key():
    """Print the audit public key (PEM) to hand to auditors.

    Example: python server.py audit public-key > audit.pub
    """
    open_store()
    click.echo(system.audit_key().public_pem(), nl=False)


COMMANDS = [audit]
