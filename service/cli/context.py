"""What every command needs before it touches the database."""
from __future__ import annotations

from ..config import Config
from ..usecases import system


def open_store() -> Config:
    """Bind the database from the environment and bring its schema up to date."""
    return system.open_store(Config.from_env())
