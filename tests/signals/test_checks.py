"""The compiled fast path of envelope validation agrees with marshmallow on every input.

It may decline (marshmallow then answers), but whatever it accepts must be exactly what
marshmallow returns, and it must accept the everyday shapes, or it would not be a fast path.
"""
from __future__ import annotations

import copy
import itertools
import random

import pytest

from service.errors import ValidationFailed
from service.signals import envelope
from service.signals.envelope import _parse_slow, parse_one

from .streams import cancelled, po, promotion, returned, signal, snapshot



def _everyday():
    return [returned(0), snapshot("erp", 1, on_hand=3), snapshot("ecommerce", 2,
                                                                   available_to_promise=7.5),
            cancelled(3), promotion(4, starts_in_days=3, uplift=40), po(5, eta_in_days=2, qty=9,
                                                                         lead_time_days=3,
                                                                         needed_in_days=1),
            signal("order.exception", 6, order_id="o1", reason="damaged", value=12,
                   promised_at="2025-03-04T10:00:00"),
            signal("price_override.requested", 7, sku="A", store="S", current_price=10,
                   requested_price=8, unit_cost=5, extra={"free": "form"})]


_ODD_VALUES = [None, "", "x" * 201, "12", "1e3", True, 0, -1, 1.5, float("nan"), float("inf"),
               10**400, [], ["a"], [1], {}, "2025-03-03", "2025-03-03T09:00:00",
               "2025-03-03T09:00:00+02:00", "20250303T090000Z", "yesterday", "erp", "ecommerce",
               "no_stock", "damaged"]


def _mutations(item, rnd):
    """The item with one field of the envelope or its data changed, removed or added."""
    data_keys = list(item["data"])
    for key in data_keys + ["new_field"]:
        for value in rnd.sample(_ODD_VALUES, 6):
            changed = copy.deepcopy(item)
            changed["data"][key] = value
            yield changed
        removed = copy.deepcopy(item)
        removed["data"].pop(key, None)
        yield removed
    for key in ("id", "type", "at", "data", "extra"):
        for value in rnd.sample(_ODD_VALUES, 4):
            changed = copy.deepcopy(item)
            changed[key] = value
            yield changed
        removed = copy.deepcopy(item)
        removed.pop(key, None)
        yield removed


def _slow(item):
    try:
        return _parse_slow(item, 0)
    except ValidationFailed as exc:
        return ("error", exc.detail)


def _fast(item):
    try:
        return parse_one(item, 0)
    except ValidationFailed as exc:
        return ("error", exc.detail)


def test_every_shipped_type_has_a_fast_path():
    assert envelope._fast_envelope is not None
    assert all(envelope._fast_data[name] is not None for name in envelope.DATA_SCHEMAS)


def test_the_everyday_shapes_take_the_fast_path(monkeypatch):
    def refuse(*args):
        raise AssertionError("marshmallow was called")
    monkeypatch.setattr(envelope, "_parse_slow", refuse)
    for item in _everyday():
        parse_one(item, 0)


@pytest.mark.parametrize("seed", range(3))
def test_fast_and_marshmallow_agree_on_valid_and_invalid_items(seed):
    rnd = random.Random(seed)
    checked = 0
    for item in _everyday():
        for candidate in itertools.chain([item], _mutations(item, rnd)):
            assert _fast(candidate) == _slow(candidate), candidate
            checked += 1
    assert checked > 300
