"""The rules consumer on the real database: cases open once, outcomes are recorded, leases hold,
and a restart in the middle of a stream neither repeats nor misses a case."""
from __future__ import annotations

import datetime as dt

from service.signals import consumer
from service.signals.counters import COUNTERS
from service.usecases.signals import run_rules
from service.store import Case, Lease, Signal

from .conftest import BOTH_PATHS
from .streams import cancelled, returned, snapshot

URL = "/api/v1/signals"


def _post(client, signals):
    for start in range(0, len(signals), 1000):
        resp = client.post(URL, json=signals[start:start + 1000])
        assert resp.status_code == 202, resp.get_json()


def _outcomes():
    return {s.id: (s.status, s.outcome) for s in Signal.select().order_by(Signal.seq)}


@BOTH_PATHS
def test_a_surge_opens_one_case_and_every_signal_gets_an_outcome(rules_deployed, erp, config):
    stream = [returned(0), returned(10), returned(20), returned(30), returned(40),
              returned(50), returned(55, sku="SKU2"), snapshot("erp", 56, on_hand=4)]
    _post(erp, stream)
    assert run_rules(config, owner="w1") == len(stream)
    surge = list(Case.select().where(Case.type == "return_surge_review"))
    assert len(surge) == 1
    case = surge[0]
    assert case.data["sku"] == "SKU1" and case.data["region"] == "west"
    assert case.external_ref == "rules:return_surge_review:SKU1|west"
    out = _outcomes()
    statuses = [out[s["id"]][0] for s in stream]
    assert statuses == ["no_match", "no_match", "case_opened", "no_match", "no_match",
                        "duplicate", "no_match", "no_match"]
    assert out[stream[2]["id"]][1]["cases"] == [case.id]
    assert out[stream[2]["id"]][1]["rules"] == ["return_surge.three_returns_within_an_hour"]
    assert out[stream[5]["id"]][1]["duplicate_of"] == [case.id]
    assert run_rules(config, owner="w1") == 0        # nothing left


@BOTH_PATHS
def test_a_closed_case_lets_the_condition_open_a_new_one(rules_deployed, erp, config):
    _post(erp, [returned(0), returned(1), returned(2)])
    run_rules(config, owner="w1")
    Case.update(status="completed").execute()
    _post(erp, [returned(3), returned(4), returned(5)])
    run_rules(config, owner="w1")
    assert Case.select().where(Case.type == "return_surge_review").count() == 2


@BOTH_PATHS
def test_a_case_type_without_a_process_is_an_error_outcome_not_a_stall(app, erp, config):
    from service.usecases.deployments import store_files as deploy
    from .streams import rules_dir
    deploy({"return_surge.json": (rules_dir() / "return_surge.json").read_bytes()},
           actor="analyst", max_bytes=config.max_definition_bytes)
    stream = [returned(0), returned(1), returned(2), returned(3)]
    _post(erp, stream)
    assert run_rules(config, owner="w1") == 4
    status, outcome = _outcomes()[stream[2]["id"]]
    assert status == "error" and "return_surge_review" in outcome["error"]
    assert _outcomes()[stream[3]["id"]][0] == "no_match"


def _mixed_stream():
    """Signals for two partitions that open four cases between them, with near misses."""
    out = []
    for minute in range(0, 240, 3):
        out.append(returned(minute, sku=f"N{minute % 40}"))     # background: 2 per 2 hours
        out.append(snapshot("erp", minute, sku=f"Q{minute % 5}", on_hand=10))
        out.append(snapshot("ecommerce", minute, sku=f"Q{minute % 5}", available_to_promise=10))
    out += [returned(100, sku="HOT"), returned(101, sku="HOT"), returned(102, sku="HOT")]
    out += [returned(110, sku="HOT", region="east"), returned(111, sku="HOT", region="east"),
            returned(190, sku="HOT", region="east")]                             # near miss
    out += [snapshot("erp", 120, sku="M1", on_hand=50),
            snapshot("ecommerce", 121, sku="M1", available_to_promise=20),
            snapshot("erp", 200, sku="M1", on_hand=50)]
    out += [snapshot("erp", 130, sku="C1", on_hand=9, region="east"), cancelled(131, sku="C1")]
    out += [cancelled(140, sku="C2", location="S2"), snapshot("erp", 141, sku="C2", location="S2",
                                                               on_hand=3),
            cancelled(150, sku="C2", location="S2"), cancelled(160, sku="C2", location="S2")]
    out.sort(key=lambda s: s["at"])
    return out


def _cases():
    return sorted((c.type, c.external_ref) for c in Case.select())


MIXED_CASES = [("inventory_reconciliation", "rules:inventory_reconciliation:C2|S2"),
               ("inventory_reconciliation", "rules:inventory_reconciliation:M1|S1"),
               ("return_surge_review", "rules:return_surge_review:HOT|west")]


@BOTH_PATHS
def test_a_mixed_stream_of_two_partitions_opens_the_same_cases(rules_deployed, erp, config):
    stream = _mixed_stream()
    _post(erp, stream)
    total = 0
    while True:
        done = run_rules(config, owner="w1", limit=300)
        if not done:
            break
        total += done
    assert total == len(stream)
    assert _cases() == MIXED_CASES
    assert Signal.select().where(Signal.status == "pending").count() == 0
    seqs = [s.seq for s in Signal.select(Signal.seq)]
    assert len(set(seqs)) == len(stream) and min(seqs) > 0     # each row has its place in the log


def test_stop_in_the_middle_and_restart_opens_each_case_once(rules_deployed, erp, config):
    stream = _mixed_stream()
    _post(erp, stream)
    first = run_rules(config, owner="w1", limit=101)
    assert first == 101
    consumer.forget()                                   # the process stops: memory is gone
    total = first
    while True:
        done = run_rules(config, owner="w1", limit=57)    # restarted, in small steps
        if not done:
            break
        total += done
        consumer.forget()
    assert total == len(stream)
    interrupted, interrupted_outcomes = _cases(), _outcomes()
    assert interrupted == MIXED_CASES
    assert Signal.select().where(Signal.status == "pending").count() == 0
    # the same stream without interruption gives the same outcomes
    Signal.update(status="pending", outcome=None, case=None).execute()
    Lease.update(position=0).execute()
    Case.update(status="completed").execute()
    consumer.forget()
    run_rules(config, owner="w1")
    uninterrupted = {k: (v[0], {kk: vv for kk, vv in v[1].items() if kk == "rules"})
                     for k, v in _outcomes().items()}
    assert uninterrupted == {k: (v[0], {kk: vv for kk, vv in v[1].items() if kk == "rules"})
                             for k, v in interrupted_outcomes.items()}


def test_a_partition_has_one_owner_until_its_lease_expires(rules_deployed, erp, config):
    now = dt.datetime.now(dt.timezone.utc)
    _post(erp, [returned(0), returned(1)])
    assert run_rules(config, owner="w1", now=now) == 2
    _post(erp, [returned(2)])
    assert run_rules(config, owner="w2", now=now + dt.timedelta(seconds=5)) == 0
    assert Signal.select().where(Signal.status == "pending").count() == 1
    later = now + dt.timedelta(seconds=consumer.LEASE_SECONDS + 1)
    assert run_rules(config, owner="w2", now=later) == 1      # w2 rebuilds from the log
    assert Case.select().where(Case.type == "return_surge_review").count() == 1
    assert Lease.get_by_id("west").owner == "w2"
    _post(erp, [returned(3)])
    assert run_rules(config, owner="w1", now=later) == 0      # w1 lost it and knows


def test_partitions_take_turns_when_the_limit_stops_a_run(rules_deployed, erp, config):
    west = [returned(m / 10, sku=f"W{m % 30}") for m in range(30)]
    east = [returned(m / 10, sku=f"E{m % 30}", region="east") for m in range(30)]
    _post(erp, west + east)
    assert run_rules(config, owner="w1", limit=20) == 20
    assert run_rules(config, owner="w1", limit=20) == 20
    pending = {p: Signal.select().where(Signal.partition == p, Signal.status == "pending").count()
               for p in ("west", "east")}
    assert pending == {"west": 10, "east": 10}       # neither waited for the other's backlog
    assert run_rules(config, owner="w1") == 20


@BOTH_PATHS
def test_a_late_store_batch_opens_its_case_and_late_signals_are_recorded(rules_deployed, erp,
                                                                         config):
    current = [snapshot("erp", 180 + m, sku="SKU9", location="S2", on_hand=5) for m in range(3)]
    late_store = [snapshot("erp", 0, on_hand=12), cancelled(10), cancelled(50)]
    # SKU3 at S1: its clock is at minute 100 when a cancellation of minute 20 comes
    too_late = [snapshot("erp", 100, sku="SKU3", on_hand=0), cancelled(20, sku="SKU3")]
    _post(erp, current + late_store + too_late)
    before = COUNTERS.snapshot()
    assert run_rules(config, owner="w1") == 8
    assert _cases() == [("inventory_reconciliation", "rules:inventory_reconciliation:SKU1|S1")]
    out = _outcomes()
    assert out[late_store[2]["id"]][0] == "case_opened"
    status, outcome = out[too_late[1]["id"]]
    assert status == "late" and outcome["late"] == ["channel_mismatch"]
    assert [s for s, _ in out.values()].count("late") == 1
    after = COUNTERS.snapshot()
    assert after["late"] - before["late"] == 1 and after["processed"] - before["processed"] == 8
