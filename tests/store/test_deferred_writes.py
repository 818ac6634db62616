"""Deferred writes (``service.store.db.defer``): on PostgreSQL a write whose result nobody reads
goes to the server with the transaction's next statement, or with its COMMIT; on SQLite it runs
at once. Either way the unit of work commits or rolls back the same rows."""
import peewee
import pytest

from service import store
from service.store import User, rows

_RENAME = rows.Prepared(lambda new, old: User.update(name=new).where(User.name == old), "a", "b")
_DROP = rows.Prepared(lambda low: User.delete().where(User.name > low), "w")


def _names() -> list[str]:
    return [u.name for u in User.select(User.name).order_by(User.name)]


def test_a_deferred_write_is_read_back_in_its_unit_and_committed(db):
    with store.atomic():
        rows.insert_many(User, [{"name": "ann"}, {"name": "abe"}], deferred=True)
        assert User.select().where(User.name.startswith("a")).count() == 2
    assert _names() == ["abe", "ann"]


def test_deferred_writes_that_nothing_follows_go_with_the_commit(db):
    with store.atomic():
        User.insert(name="bob").execute()
        _RENAME.defer("bea", "bob")
        rows.insert_many(User, [{"name": "bud"}], deferred=True)
    assert _names() == ["bea", "bud"]


def test_the_statement_a_write_rides_with_keeps_its_own_result(db):
    with store.atomic():
        rows.insert_many(User, [{"name": "xa"}, {"name": "xb"}], deferred=True)
        new_id = rows.insert(User, name="cy")          # RETURNING id, after the deferred insert
        _DROP.defer("w")                                # deletes the two "x" rows
        changed = _RENAME.execute("cz", "cy")           # the count is this update's alone
    assert changed == 1
    assert User.get(User.name == "cz").id == new_id
    assert _names() == ["cz"]


def test_a_unit_that_rolls_back_keeps_none_of_its_deferred_writes(db):
    with pytest.raises(RuntimeError):
        with store.atomic():
            User.insert(name="sent").execute()
            rows.insert_many(User, [{"name": "waiting"}], deferred=True)
            raise RuntimeError("the use case failed")
    assert _names() == []
    with store.atomic():                                 # the next unit starts clean
        User.insert(name="dan").execute()
    assert _names() == ["dan"]


def test_a_failing_deferred_write_fails_its_unit_and_nothing_is_kept(db):
    with pytest.raises(peewee.IntegrityError):
        with store.atomic():
            User.insert(name="eve").execute()
            rows.insert_many(User, [{"name": "eve"}], deferred=True)   # unique name
            User.select().count()                        # the statement it rides with
    assert _names() == []
    with pytest.raises(peewee.IntegrityError):
        with store.atomic():
            User.insert(name="eve").execute()
            rows.insert_many(User, [{"name": "eve"}], deferred=True)   # fails at COMMIT
    assert _names() == []
    with store.atomic():
        User.insert(name="eve").execute()
    assert _names() == ["eve"]


def test_a_savepoint_rolled_back_drops_the_deferred_writes_made_in_it(db):
    with store.atomic():
        User.insert(name="outer").execute()
        with pytest.raises(RuntimeError):
            with store.atomic():                         # a savepoint
                rows.insert_many(User, [{"name": "inner"}], deferred=True)
                raise RuntimeError
        rows.insert_many(User, [{"name": "after"}], deferred=True)
    assert _names() == ["after", "outer"]


def test_units_that_write_nothing_commit_and_roll_back(db):
    with store.atomic():
        pass
    with pytest.raises(RuntimeError):
        with store.atomic():
            raise RuntimeError
    with store.atomic():
        User.insert(name="fay").execute()
    assert _names() == ["fay"]


def test_a_literal_percent_in_a_statement_that_follows_a_deferred_write(db):
    with store.atomic():
        rows.insert_many(User, [{"name": "50%"}], deferred=True)
        found = store.database.execute_sql("""SELECT name FROM "user" WHERE name = '50%'""")
        assert [r[0] for r in found] == ["50%"]
    assert _names() == ["50%"]


def test_outside_a_unit_a_deferred_write_runs_at_once(db):
    rows.insert_many(User, [{"name": "gus"}], deferred=True)
    assert _names() == ["gus"]


def test_on_postgresql_the_writes_go_in_two_queries_and_on_sqlite_each_at_once(db):
    queries = []
    db.obj.query_hooks.append(lambda event: queries.append(event.sql))
    try:
        with store.atomic():
            rows.insert_many(User, [{"name": "h1"}], deferred=True)
            rows.insert_many(User, [{"name": "h2"}], deferred=True)
            assert User.select().count() == 2                  # query 1: BEGIN, 2 inserts, read
            _RENAME.defer("h3", "h1")
            rows.insert_many(User, [{"name": "h4"}], deferred=True)
    finally:                                                   # query 2: update, insert, COMMIT
        db.obj.query_hooks.clear()
    assert _names() == ["h2", "h3", "h4"]
    if store.is_postgres():
        assert len(queries) == 2
        assert queries[0].startswith("BEGIN; INSERT") and queries[1].endswith("; COMMIT")
    else:
        assert len(queries) == 5 and not any(";" in q for q in queries)


def test_a_caller_with_its_own_cursor_writes_inside_the_unit_after_what_waits(db):
    with pytest.raises(RuntimeError):
        with store.atomic():
            rows.insert_many(User, [{"name": "ida"}], deferred=True)
            cursor = store.database.cursor()              # as psycopg2's execute_values does
            cursor.execute("""UPDATE "user" SET name = 'ivy' WHERE name = 'ida'""")
            assert cursor.rowcount == 1
            raise RuntimeError("rolled back: the raw write went with it")
    assert _names() == []
    with store.atomic():
        store.database.cursor().execute("""INSERT INTO "user" (name, groups, authority, """
                                        """is_client, active, created_at) VALUES """
                                        """('jo', '[]', '{}', false, true, CURRENT_TIMESTAMP)""")
    assert _names() == ["jo"]


def test_an_insert_that_ignores_conflicts_leaves_out_rows_breaking_a_unique_key(db):
    with store.atomic():
        User.insert(name="kim").execute()
        rows.insert_many(User, [{"name": "kim"}, {"name": "lou"}], deferred=True,
                         ignore_conflicts=True)
        rows.insert_many(User, [{"name": "lou"}, {"name": "max"}], ignore_conflicts=True)
    assert _names() == ["kim", "lou", "max"]
