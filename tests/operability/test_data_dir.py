"""Everything the service writes lives under OMNIFLOW_DATA_DIR, created on first start; the
shipped models stay as they are in the package and `train` writes next to the data."""
import os

from click.testing import CliRunner

from scoring.shipped import DEFAULT_DIR
from service.cli import cli
from service.config import Config


def _tree(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_the_data_dir_holds_the_database_models_and_audit_key(tmp_path, db):
    """(`db`: on PostgreSQL the shared test database starts empty, its audit chain too.)"""
    data = tmp_path / "nested" / "data"
    env = {"OMNIFLOW_DATA_DIR": str(data), "OMNIFLOW_MODELS_DIR": None,
           "OMNIFLOW_AUDIT_KEY_FILE": None, "OMNIFLOW_AUDIT_CHECKPOINTS": None}
    postgres = os.environ.get("DATABASE_URL", "").startswith("postgres")
    if not postgres:
        env["DATABASE_URL"] = None
    config = Config.from_env({**{k: v for k, v in os.environ.items() if k not in env},
                              **{k: v for k, v in env.items() if v is not None}})
    assert config.audit_key_file == str(data / "audit.key")
    assert config.models_dir.split(os.pathsep) == [str(data / "models"), str(DEFAULT_DIR)]
    if not postgres:
        assert config.database_url == f"sqlite:///{data / 'omniflow.db'}"
    shipped = _tree(DEFAULT_DIR)
    run = lambda *args: CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)

    result = run("migrate")
    assert result.exit_code == 0, result.output
    assert data.is_dir() and (data / "audit.key").is_file()
    assert (data / "omniflow.db").is_file() != postgres

    result = run("train", "return_abuse_risk", "--rows", "12000")
    assert result.exit_code == 0, result.output
    assert f"written to {data / 'models'}/return_abuse_risk/2/" in result.output
    assert (data / "models" / "return_abuse_risk" / "2" / "model.ubj").is_file()
    assert _tree(DEFAULT_DIR) == shipped                   # nothing written into the package
    listing = run("models", "list").output
    assert "return_abuse_risk          2  candidate" in listing
    assert "return_abuse_risk          1  active" in listing
