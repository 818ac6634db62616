import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import threading
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import peewee
import pytest

from service import audit, store
from service.errors import AuditUnavailable
from service.usecases import audit_trail

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def key(config, db):
    """The service's audit key, as `serve` loads it (a file outside the database)."""
    loaded = audit.AuditKey.load_or_create(config.audit_key_file)
    audit.use_key(loaded)
    yield loaded
    audit.use_key(None)


@contextmanager
def tampering():
    """An attacker with the database's owner rights: the append-only triggers are out of the
    way (what the service's own role cannot do; the point is what verification still sees)."""
    if store.is_postgres():
        store.database.execute_sql("ALTER TABLE audit_event DISABLE TRIGGER USER")
        try:
            yield
        finally:
            store.database.execute_sql("ALTER TABLE audit_event ENABLE TRIGGER USER")
    else:
        store.database.execute_sql("DROP TRIGGER audit_event_no_update")
        store.database.execute_sql("DROP TRIGGER audit_event_no_delete")
        try:
            yield
        finally:
            from service.store.migrations import APPEND_ONLY_SQLITE
            for statement in APPEND_ONLY_SQLITE:
                store.database.execute_sql(statement)


def _rewrite_and_rechain(seq: int, detail: dict) -> None:
    """Change one row's content and recompute every hash after it, and the head: the chain
    alone verifies afterwards."""
    rows = list(store.AuditEvent.select().order_by(store.AuditEvent.seq))
    prev = "0" * 64
    with tampering():
        for r in rows:
            if r.seq == seq:
                r.detail = detail
            digest = audit.row_hash(prev, r.seq, r.at, r.actor, r.case_id, r.instance_id,
                                    r.kind, r.detail)
            store.AuditEvent.update(detail=r.detail, prev_hash=prev, hash=digest).where(
                store.AuditEvent.seq == r.seq).execute()
            prev = digest
        store.AuditHead.update(hash=prev).where(store.AuditHead.id == 1).execute()


def test_chain_verifies_and_links(db):
    audit.record("one", actor="a", case_id=None, value=1)
    audit.record("two", actor="b", note="ünïcode", amount=12.5)
    rows = list(store.AuditEvent.select().order_by(store.AuditEvent.seq))
    assert [r.seq for r in rows] == [1, 2]
    assert rows[1].prev_hash == rows[0].hash
    assert audit.verify().ok


def test_the_database_refuses_to_change_or_delete_audit_rows(db):
    audit.record("step", actor="x", index=1)
    for change in (lambda: store.AuditEvent.update(actor="y").execute(),
                   lambda: store.AuditEvent.delete().execute()):
        with pytest.raises(peewee.DatabaseError, match="append-only"):
            with store.atomic():
                change()
    assert store.AuditEvent.get_by_id(1).actor == "x"


def test_an_edited_row_is_caught_at_that_row(db):
    for i in range(5):
        audit.record("step", actor="x", index=i)
    with tampering():
        store.AuditEvent.update(detail={"index": 99}).where(store.AuditEvent.seq == 3).execute()
    result = audit.verify()
    assert not result.ok
    assert result.first_bad_seq == 3
    assert result.checked == 2


def test_a_deleted_row_is_caught(db):
    for i in range(4):
        audit.record("step", actor="x", index=i)
    with tampering():
        store.AuditEvent.delete().where(store.AuditEvent.seq == 2).execute()
    result = audit.verify()
    assert not result.ok and result.first_bad_seq == 2


def test_rolled_back_events_leave_no_gap(db):
    audit.record("kept", actor="x")
    try:
        with store.atomic():
            audit.record("lost", actor="x")
            raise RuntimeError
    except RuntimeError:
        pass
    audit.record("kept-too", actor="x")
    assert [e.seq for e in store.AuditEvent.select().order_by(store.AuditEvent.seq)] == [1, 2]
    assert audit.verify().ok


def test_concurrent_appends_keep_one_unbroken_chain(db):
    errors = []

    def writer(n):
        try:
            for i in range(20):
                with store.atomic():
                    audit.record("concurrent", actor=f"w{n}", i=i)
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))
        finally:
            store.database.close()

    pool = [threading.Thread(target=writer, args=(n,)) for n in range(5)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    store.database.connect(reuse_if_open=True)
    assert errors == []
    seqs = [e.seq for e in store.AuditEvent.select().order_by(store.AuditEvent.seq)]
    assert seqs == list(range(1, 101))
    assert audit.verify().ok


def test_a_rewritten_and_rechained_row_is_caught_by_its_mac_and_by_the_checkpoints(key, config):
    for i in range(6):
        audit.record("step", actor="x", index=i)
    assert audit_trail.write_checkpoint(config).seq == 6
    _rewrite_and_rechain(3, {"index": 99})
    assert audit.verify().ok                       # the chain alone is fooled
    by_service = audit.verify(key=key)
    assert not by_service.ok and by_service.first_bad_seq == 3 and "MAC" in by_service.reason
    by_auditor = audit_trail.check(public_pem=key.public_pem(),
                                   checkpoint_file=config.audit_checkpoint_file)
    assert not by_auditor["ok"] and by_auditor["first_bad_seq"] == 6
    assert "changed" in by_auditor["reason"]


def test_truncation_is_caught_by_the_checkpoints(key, config):
    for i in range(5):
        audit.record("step", actor="x", index=i)
    audit_trail.write_checkpoint(config)
    last = store.AuditEvent.get_by_id(3)
    with tampering():
        store.AuditEvent.delete().where(store.AuditEvent.seq > 3).execute()
        store.AuditHead.update(seq=3, hash=last.hash).where(store.AuditHead.id == 1).execute()
    assert audit.verify().ok                       # a shorter chain is still a chain
    by_auditor = audit_trail.check(public_pem=key.public_pem(),
                                   checkpoint_file=config.audit_checkpoint_file)
    assert not by_auditor["ok"] and "removed" in by_auditor["reason"]


def test_a_forged_append_is_refused_and_caught(key, config):
    for i in range(3):
        audit.record("step", actor="x", index=i)
    head = store.AuditHead.get_by_id(1)
    at = store.AuditEvent.get_by_id(3).at
    detail = {"approved_by": "nobody"}
    digest = audit.row_hash(head.hash, 4, at, "forger", None, None, "task.completed", detail)
    with tampering():
        store.AuditEvent.insert(seq=4, at=at, actor="forger", kind="task.completed",
                                detail=detail, prev_hash=head.hash, hash=digest).execute()
        store.AuditHead.update(seq=4, hash=digest).where(store.AuditHead.id == 1).execute()
    assert audit.verify().ok                       # links and hashes hold
    with pytest.raises(AuditUnavailable):          # the service will not extend it
        audit.record("next", actor="x")
    by_service = audit.verify(key=key)
    assert not by_service.ok and by_service.first_bad_seq == 4
    assert audit_trail.write_checkpoint(config) is None      # nor sign it


def test_verification_reports_damage_instead_of_failing(key, config):
    for i in range(3):
        audit.record("step", actor="x", index=i)
    with tampering():
        store.database.execute_sql("UPDATE audit_event SET detail = 'not json' WHERE seq = 2")
    result = audit.verify(key=key)
    assert not result.ok and result.first_bad_seq == 2 and "cannot be read" in result.reason
    with tampering():
        store.AuditHead.delete().execute()
    assert audit.verify(key=key).reason == "the head row is missing"


def test_incremental_verification_starts_at_the_last_checkpoint(key, config):
    for i in range(4):
        audit.record("step", actor="x", index=i)
    audit_trail.write_checkpoint(config)
    for i in range(3):
        audit.record("later", actor="x", index=i)
    result = audit_trail.check(public_pem=key.public_pem(), key=key,
                               checkpoint_file=config.audit_checkpoint_file, incremental=True)
    assert result["ok"] and result["from_seq"] == 4 and result["checked"] == 3
    assert result["checkpoints"] == {"ok": True, "checked": 1, "last_seq": 4}


def test_an_auditor_verifies_with_the_public_key_alone(key, config, tmp_path):
    """The auditor's command needs the database, the public key and the checkpoint file: not
    the service's key (the child process is given none)."""
    for i in range(3):
        audit.record("step", actor="x", index=i)
    audit_trail.write_checkpoint(config)
    public = tmp_path / "audit.pub"
    public.write_text(key.public_pem())
    env = {**os.environ, "DATABASE_URL": config.database_url,
           "OMNIFLOW_AUDIT_KEY_FILE": str(tmp_path / "no-such-key")}
    command = [sys.executable, "server.py", "audit", "verify", "--public-key", str(public),
               "--checkpoints", config.audit_checkpoint_file]
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["checkpoints"]["ok"] is True
    assert not (tmp_path / "no-such-key").exists()
    _rewrite_and_rechain(2, {"index": 7})
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert run.returncode == 1 and json.loads(run.stdout)["first_bad_seq"] == 3


def test_appended_rows_hash_as_the_canonical_row_and_store_the_detail_as_given(db):
    """An append encodes each detail once (the hash and the row share the text); the hash is
    still sha256 of the canonical JSON of the whole row, so trails written before verify."""
    details = [{}, {"b": 1, "a": [1.5, None, True], "ü": "naïve \u2028 \"q\""},
               {"nested": {"z": {"y": [{"x": 1}]}, "n": -0.0}, "big": 10 ** 20},
               {"when": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc),
                "amount": Decimal("12.50"), "ids": (3, 1), 7: "int key"}]
    who = [("tester", 1, 2), ('nä"me\u2028\\', None, None), ("x", 2 ** 31 - 1, 0),
           ("€", 3, None)]
    with store.atomic():
        seqs = audit.append([audit.Event("test.détail", actor, case, inst, d)
                             for (actor, case, inst), d in zip(who, details)])
    for seq, given, (actor, case, inst) in zip(seqs, details, who):
        row = store.AuditEvent.get(store.AuditEvent.seq == seq)
        assert row.detail == json.loads(store.fields.dumps(given))
        assert list(row.detail) == [str(k) for k in given]             # the order given
        body = json.dumps({"seq": seq, "at": row.at.isoformat(), "actor": actor,
                           "case_id": case, "instance_id": inst, "kind": "test.détail",
                           "detail": row.detail},
                          sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert row.hash == hashlib.sha256((row.prev_hash + body).encode()).hexdigest()
    assert audit.verify().ok
