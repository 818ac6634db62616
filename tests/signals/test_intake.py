"""POST /api/v1/signals: validation names index and field, storage is idempotent by id."""
from __future__ import annotations

from service.store import Lease, Signal

from .streams import returned, signal, snapshot

URL = "/api/v1/signals"


def _problem(resp, status):
    assert resp.status_code == status, resp.get_json()
    assert resp.mimetype == "application/problem+json"
    return resp.get_json()


def test_one_signal_or_an_array_is_stored_in_arrival_order(erp):
    one = returned(0)
    resp = erp.post(URL, json=one)
    assert resp.status_code == 202 and resp.get_json()["accepted"] == 1
    batch = [returned(1), snapshot("erp", 2, on_hand=3, region="east")]
    assert erp.post(URL, json=batch).get_json() == {
        "accepted": 2, "duplicates": 0,
        "items": [{"id": batch[0]["id"], "status": "accepted"},
                  {"id": batch[1]["id"], "status": "accepted"}]}
    rows = list(Signal.select().order_by(Signal.seq))
    assert [r.id for r in rows] == [one["id"], batch[0]["id"], batch[1]["id"]]
    assert [r.seq for r in rows] == [1, 2, 3]
    assert {r.status for r in rows} == {"pending"}
    assert [r.partition for r in rows] == ["west", "west", "east"]
    assert {lease.partition for lease in Lease.select()} == {"west", "east"}


def test_a_repeated_id_is_accepted_once(erp):
    first = returned(0)
    erp.post(URL, json=first)
    again = erp.post(URL, json=[first, returned(1), first]).get_json()
    assert again["accepted"] == 1 and again["duplicates"] == 2
    assert Signal.select().count() == 2


def test_idempotency_key_replays_the_first_answer(erp):
    body = [returned(0)]
    headers = {"Idempotency-Key": "batch-1"}
    first = erp.post(URL, json=body, headers=headers).get_json()
    assert erp.post(URL, json=body, headers=headers).get_json() == first
    _problem(erp.post(URL, json=[returned(1)], headers=headers), 422)


def test_errors_name_the_index_and_field(erp):
    cases = [
        ([returned(0), {"id": "x", "type": "nope", "at": "2025-01-01T00:00:00Z", "data": {}}],
         "[1].type"),
        ([{"id": "x", "type": "return.received", "at": "yesterday", "data": {"sku": "A",
                                                                              "return_id": "r"}}],
         "[0].at"),
        ([signal("order.cancelled", 0, order_id="o", location="S1", cause="no_stock")],
         "[0].data.sku"),
        ([signal("order.cancelled", 0, order_id="o", sku="A", location="S1", cause="meteor")],
         "[0].data.cause"),
        ([snapshot("ecommerce", 0, on_hand=3)], "[0].data.available_to_promise"),
        ([{"type": "return.received", "at": "2025-01-01T00:00:00Z", "data": {}}], "[0].id"),
        ([{"id": "x", "type": "return.received", "at": "2025-01-01T00:00:00Z", "data": {},
           "extra": 1}], "[0].extra"),
        ([returned(0), 7], "[1].body"),
    ]
    for body, field in cases:
        problem = _problem(erp.post(URL, json=body), 422)
        assert problem["field"] == field, (field, problem)
        assert field in problem["detail"]
    assert Signal.select().count() == 0        # nothing of a rejected batch is stored


def test_malformed_bodies_and_oversized_batches_are_4xx(erp):
    assert _problem(erp.post(URL, data="{not json", headers={"Content-Type": "application/json"}),
                    400)["field"] == "body"
    _problem(erp.post(URL, json=[]), 422)
    _problem(erp.post(URL, json="a string"), 422)
    _problem(erp.post(URL, json=[returned(i) for i in range(1001)]), 413)
    single = returned(0)
    assert _problem(erp.post(URL, json={**single, "data": []}), 422)["field"] == "data"


def test_only_machine_clients_and_admins_send_signals(users, erp):
    person = users.make("pat", ["store_manager"])
    _problem(person.post(URL, json=returned(0)), 403)
    sig = returned(0)
    erp.post(URL, json=sig)
    read = erp.get(f"{URL}/{sig['id']}").get_json()
    assert read["status"] == "pending" and read["type"] == "return.received"
    _problem(erp.get(f"{URL}/missing"), 404)
