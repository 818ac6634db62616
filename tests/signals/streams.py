"""Building signal streams for the rules tests: envelopes with ids, times and regions."""
from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path

from service.config import ROOT
from service.signals.envelope import parse_one
from service.signals.partition import PartitionState, SignalRecord
from service.signals.ruleset import parse

T0 = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.timezone.utc)
_ids = itertools.count(1)


def at(minutes: float = 0, *, days: float = 0) -> str:
    return (T0 + dt.timedelta(minutes=minutes, days=days)).isoformat()


def signal(type_: str, minutes: float = 0, **data) -> dict:
    data.setdefault("region", "west")
    return {"id": f"s{next(_ids)}", "type": type_, "at": at(minutes), "data": data}


def snapshot(source, minutes=0, sku="SKU1", location="S1", **qty):
    return signal("inventory.snapshot", minutes, sku=sku, location=location, source=source, **qty)


def cancelled(minutes=0, sku="SKU1", location="S1", cause="no_stock"):
    return signal("order.cancelled", minutes, order_id=f"o{next(_ids)}", sku=sku,
                  location=location, cause=cause)


def returned(minutes=0, sku="SKU1", region="west"):
    return signal("return.received", minutes, return_id=f"r{next(_ids)}", sku=sku, region=region,
                  value=40.0)


def promotion(minutes=0, *, starts_in_days, skus=("SKU1",), uplift=None, promo_id="P1"):
    data = {"promo_id": promo_id, "skus": list(skus), "starts_at": at(minutes, days=starts_in_days)}
    if uplift is not None:
        data["expected_uplift"] = uplift
    return signal("promotion.scheduled", minutes, **data)


def po(minutes=0, *, eta_in_days, sku="SKU1", po_id="PO1", lead_time_days=None, qty=None,
       needed_in_days=None):
    data = {"po_id": po_id, "supplier": "ACME", "sku": sku, "eta": at(minutes, days=eta_in_days)}
    if lead_time_days is not None:
        data["lead_time_days"] = lead_time_days
    if qty is not None:
        data["qty"] = qty
    if needed_in_days is not None:
        data["needed_by"] = at(minutes, days=needed_in_days)
    return signal("po.updated", minutes, **data)


def shipped_specs(*names):
    specs = []
    for path in sorted((ROOT / "rules").glob("*.json")):
        if names and path.stem not in names:
            continue
        specs.append(parse(path.name, json.loads(path.read_text())))
    return specs


def apply_all(signals, *names) -> list:
    """Run signals through a fresh partition state; returns each signal's ``Applied``."""
    state = PartitionState("west", shipped_specs(*names))
    out = []
    for seq, item in enumerate(signals, 1):
        env = parse_one(item)
        applied = state.apply(SignalRecord(env.id, env.type, env.at.timestamp(), env.data, seq))
        assert not applied.errors, applied.errors
        out.append(applied)
    state.close()
    return out


def feed(signals, *names) -> list[str]:
    """Run signals through a fresh partition state; returns the dedup refs asked to open."""
    return [(r.case_type, r.ref) for applied in apply_all(signals, *names) for r in applied.opens]


def rules_dir() -> Path:
    return ROOT / "rules"
