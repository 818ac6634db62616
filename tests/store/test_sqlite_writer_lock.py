"""SQLite writers of different processes queue on ``<database>.writer-lock`` (flock), which the
kernel hands over as soon as the holder lets go, instead of sleeping in SQLite's busy handler."""
import subprocess
import sys
import textwrap

import peewee

from service.store import db as store_db

# Another process tries the lock without waiting: "held" or "free".
PROBE = textwrap.dedent("""
    import fcntl, os, sys
    fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        print("free")
    except BlockingIOError:
        print("held")
""")


def _probe(path) -> str:
    return subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True,
                          text=True, check=True).stdout.strip()


def test_a_write_transaction_holds_the_lock_file_other_processes_queue_on(tmp_path):
    database = peewee.SqliteDatabase(str(tmp_path / "w.db"))
    lock_file = tmp_path / "w.db.writer-lock"
    writer = store_db._WriterFileLock()
    with writer.held(database):
        assert _probe(lock_file) == "held"
    assert _probe(lock_file) == "free"
    # An in-memory database has no file to lock beside it: nothing to queue on across processes.
    with writer.held(peewee.SqliteDatabase(":memory:")):
        pass


def test_a_forked_process_opens_its_own_handle(tmp_path, monkeypatch):
    """A handle inherited across fork would be the parent's lock too (flock locks belong to the
    open file): after a fork the child opens the file again."""
    database = peewee.SqliteDatabase(str(tmp_path / "f.db"))
    writer = store_db._WriterFileLock()
    with writer.held(database):
        pass
    parent_fd = writer._fd
    opened, closed = [], []
    real_open, real_close = store_db.os.open, store_db.os.close
    monkeypatch.setattr(store_db.os, "open", lambda *a: opened.append(a[0]) or real_open(*a))
    monkeypatch.setattr(store_db.os, "close", lambda fd: closed.append(fd) or real_close(fd))
    monkeypatch.setattr(store_db.os, "getpid", lambda: -1)      # as seen in a forked child
    with writer.held(database):
        assert opened == [str(tmp_path / "f.db.writer-lock")]  # its own handle
        assert closed == [parent_fd]                           # the inherited copy let go
    with writer.held(database):                                # then kept for its writes
        assert len(opened) == 1
