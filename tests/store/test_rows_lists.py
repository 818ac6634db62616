"""``rows.one_of`` (a list of values as one parameter) and ``Prepared.values_if_fewer`` (a
count that stops at a bound, then the values), on the configured database."""
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
    # names from "u1" up to "u2" (u1, u10..u19), then UNION ALL the name given
    names = rows.Prepared(lambda low, high, other: (
        User.select(User.name).where(User.name >= low, User.name < high)
        + User.select(User.name).where(User.name == other)), "u1", "u2", "nobody")
    assert sorted(names.values_if_fewer(12, "u1", "u2", "nobody")) == sorted(
        ["u1"] + [f"u1{i}" for i in range(10)])
    assert names.values_if_fewer(11, "u1", "u2", "nobody") is None
    assert len(names.values_if_fewer(100, "u1", "u2", "u2")) == 12
