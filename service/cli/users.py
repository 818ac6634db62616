"""``users add|list|set-password|disable|enable|rotate-token|set-groups|set-authority``."""
from __future__ import annotations

import click

from ..config import Config
from ..errors import OmniflowError
from ..usecases import accounts, sessions
from .context import open_store

_DAYS = click.option("--expires-in-days", type=int, default=None,
                     help="The token expires after this many days (default: never).")


@click.group()
def users():
    """Manage users, groups, authority limits and tokens (every change is audited)."""


def _run(action):
    try:
        return action()
    except OmniflowError as exc:
        raise click.ClickException(exc.detail) from exc


def _show(user: dict) -> None:
    state = "active" if user["active"] else "disabled"
    click.echo(f"{user['name']} {state} groups={','.join(user['groups'])} "
               f"authority={user['authority']}"
               + (f" token_expires_at={user['token_expires_at']}"
                  if user.get("token_expires_at") else ""))


@users.command("add")
@click.argument("name")
@click.option("--groups", default="", help="Comma-separated groups, e.g. store_manager,finance.")
@click.option("--authority", multiple=True, help="action=limit, e.g. refund=500 (repeatable).")
@click.option("--client", is_flag=True, help="A machine client (OMS, POS, ERP).")
@_DAYS
def add(name, groups, authority, client, expires_in_days):
    """Create a user and print its token once. Groups and authority actions must be known
    (`users registry` lists them).

    Example: python server.py users add ana --groups customer_service --authority refund=500
    """
    config = open_store()
    user = _run(lambda: accounts.create(None, name, groups.split(","), list(authority),
                                        client=client, expires_in_days=expires_in_days,
                                        config=config))
    click.echo(f"created {user['name']} groups={','.join(user['groups'])} "
               f"authority={user['authority']}")
    click.echo(f"token (shown once): {user['token']}")


@users.command("list")
def list_users():
    """List users with their groups, authority limits and state."""
    open_store()
    for u in accounts.users():
        kind = "client" if u["client"] else "user"
        state = "active" if u["active"] else "disabled"
        click.echo(f"{u['name']}\t{kind}\t{state}\t{','.join(u['groups'])}\t{u['authority']}")


@users.command("registry")
def registry():
    """The known groups and authority actions."""
    lists = accounts.registry(Config.from_env())
    click.echo("groups: " + ", ".join(lists["groups"]))
    click.echo("authority keys: " + ", ".join(lists["authority_keys"]))


@users.command("disable")
@click.argument("name")
def disable(name):
    """Disable a user: their tokens and sessions stop working at once."""
    open_store()
    _show(_run(lambda: accounts.set_active(None, name, False)))


@users.command("enable")
@click.argument("name")
def enable(name):
    """Enable a disabled user again."""
    open_store()
    _show(_run(lambda: accounts.set_active(None, name, True)))


@users.command("rotate-token")
@click.argument("name")
@_DAYS
def rotate_token(name, expires_in_days):
    """Revoke every token of a user and print a new one once."""
    open_store()
    user = _run(lambda: accounts.rotate_token(None, name, expires_in_days=expires_in_days))
    _show(user)
    click.echo(f"token (shown once): {user['token']}")


@users.command("set-groups")
@click.argument("name")
@click.argument("groups")
def set_groups(name, groups):
    """Replace a user's groups: `users set-groups ana customer_service,cs_supervisor`."""
    config = open_store()
    _show(_run(lambda: accounts.set_groups(None, name, groups.split(","), config=config)))


@users.command("set-authority")
@click.argument("name")
@click.argument("authority", nargs=-1)
def set_authority(name, authority):
    """Replace a user's authority limits: `users set-authority ana refund=500 adjustment=200`
    (none: no limits)."""
    config = open_store()
    _show(_run(lambda: accounts.set_authority(None, name, list(authority), config=config)))


@users.command("set-password")
@click.argument("name")
@click.password_option(help="The new password (asked twice when not given).")
def set_password(name, password):
    """Set the password a person signs in to the pages with (/ui).

    Example: python server.py users set-password ana
    """
    open_store()
    _run(lambda: sessions.set_password(None, name, password))
    click.echo(f"password set for {name}; sign in at /ui")


COMMANDS = [users]
