"""``users add`` and ``users list``."""
from __future__ import annotations

import click

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
    from ..errors import OmniflowError
    from ..policy import add_user
    open_store()
    try:
        user, token = add_user(name, groups.split(","), list(authority), client=client)
    except OmniflowError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"created {user.name} groups={','.join(user.groups)} authority={user.authority}")
    click.echo(f"token (shown once): {token}")


@users.command("list")
def list_users():
    """List users with their groups and authority limits."""
    from ..store import User
    open_store()
    for u in User.select().order_by(User.name):
        kind = "client" if u.is_client else "user"
        click.echo(f"{u.name}\t{kind}\t{','.join(u.groups)}\t{u.authority}")


COMMANDS = [users]
