"""Our schema for rules/*.json: every fault names the rule and the field."""
from __future__ import annotations

import copy
import json

import pytest

from service.errors import DefinitionInvalid
from service.signals import validate_ruleset

from .streams import rules_dir


def _surge():
    return json.loads((rules_dir() / "return_surge.json").read_text())


def _fault(doc):
    with pytest.raises(DefinitionInvalid) as info:
        validate_ruleset("bad.json", doc)
    return info.value


def test_the_shipped_rulesets_are_valid():
    for path in sorted(rules_dir().glob("*.json")):
        meta = validate_ruleset(path.name, json.loads(path.read_text()))
        assert meta["rules"] and meta["opens"]


@pytest.mark.parametrize("change, element, field", [
    (lambda d: d["rules"]["three_returns_within_an_hour"]["all"][1]["b"]["$and"].append(
        {"$between": {"at": 1}}), "three_returns_within_an_hour", "all[1].b.$and[4]"),
    (lambda d: d["rules"]["three_returns_within_an_hour"]["all"][1]["b"]["$and"].append(
        {"$gt": {"seq": {"zz": "seq"}}}), "three_returns_within_an_hour", "all[1].b.$and[4].$gt.seq"),
    (lambda d: d["rules"]["three_returns_within_an_hour"]["then"].update(open="bad type!"),
     "three_returns_within_an_hour", "then[0].open"),
    (lambda d: d["rules"]["three_returns_within_an_hour"]["then"]["data"].update(sku="q.sku"),
     "three_returns_within_an_hour", "then[0].data.sku"),
    (lambda d: d["rules"]["three_returns_within_an_hour"]["then"].update(dedup=["nope"]),
     "three_returns_within_an_hour", "then[0].dedup"),
    (lambda d: d["rules"]["three_returns_within_an_hour"]["all"][0].update(
        {"a": {"$or": [{"$and": [{"type": "x"}]}]}}) , "three_returns_within_an_hour",
     "all[0].a.$or[0]"),
    (lambda d: d["rules"].update(other={"any": []}), "other", "any"),
])
def test_faults_name_rule_and_field(change, element, field):
    doc = _surge()
    change(doc)
    fault = _fault(doc)
    assert fault.extra["element"] == element and fault.extra["field"] == field, fault.extra
    assert element in fault.detail and field in fault.detail


def test_ruleset_level_faults_name_the_field():
    for change, field in [
        (lambda d: d.update(key=[]), "key"),
        (lambda d: d["inputs"].update({"nope.type": {}}), "inputs.nope.type"),
        (lambda d: d.update(inputs={"order.exception": {}}), "inputs.order.exception"),
        (lambda d: d.update(window_seconds=-1), "window_seconds"),
        (lambda d: d.update(max_lateness_seconds="6h"), "max_lateness_seconds"),
        (lambda d: d.update(max_lateness_seconds=31 * 86400), "max_lateness_seconds"),
        (lambda d: d.update(colour="red"), "colour"),
        (lambda d: d["inputs"]["return.received"].update(max_per_key=0),
         "inputs.return.received.max_per_key"),
    ]:
        doc = _surge()
        change(doc)
        assert _fault(doc).extra["field"] == field


def test_a_bad_ruleset_is_a_422_at_deploy(users, app):
    analyst = users.make("ana", ["analyst"])
    doc = copy.deepcopy(_surge())
    doc["rules"]["three_returns_within_an_hour"]["then"]["data"]["sku"] = "zz.sku"
    import io
    resp = analyst.client.post("/api/v1/deployments", headers=analyst.headers,
                               data={"files": (io.BytesIO(json.dumps(doc).encode()), "surge.json")},
                               content_type="multipart/form-data")
    assert resp.status_code == 422
    body = resp.get_json()
    assert body["element"] == "three_returns_within_an_hour"
    assert body["field"] == "then[0].data.sku"
