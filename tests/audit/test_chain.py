import threading

from service import audit, store


def test_chain_verifies_and_links(db):
    audit.record("one", actor="a", case_id=None, value=1)
    audit.record("two", actor="b", note="ünïcode", amount=12.5)
    rows = list(store.AuditEvent.select().order_by(store.AuditEvent.seq))
    assert [r.seq for r in rows] == [1, 2]
    assert rows[1].prev_hash == rows[0].hash
    assert audit.verify().ok


def test_an_edited_row_is_caught_at_that_row(db):
    for i in range(5):
        audit.record("step", actor="x", index=i)
    store.AuditEvent.update(detail={"index": 99}).where(store.AuditEvent.seq == 3).execute()
    result = audit.verify()
    assert not result.ok
    assert result.first_bad_seq == 3
    assert result.checked == 2


def test_a_deleted_row_is_caught(db):
    for i in range(4):
        audit.record("step", actor="x", index=i)
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
