"""``rows.one_of`` (a list of values as one parameter) and ``rows.values_if_fewer`` (a count
that stops at a bound, then the values), on the configured database."""
from service import store
from service.store import User, rows


def _users(n: int) -> list[int]:
    with store.atomic():
        User.insert_many([{"name": f"u{i}"} for i in range(n)]).execute()
    return [u.id for u in User.select(User.id).order_by(User.id)]


def test_one_of_takes_any_number_of_values_as_one_parameter(db):
    ids = _users(3000)
    picked = ids[::7]
    query = User.select(User.id).where(rows.one_of(User.id, picked)).order_by(User.id)
    assert [u.id for u in query] == picked
    sql, params = query.sql()
    assert len(params) == 1
    assert list(User.select().where(rows.one_of(User.id, []))) == []


def test_values_if_fewer_counts_first_and_stops_at_the_bound(db):
    _users(30)
    names = User.select(User.name).where(User.name.startswith("u1"))   # u1, u10..u19
    assert sorted(rows.values_if_fewer(names, 12)) == sorted(
        ["u1"] + [f"u1{i}" for i in range(10)])
    assert rows.values_if_fewer(names, 11) is None
    both = names + User.select(User.name).where(User.name == "u2")      # UNION ALL
    assert len(rows.values_if_fewer(both, 100)) == 12
