"""``users add``, ``users list`` and ``users set-password``."""
from __future__ import annotations

import click

from ..errors import OmniflowError
from ..usecases import accounts, sessions
from .context import open_store


@click.group()
def users():
    """Manage users, groups, authority limits and tokens."""


@users.command("add")
@click.argument("name")
@click.option("--groups", default="", help="Comma-separated groups, e.g. store_manager,finance.")
@click.option("--authority", multiple=True, help="action=limit, e.g. refund=500 (repeatable).")
@click.option("--client", is_flag=True, help="A machine client (OMS, POS, ERP).")
def add(name, groups, authority, client):
    """Create a user and print its token once.

    Example: python server.py users add ana --groups customer_service --authority refund=500
    """
    open_store()
    try:
        user = accounts.create(None, name, groups.split(","), list(authority), client=client)
    except OmniflowError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"created {user['name']} groups={','.join(user['groups'])} "
               f"authority={user['authority']}")
    click.echo(f"token (shown once): {user['token']}")


@users.command("list")
def list_users():
    """List users with their groups and authority limits."""
    open_store()
    for u in accounts.users():
        kind = "client" if u["client"] else "user"
        click.echo(f"{u['name']}\t{kind}\t{','.join(u['groups'])}\t{u['authority']}")


@users.command("set-password")
@click.argument("name")
@click.password_option(help="The new password (asked twice when not given).")
def set_password(name, password):
    """Set the password a person signs in to the pages with (/ui).

    Example: python server.py users set-password ana
    """
    open_store()
    try:
        sessions.set_password(None, name, password)
    except OmniflowError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"password set for {name}; sign in at /ui")


COMMANDS = [users]
