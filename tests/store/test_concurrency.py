"""A few concurrent writers never fail with "database is locked" or deadlock."""
import threading

from service import store


def test_concurrent_writers_all_commit(db, config):
    errors, per_thread, threads = [], 25, 6

    def writer(n):
        try:
            for i in range(per_thread):
                with store.atomic():
                    # read-then-write: the pattern that deadlocks without BEGIN IMMEDIATE
                    count = store.User.select().count()
                    store.User.create(name=f"w{n}-{i}-{count}")
        except Exception as exc:  # noqa: BLE001 - we want to see any failure
            errors.append(repr(exc))
        finally:
            store.database.close()

    pool = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    store.database.connect(reuse_if_open=True)
    assert errors == []
    assert store.User.select().count() == per_thread * threads
