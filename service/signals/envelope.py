"""Signal envelopes: what a client may POST, checked before anything is stored.

A signal is ``{"id", "type", "at", "data": {...}}`` with the types and key fields of DOMAIN.md.
Every error names the item's index and the field at fault (``[3].data.sku``), so a system that
sends 1,000 signals learns which one to fix. ``data`` may carry fields beyond the ones listed
here (retail systems send more than we read); only the declared fields reach the rules engine.

Partitioning: a signal belongs to the partition of its ``data.region`` (``"default"`` without
one). One rules consumer owns a partition, so every signal a detection rule correlates (the
snapshot, the cancellation, the promotion and the PO of one sku) must carry the same region.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from marshmallow import INCLUDE, RAISE, Schema, ValidationError, fields, validate, validates_schema

from ..errors import PayloadTooLarge, ValidationFailed
from .checks import compile_schema

MAX_BATCH = 1000
DEFAULT_PARTITION = "default"
_name = validate.Length(1, 200)


class _Data(Schema):
    class Meta:
        unknown = INCLUDE

    region = fields.String(validate=validate.Length(1, 120))


class InventorySnapshot(_Data):
    sku = fields.String(required=True, validate=_name)
    location = fields.String(required=True, validate=_name)
    source = fields.String(required=True, validate=validate.OneOf(("erp", "pos", "ecommerce")))
    on_hand = fields.Float(allow_nan=False)
    available_to_promise = fields.Float(allow_nan=False)

    @validates_schema
    def _quantity_of_source(self, data, **kwargs):
        wanted = "available_to_promise" if data.get("source") == "ecommerce" else "on_hand"
        if data.get(wanted) is None:
            raise ValidationError(f"a {data.get('source')} snapshot needs {wanted}", wanted)


class OrderException(_Data):
    order_id = fields.String(required=True, validate=_name)
    reason = fields.String(required=True, validate=validate.OneOf((
        "payment_failed", "address_invalid", "short_pick", "late_shipment", "damaged",
        "customer_complaint")))
    channel = fields.String()
    node = fields.String()
    value = fields.Float(allow_nan=False)
    margin = fields.Float(allow_nan=False)
    customer_tier = fields.String()
    promised_at = fields.AwareDateTime(default_timezone=dt.timezone.utc)


class OrderCancelled(_Data):
    order_id = fields.String(required=True, validate=_name)
    sku = fields.String(required=True, validate=_name)
    location = fields.String(required=True, validate=_name)
    cause = fields.String(required=True, validate=validate.OneOf(("no_stock", "customer", "fraud")))


class ReturnReceived(_Data):
    return_id = fields.String(required=True, validate=_name)
    order_id = fields.String()
    sku = fields.String(required=True, validate=_name)
    value = fields.Float(allow_nan=False)
    channel = fields.String()
    reason = fields.String()
    condition = fields.String()
    days_since_purchase = fields.Float(allow_nan=False)
    customer_return_rate = fields.Float(allow_nan=False, validate=validate.Range(0, 1))


class PromotionScheduled(_Data):
    promo_id = fields.String(required=True, validate=_name)
    skus = fields.List(fields.String(validate=_name), required=True,
                       validate=validate.Length(1, 500))
    region = fields.String(required=True, validate=validate.Length(1, 120))
    starts_at = fields.AwareDateTime(required=True, default_timezone=dt.timezone.utc)
    discount_pct = fields.Float(allow_nan=False, validate=validate.Range(0, 100))
    expected_uplift = fields.Float(allow_nan=False, validate=validate.Range(0))


class PoUpdated(_Data):
    po_id = fields.String(required=True, validate=_name)
    supplier = fields.String(required=True, validate=_name)
    sku = fields.String(required=True, validate=_name)
    qty = fields.Float(allow_nan=False, validate=validate.Range(0))
    eta = fields.AwareDateTime(required=True, default_timezone=dt.timezone.utc)
    lead_time_days = fields.Float(allow_nan=False, validate=validate.Range(0))
    # The reorder point date: when the stock this PO brings is needed (optional).
    needed_by = fields.AwareDateTime(default_timezone=dt.timezone.utc)


class PriceOverrideRequested(_Data):
    sku = fields.String(required=True, validate=_name)
    store = fields.String(required=True, validate=_name)
    current_price = fields.Float(required=True, allow_nan=False, validate=validate.Range(0))
    requested_price = fields.Float(required=True, allow_nan=False, validate=validate.Range(0))
    unit_cost = fields.Float(allow_nan=False, validate=validate.Range(0))
    reason = fields.String()
    requested_by = fields.String()


DATA_SCHEMAS: dict[str, Schema] = {
    "inventory.snapshot": InventorySnapshot(),
    "order.exception": OrderException(),
    "order.cancelled": OrderCancelled(),
    "return.received": ReturnReceived(),
    "promotion.scheduled": PromotionScheduled(),
    "po.updated": PoUpdated(),
    "price_override.requested": PriceOverrideRequested(),
}

#: The fields of each type that reach the rules engine (declared ones only: the engine rejects
#: messages with too many properties, and an unknown field could never be named by a rule).
DECLARED_FIELDS = {name: tuple(schema.fields) for name, schema in DATA_SCHEMAS.items()}
#: Fields computed for the rules engine (a condition cannot compare two fields of one fact).
DERIVED = {
    "po.updated": {"days_past_needed_by": lambda f: (
        (f["eta"] - f["needed_by"]) / 86400.0
        if isinstance(f.get("eta"), float) and isinstance(f.get("needed_by"), float) else None)},
}
DECLARED_FIELDS = {name: fields_ + tuple(DERIVED.get(name, ())) for name, fields_ in
                   DECLARED_FIELDS.items()}
#: Timestamp fields, given to the rules engine as seconds since the epoch.
TIME_FIELDS = {name: tuple(f for f, field in schema.fields.items()
                           if isinstance(field, fields.DateTime))
               for name, schema in DATA_SCHEMAS.items()}

#: List and object fields: kept out of facts (a rule cannot test them) unless split by ``each``.
NESTED_FIELDS = {name: tuple(f for f, field in schema.fields.items()
                             if isinstance(field, (fields.List, fields.Dict, fields.Nested)))
                 for name, schema in DATA_SCHEMAS.items()}


class EnvelopeSchema(Schema):
    class Meta:
        unknown = RAISE

    id = fields.String(required=True, validate=_name)
    type = fields.String(required=True, validate=validate.OneOf(sorted(DATA_SCHEMAS)))
    at = fields.AwareDateTime(required=True, default_timezone=dt.timezone.utc)
    data = fields.Dict(required=True)


_envelope = EnvelopeSchema()
# The compiled fast path of each schema (see .checks); None where a schema has none.
_fast_envelope = compile_schema(_envelope)
_fast_data = {name: compile_schema(schema) for name, schema in DATA_SCHEMAS.items()}


@dataclass(frozen=True)
class Envelope:
    id: str
    type: str
    at: dt.datetime
    data: dict
    partition: str


def partition_of(data: dict) -> str:
    return data.get("region") or DEFAULT_PARTITION


_UTC = dt.timezone.utc


def _jsonable(data: dict) -> dict:
    return {k: (v.astimezone(_UTC).isoformat() if isinstance(v, dt.datetime) else v)
            for k, v in data.items()}


def _fail(index: int | None, messages: dict, prefix: str = "") -> ValidationFailed:
    listed = []
    for field, msgs in _flatten(messages, prefix):
        path = f"[{index}].{field}" if index is not None else field
        listed.append({"index": index, "field": path, "message": msgs})
    first = listed[0]
    return ValidationFailed(f"{first['field']}: {first['message']}", field=first["field"],
                            index=index, errors=listed[:20])


def _flatten(messages, prefix):
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = prefix if key == "_schema" else (f"{prefix}.{key}" if prefix else str(key))
            yield from _flatten(value, name)
    elif isinstance(messages, list) and messages and all(isinstance(m, str) for m in messages):
        yield prefix or "body", "; ".join(messages)
    elif isinstance(messages, list):
        for item in messages:
            yield from _flatten(item, prefix)
    else:
        yield prefix or "body", str(messages)


def parse_one(item, index: int | None = None) -> Envelope:
    """Validate one envelope and its data; raise ``ValidationFailed`` naming index and field.

    The compiled checks answer for the common shapes; whatever they decline goes through
    marshmallow, which gives the result or the error (see :mod:`.checks`).
    """
    if type(item) is dict and _fast_envelope is not None:
        env = _fast_envelope(item)
        if env is not None:
            fast = _fast_data.get(env["type"])
            data = fast(env["data"]) if fast is not None else None
            if data is not None:
                data = _jsonable(data)
                return Envelope(env["id"], env["type"], env["at"].astimezone(_UTC), data,
                                partition_of(data))
    return _parse_slow(item, index)


def _parse_slow(item, index: int | None) -> Envelope:
    if not isinstance(item, dict):
        raise _fail(index, {"body": ["a signal must be a JSON object"]})
    try:
        env = _envelope.load(item)
    except ValidationError as exc:
        raise _fail(index, exc.messages) from exc
    try:
        data = DATA_SCHEMAS[env["type"]].load(env["data"])
    except ValidationError as exc:
        raise _fail(index, exc.messages, "data") from exc
    data = _jsonable(data)
    return Envelope(env["id"], env["type"], env["at"].astimezone(dt.timezone.utc), data,
                    partition_of(data))


def parse(payload) -> list[Envelope]:
    """One signal or a JSON array of up to :data:`MAX_BATCH` signals."""
    if isinstance(payload, dict):
        return [parse_one(payload)]
    if not isinstance(payload, list):
        raise ValidationFailed("send one signal object or a JSON array of signals", field="body")
    if not payload:
        raise ValidationFailed("the array of signals is empty", field="body")
    if len(payload) > MAX_BATCH:
        raise PayloadTooLarge(f"{len(payload)} signals is over the limit of {MAX_BATCH} per "
                              "request", field="body", limit=MAX_BATCH)
    return [parse_one(item, i) for i, item in enumerate(payload)]
