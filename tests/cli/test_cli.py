"""The command line, run through click's runner against the test database."""
from pathlib import Path

import pytest
from click.testing import CliRunner

from service.cli import cli
from service.store import Definition, User

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def run(config, db, monkeypatch):
    # The CLI reads its settings from the environment, as a user's shell gives them.
    monkeypatch.setenv("DATABASE_URL", config.database_url)
    monkeypatch.setenv("OMNIFLOW_AUDIT_KEY_FILE", config.audit_key_file)
    monkeypatch.setenv("OMNIFLOW_AUDIT_CHECKPOINTS", config.audit_checkpoint_file)

    def invoke(*args):
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return invoke


def test_users_add_prints_a_token_once_and_list_shows_limits(run):
    result = run("users", "add", "ana", "--groups", "store_manager,finance",
                 "--authority", "refund=500", "--authority", "adjustment=250")
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1].rsplit(" ", 1)[-1]
    assert token.startswith("of_")
    user = User.get(User.name == "ana")
    assert user.groups == ["finance", "store_manager"]
    assert user.authority == {"refund": 500, "adjustment": 250}
    listed = run("users", "list").output
    assert "ana" in listed and token not in listed
    again = CliRunner().invoke(cli, ["users", "add", "ana"])
    assert again.exit_code != 0 and "exists" in again.output


def test_bad_authority_is_a_clear_error(run):
    result = CliRunner().invoke(cli, ["users", "add", "bob", "--authority", "refund"])
    assert result.exit_code != 0 and "action=amount" in result.output


def test_deploy_files_and_folders(run):
    result = run("deploy", str(ROOT / "dmn"), str(ROOT / "bpmn" / "order_exception.bpmn"),
                 str(ROOT / "bpmn" / "order_exception.case.json"))
    assert result.exit_code == 0, result.output
    assert "deployed bpmn order_exception v1" in result.output
    assert Definition.select().where(Definition.kind == "dmn").count() >= 2
    again = run("deploy", str(ROOT / "bpmn" / "order_exception.bpmn"))
    assert "unchanged bpmn order_exception v1" in again.output


def test_deploy_reports_the_fault(run, tmp_path):
    bad = tmp_path / "bad.bpmn"
    bad.write_text("<bpmn:definitions")
    result = CliRunner().invoke(cli, ["deploy", str(bad)])
    assert result.exit_code != 0 and "bad.bpmn" in result.output


def test_migrate(run):
    result = run("migrate")
    assert result.exit_code == 0 and "schema version" in result.output


def test_every_command_has_help_and_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    for name, command in cli.commands.items():
        assert command.help, f"{name} has no help text"
        assert f"server.py {name}" in readme, f"{name} is not in the README"
