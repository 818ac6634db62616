"""``users set-password``: a person's password for the pages, set from the command line."""
from __future__ import annotations

from click.testing import CliRunner

from service.cli import cli
from service.policy import add_user
from service.policy.passwords import verify
from service.store import User


def test_set_password_lets_the_person_sign_in(config, db, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", config.database_url)
    add_user("ana", ["customer_service"])
    result = CliRunner().invoke(cli, ["users", "set-password", "ana", "--password",
                                      "long enough secret"])
    assert result.exit_code == 0, result.output
    assert verify(User.get(User.name == "ana"), "long enough secret")
    short = CliRunner().invoke(cli, ["users", "set-password", "ana", "--password", "short"])
    assert short.exit_code != 0 and "10 to 200 characters" in short.output
