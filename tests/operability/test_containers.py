"""The Dockerfile and compose.yaml agree with the code: the files the image copies exist, the
entry point is the package's console script, and compose runs the service, a worker and
PostgreSQL with the data and audit key on their own volumes. (Building the image needs a
Docker daemon, which the test machines do not have.)"""
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_the_image_copies_what_exists_and_runs_the_cli():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11", dockerfile, re.M)
    for line in re.findall(r"^COPY (.+)$", dockerfile, re.M):
        for source in line.split()[:-1]:
            assert (ROOT / source).exists(), source
    assert "gcc" in dockerfile                       # durable-rules builds from source
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert 'ENTRYPOINT ["omniflow"]' in dockerfile and "omniflow" in scripts
    assert "OMNIFLOW_DATA_DIR=/data" in dockerfile and "/readyz" not in dockerfile


def test_compose_runs_service_worker_and_postgres():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"db", "service", "worker"}
    assert services["db"]["image"].startswith("postgres:")
    assert services["service"]["command"][0] == "serve"
    assert services["worker"]["command"] == ["worker"]
    for name in ("service", "worker"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgresql://") and "@db:" in env["DATABASE_URL"]
        assert env["OMNIFLOW_AUDIT_KEY_FILE"].startswith("/audit/")
        assert services[name]["depends_on"]["db"]["condition"] == "service_healthy"
    assert "/readyz" in " ".join(services["service"]["healthcheck"]["test"])
