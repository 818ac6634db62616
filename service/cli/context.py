"""What every command needs before it touches the database."""
from __future__ import annotations


def open_store():
    """Bind the database from the environment and bring its schema up to date."""
    from .. import store
    from ..config import Config
    config = Config.from_env()
    store.bind(config.database_url)
    store.migrate()
    return config
