"""``python server.py train`` and ``models ...`` through click's runner, on a throw-away db."""
import shutil

import pytest
from click.testing import CliRunner

from scoring.catalog import SPECS
from scoring.shipped import DEFAULT_DIR
from scoring.synthetic import generate
from service.cli import cli


@pytest.fixture
def run(tmp_path):
    models = tmp_path / "models"
    shutil.copytree(DEFAULT_DIR, models)
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "OMNIFLOW_MODELS_DIR": str(models),
           "OMNIFLOW_AUDIT_KEY_FILE": str(tmp_path / "audit.key")}

    def invoke(*args):
        return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return invoke


def test_train_reports_and_registers_a_candidate(run):
    result = run("train", "return_abuse_risk", "--rows", "12000")
    assert result.exit_code == 0, result.output
    for needle in ("ROC AUC", "PR AUC", "Brier", "calibration by decile", "top features",
                   "round", "as candidate"):
        assert needle in result.output
    listing = run("models", "list").output
    assert "return_abuse_risk          2  candidate" in listing
    assert "return_abuse_risk          1  active" in listing
    assert run("models", "activate", "return_abuse_risk", "2").exit_code == 0
    assert "status active" in run("models", "show", "return_abuse_risk").output


def test_failures_exit_non_zero_with_a_clear_message(run, tmp_path):
    result = run("models", "activate", "escalation_risk", "9")
    assert result.exit_code == 1 and "no registered version 9" in result.output
    path = tmp_path / "bad.csv"
    generate("return_abuse_risk", 30, 1).write_csv(path, SPECS["return_abuse_risk"].schema)
    path.write_text(path.read_text().replace("at,", "when,", 1))
    result = run("train", "return_abuse_risk", "--data", str(path))
    assert result.exit_code == 1 and "column 'at' is missing" in result.output
