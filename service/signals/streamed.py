"""The rules consumer on NATS JetStream (``OMNIFLOW_SIGNALS_URL``): the broker delivers.

Every worker process runs :func:`run_pending` in its loop, as with the signal table; here the
broker does what the lease table does there (see :mod:`.jetstream` for the layout):

- *Assignment*: a worker claims each partition it sees in the stream that no one holds, by
  creating the partition's key in the owners bucket; its connection renews the key every
  third of its lifetime from its own thread, so a long replay does not lose it. A worker killed with SIGKILL renews nothing: its keys expire and the others claim
  its partitions. Workers can join or stop at any time.
- *Delivery and redelivery*: on claiming a partition, the worker (re)starts the partition's
  durable pull consumer right after the position committed in the database, so the new owner
  gets, in stream order, every message the old one had not committed, whatever the old one
  had fetched. A message this worker fetched but did not commit (the batch failed) comes
  again the same way.
- *Exactly once, in effect*: a batch's outcomes, the cases it opened and the partition's new
  position (the last stream sequence of the batch, in the ``lease`` row, now only a position)
  commit in one transaction that moves the position only from where this batch started; the
  acknowledgement follows. So a worker killed between commit and acknowledgement has its
  messages delivered again and skipped (their sequence is at or below the position), and a
  worker that lost its key cannot commit. A message whose signal already has an outcome (a
  re-sent signal after the duplicate window) is skipped, and counted.

The signal table stays the record an auditor reads: each row gets its outcome and its stream
sequence (its ``seq``; intake leaves it 0), and a signal the broker has but the table lacks
(intake published, then its transaction failed) gets its row from the message.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass

from ..store import Lease, Signal, atomic, utcnow
from . import jetstream
from .counters import COUNTERS
from .detection import OpenCase, active_rulesets, forget, lock, rebuild, record, registry
from .envelope import parse_one
from .intake import insert_rows, received_now, row_of
from .partition import SignalRecord

log = logging.getLogger(__name__)

BATCH = 1000
FETCH_WAIT = 0.05              # seconds a fetch waits when a partition has nothing new
DISCOVER_SECONDS = 1.0         # how often the stream is asked which partitions it has
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


class _Moved(Exception):
    """The partition's committed position is not where this batch started."""


@dataclass
class _Owned:
    next_delivery: int = 0     # the consumer sequence expected next (0: not known yet)


class StreamConsumer:
    """One worker's view of the stream: the partitions it owns and their consumers."""

    def __init__(self, bus: jetstream.Bus, owner: str):
        self.bus, self.owner = bus, owner
        self.owned: dict[str, _Owned] = {}
        self.known: list[str] = []
        self.discovered = float("-inf")

    def run(self, open_case: OpenCase, limit: int) -> int:
        specs = active_rulesets()
        total = 0
        with lock:
            self.maintain()
            busy = sorted(self.owned)
            while busy and total < limit:
                still = []
                for partition in busy:
                    if total >= limit or partition not in self.owned:
                        continue
                    done = self._batch(open_case, partition, specs, min(BATCH, limit - total))
                    if done:
                        total += done
                        still.append(partition)
                busy = still
                self.maintain()
        return total

    # ownership ----------------------------------------------------------------------------

    def maintain(self) -> None:
        """Claim free partitions and drop the ones another worker took (renewal is the
        connection's own, see :meth:`.jetstream.Bus.claim`)."""
        for partition in self.bus.lost(self.owner):
            log.warning("lost a signal partition", extra={"partition": partition})
            self._drop(partition)
        now = time.monotonic()
        if now - self.discovered < DISCOVER_SECONDS:
            return
        self.known = self.bus.partitions()
        self.discovered = now
        for partition in self.known:
            if partition not in self.owned and self.bus.claim(partition, self.owner):
                self._take(partition)

    def _take(self, partition: str) -> None:
        forget(partition)
        self.bus.start_after(partition, _position(partition, self.owner))
        self.owned[partition] = _Owned()
        log.info("took a signal partition", extra={"partition": partition, "owner": self.owner})

    def _restart(self, partition: str) -> None:
        """Start the partition again from the committed position (state rebuilt from the log)."""
        forget(partition)
        owned = self.owned.get(partition)
        if owned is not None:
            self.bus.start_after(partition, _position(partition, self.owner))
            owned.next_delivery = 0

    def _drop(self, partition: str) -> None:
        forget(partition)
        self.bus.forget(partition)
        self.owned.pop(partition, None)

    def release_all(self) -> None:
        for partition in list(self.owned):
            self._drop(partition)
            self.bus.release(partition)

    # batches ------------------------------------------------------------------------------

    def _batch(self, open_case, partition: str, specs, size: int) -> int:
        owned = self.owned[partition]
        deliveries = self.bus.fetch(partition, size, FETCH_WAIT)
        if not deliveries:
            return 0
        if owned.next_delivery and deliveries[0].consumer_seq != owned.next_delivery:
            # A message was delivered that this process never saw (a fetch that gave up):
            # it would come back after newer ones, so start again from the committed position.
            self._restart(partition)
            return 0
        owned.next_delivery = deliveries[-1].consumer_seq + 1
        try:
            return self._apply(open_case, partition, specs, deliveries)
        except _Moved:
            # Another worker committed this partition: our key expired while we worked.
            log.warning("signal partition taken over", extra={"partition": partition})
            self._drop(partition)
            self.bus.release(partition)
            return 0
        except BaseException:
            self._restart(partition)      # the state ran ahead of a batch that did not commit
            raise

    def _apply(self, open_case, partition, specs, deliveries) -> int:
        reg = registry()
        position = _position(partition, self.owner)
        state = reg.get(partition)
        signature = tuple((s.name, s.version) for s in specs)
        if state is None or state.position != position or state.signature != signature:
            forget(partition)
            state = reg[partition] = rebuild(partition, specs, position)
        fresh = [d for d in deliveries if d.stream_seq > position]
        redelivered = sum(1 for d in deliveries if d.delivered > 1)
        envelopes = {}
        for d in fresh:
            env = parse_one(d.data)      # our own intake wrote it; validated again all the same
            envelopes.setdefault(env.id, (d, env))
        rows = {}
        ids = list(envelopes)
        for start in range(0, len(ids), 500):
            rows.update(Signal.select(Signal.id, Signal.status)
                        .where(Signal.id.in_(ids[start:start + 500])).tuples())
        todo = [(d, env) for d, env in envelopes.values() if rows.get(env.id, "pending") == "pending"]
        applied = [(rec, state.apply(rec)) for rec in
                   (SignalRecord(env.id, env.type, env.at.timestamp(), env.data, d.stream_seq)
                    for d, env in todo)]
        last = deliveries[-1].stream_seq
        with atomic():
            taken = (Lease.update(owner=self.owner, position=last, expires_at=utcnow())
                     .where(Lease.partition == partition, Lease.position == position).execute())
            if not taken:
                raise _Moved(partition)
            absent = [(d, env) for d, env in todo if env.id not in rows]
            if absent:                   # published, but intake's transaction did not commit
                now = received_now()
                insert_rows([row_of(env, 0, now) for _, env in absent])
            if applied:
                record(open_case, applied, streamed=True)
        state.position = last
        self.bus.ack(deliveries[-1])
        COUNTERS.add(redelivered=redelivered, already_done=len(envelopes) - len(todo))
        return len(deliveries)


def _position(partition: str, owner: str) -> int:
    """The last stream sequence of the partition whose outcome is committed (0: none)."""
    Lease.insert(partition=partition, owner=owner, expires_at=_EPOCH,
                 position=0).on_conflict_ignore().execute()
    return Lease.select(Lease.position).where(Lease.partition == partition).scalar() or 0


_consumers: dict = {}


def consumer_for(config, owner: str) -> StreamConsumer:
    """This process's consumer for the configuration's stream and this owner."""
    bus = jetstream.bus(config.signals_url, jetstream.names_of(config))
    key = (bus.url, bus.names, owner)
    found = _consumers.get(key)
    if found is None or found.bus is not bus:
        found = _consumers[key] = StreamConsumer(bus, owner)
    return found


def run_pending(config, open_case: OpenCase, *, owner: str, limit: int = 20_000) -> int:
    """Claim partitions, process what the broker delivers for them; returns signals handled."""
    return consumer_for(config, owner).run(open_case, limit)


def stop_all() -> None:
    """Let go of every partition this process owns (a clean stop; a killed one just expires)."""
    for found in list(_consumers.values()):
        try:
            found.release_all()
        except Exception:  # noqa: BLE001 - the broker may be gone already
            log.exception("releasing signal partitions failed")
    _consumers.clear()
