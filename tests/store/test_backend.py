"""The suite runs on the database DATABASE_URL names; CI relies on this to prove the PostgreSQL
run really used PostgreSQL."""
import peewee

from service import store
from service.config import Config


def test_runs_on_the_configured_backend(db):
    wanted = Config.from_env().database_url
    if wanted.startswith("postgres"):
        assert isinstance(store.database.obj, peewee.PostgresqlDatabase)
        assert store.database.execute_sql("select 1").fetchone()[0] == 1
    else:
        assert isinstance(store.database.obj, peewee.SqliteDatabase)
        mode = store.database.execute_sql("pragma journal_mode").fetchone()[0]
        assert mode == "wal"
        assert store.database.execute_sql("pragma foreign_keys").fetchone()[0] == 1


def test_migrations_are_recorded_and_idempotent(db):
    assert store.current_version() >= 1
    assert store.migrate() == []


def test_atomic_rolls_back_everything_on_error(db):
    try:
        with store.atomic():
            store.User.create(name="temp")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert not store.User.select().where(store.User.name == "temp").exists()


def test_nested_atomic_is_a_savepoint(db):
    with store.atomic():
        store.User.create(name="outer")
        try:
            with store.atomic():
                store.User.create(name="inner")
                raise RuntimeError("inner fails")
        except RuntimeError:
            pass
    names = {u.name for u in store.User.select()}
    assert "outer" in names and "inner" not in names
