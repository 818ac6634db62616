"""pyproject.toml: PEP 621 metadata whose `omniflow` console script is the same click CLI as
`server.py`, on Python 3.11, with every runtime pin of requirements.txt allowed."""
import tomllib
from importlib import import_module
from pathlib import Path

from packaging.requirements import Requirement

from service.cli import cli

ROOT = Path(__file__).resolve().parents[2]


def test_the_package_metadata_and_its_console_script():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == "omniflow" and project["requires-python"] == ">=3.11,<3.12"
    module, _, name = project["scripts"]["omniflow"].partition(":")
    assert getattr(import_module(module), name) is cli
    assert "from service.cli import cli" in (ROOT / "server.py").read_text()
    # Each dependency accepts the version requirements.txt pins.
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line and not line.startswith("#") and "==" in line:
            pin = Requirement(line)
            pins[pin.name.lower().replace("_", "-")] = next(iter(pin.specifier)).version
    for text in project["dependencies"]:
        requirement = Requirement(text)
        key = requirement.name.lower().replace("_", "-")
        assert key in pins, f"{requirement.name} is not pinned in requirements.txt"
        assert requirement.specifier.contains(pins[key]), (text, pins[key])
