"""Signals on NATS JetStream, against the local server: the broker drops repeated ids, and a
worker process killed with SIGKILL in the middle of a batch loses and doubles nothing."""
from __future__ import annotations

import dataclasses
import json
import signal
import subprocess
import sys
import time

import pytest

from service.config import ROOT
from service.signals import jetstream
from service.usecases.signals import run_rules
from service.signals.envelope import parse
from service.store import AuditEvent, Case, Signal

from .streams import feed, returned, snapshot

ONLY_JETSTREAM = pytest.mark.parametrize("config", ["jetstream"], indirect=True)
URL = "/api/v1/signals"


@ONLY_JETSTREAM
def test_the_broker_stores_a_repeated_signal_id_once(config):
    names = jetstream.names_of(config)
    bus = jetstream.bus(config.signals_url, names)
    batch = parse([returned(0), returned(1, region="east"), returned(2)])
    assert bus.publish(batch) == 0
    assert bus.publish(batch) == 3                       # within the duplicate window
    assert bus.partitions() == ["east", "west"]
    info = bus._call(bus.js.stream_info(names.stream))
    assert info.state.messages == 3
    assert info.config.max_age == names.max_age and info.config.max_bytes == names.max_bytes


@ONLY_JETSTREAM
def test_subjects_carry_partition_and_location_whatever_their_characters(config):
    names = jetstream.names_of(config)
    for text in ("west", "North East", "a.b*c>d", "zürich_1", "-"):
        assert jetstream.untoken(jetstream.token(text)) == text
        assert "." not in jetstream.token(text) and " " not in jetstream.token(text)
    subject = names.subject_of("a.b c", "S 1")
    assert subject.count(".") == names.subject.count(".") + 2
    assert names.partition_of(subject) == "a.b c"


def _burst_stream(n_bursts: int) -> list:
    """Two partitions; each burst is three returns of a new sku within minutes (one surge,
    one case), between them snapshots that match nothing: about 12 signals per burst."""
    out = []
    for b in range(n_bursts):
        region = "west" if b % 2 else "east"
        minute = b * 3.0
        out += [returned(minute + i * 0.5, sku=f"HOT{b}", region=region) for i in range(3)]
        out += [snapshot("erp", minute + i * 0.2, sku=f"Q{b % 50}", location=f"L{i}",
                         on_hand=10, region=region) for i in range(9)]
    return out


_VICTIM = r"""
import json, sys, time
from service.app import create_app
from service.config import Config
from service.usecases.signals import run_rules
from service.signals.jetstream import Names
args = json.loads(sys.argv[1])
config = Config(database_url=args["db"], run_worker=False, deploy_on_start=False,
                signals_url=args["url"], extra={"signal_stream": Names(**args["names"])},
                audit_key_file=args["audit_key"], audit_checkpoint_file=args["checkpoints"])
app = create_app(config)
with app.app_context():
    while True:
        done = run_rules(config, owner="victim", limit=200)
        print(done, flush=True)
        if not done:
            time.sleep(0.05)
"""


@ONLY_JETSTREAM
def test_a_worker_killed_mid_batch_loses_and_doubles_nothing(rules_deployed, erp, config):
    stream = _burst_stream(500)
    for start in range(0, len(stream), 1000):
        resp = erp.post(URL, json=stream[start:start + 1000])
        assert resp.status_code == 202, resp.get_json()
    expected = sorted({ref for region in ("west", "east") for _, ref in feed(
        [s for s in stream if s["data"]["region"] == region], "return_surge")})
    assert len(expected) == 500

    names = jetstream.names_of(config)
    args = {"db": config.database_url, "url": config.signals_url,
            "names": dataclasses.asdict(names), "audit_key": config.audit_key_file,
            "checkpoints": config.audit_checkpoint_file}     # the same service, another process
    victim = subprocess.Popen([sys.executable, "-c", _VICTIM, json.dumps(args)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        done = 0
        while done < len(stream) // 4 and time.monotonic() < deadline:   # a few batches in
            line = victim.stdout.readline()
            assert line, victim.stderr.read()
            done += int(line)
        time.sleep(0.01)
        victim.send_signal(signal.SIGKILL)       # in the middle of the next batch
        victim.wait(timeout=30)
    finally:
        if victim.poll() is None:
            victim.kill()
    processed_by_victim = Signal.select().where(Signal.status != "pending").count()
    assert 0 < processed_by_victim < len(stream)

    # Another worker claims the partitions once the victim's keys expire, and finishes.
    deadline = time.monotonic() + names.lease_seconds * 10 + 60
    while time.monotonic() < deadline:
        run_rules(config, owner="rescuer", limit=5000)
        if not Signal.select().where(Signal.status == "pending").count():
            break
        time.sleep(0.1)
    assert Signal.select().where(Signal.status == "pending").count() == 0
    refs = [c.external_ref for c in Case.select().where(Case.type == "return_surge_review")]
    assert sorted(refs) == expected                           # none lost, none twice
    matched = AuditEvent.select().where(AuditEvent.kind == "rules.matched").count()
    assert matched == len(expected)
    statuses = {}
    for status, in Signal.select(Signal.status).tuples():
        statuses[status] = statuses.get(status, 0) + 1
    assert statuses.get("case_opened") == len(expected)
    assert len({s.seq for s in Signal.select(Signal.seq)}) == len(stream)


@ONLY_JETSTREAM
def test_a_signal_the_broker_has_but_the_table_lacks_gets_its_row(rules_deployed, config):
    # intake published, then its transaction did not commit: the message is the signal
    bus = jetstream.bus(config.signals_url, jetstream.names_of(config))
    stream = [returned(0), returned(1), returned(2)]
    bus.publish(parse(stream))
    assert run_rules(config, owner="w1") == 3
    rows = {s.id: s for s in Signal.select()}
    assert sorted(rows) == sorted(s["id"] for s in stream)
    assert rows[stream[2]["id"]].status == "case_opened"
    assert Case.select().where(Case.type == "return_surge_review").count() == 1
