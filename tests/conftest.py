"""Fixtures shared by every test: a real database (SQLite file, or PostgreSQL when DATABASE_URL
says so), the app, a client, and users with real tokens.

The same tests run on both databases: CI runs the suite once with no DATABASE_URL (SQLite) and
once with ``DATABASE_URL=postgresql://...`` pointing at a throw-away database.
"""
from __future__ import annotations

import pytest

from service import store
from service.config import ROOT, Config

pytest_plugins = ["tests.fixtures"]


def _backend_url(tmp_path) -> str:
    env = Config.from_env()
    if env.database_url.startswith("postgres"):
        return env.database_url
    return f"sqlite:///{tmp_path / 'omniflow-test.db'}"


@pytest.fixture
def config(tmp_path) -> Config:
    return Config(database_url=_backend_url(tmp_path), run_worker=False, deploy_on_start=False,
                  testing=True, audit_key_file=str(tmp_path / "audit.key"),
                  audit_checkpoint_file=str(tmp_path / "audit-checkpoints.jsonl"),
                  content_dirs=(str(ROOT / "bpmn"), str(ROOT / "dmn"), str(ROOT / "rules")),
                  models_dir=str(ROOT / "scoring" / "models"))


def _truncate_all():
    tables = [t for t in store.ALL_TABLES if store.database.table_exists(t._meta.table_name)]
    if store.is_postgres():
        names = ", ".join(f'"{t._meta.table_name}"' for t in tables)
        # The audit table refuses TRUNCATE (migration 4); a test database is reset anyway.
        store.database.execute_sql('ALTER TABLE audit_event DISABLE TRIGGER USER')
        store.database.execute_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        store.database.execute_sql('ALTER TABLE audit_event ENABLE TRIGGER USER')
    from service.store.migrations import _initial
    _initial(store.database)
    from service.store.migrations import MIGRATIONS
    for version, name, _ in MIGRATIONS:
        store.SchemaVersion.insert(version=version, name=name).on_conflict_ignore().execute()


@pytest.fixture
def db(config):
    """A migrated, empty database bound to the store for this test."""
    store.bind(config.database_url)
    store.database.connect(reuse_if_open=True)
    store.migrate()
    if store.is_postgres():
        with store.atomic():
            _truncate_all()
    yield store.database
    if not store.database.is_closed():
        store.database.close()


@pytest.fixture
def app(config, db):
    from service.app import create_app
    return create_app(config)


@pytest.fixture
def client(app):
    return app.test_client()
