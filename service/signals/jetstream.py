"""Signals on NATS JetStream (``OMNIFLOW_SIGNALS_URL=nats://host:4222``): the broker's side.

Layout on the broker (names from :class:`Names`, so tests and deployments do not collide):

- one stream, ``OMNIFLOW_SIGNALS``, on subjects ``omniflow.signals.<partition>.<location>``,
  kept by age and size (:attr:`Names.max_age`, :attr:`Names.max_bytes`, oldest dropped
  first), with a duplicate window: a signal is published with its id as ``Nats-Msg-Id``, so
  the broker stores a repeated id once;
- one durable pull consumer per partition, ``rules-<partition>``, shared by every worker (the
  group): it holds the delivery position and redelivers what was not acknowledged;
- one key-value bucket, ``OMNIFLOW_SIGNALS_OWNERS``, whose keys expire after
  :attr:`Names.lease_seconds` without renewal: a partition's key names the worker that
  consumes it, so the rules state of a partition lives in one process. The broker creates,
  compares and expires these keys; a worker only asks. (nats-server 2.11's pinned consumers
  would replace the bucket; the server here is 2.9.)

nats-py is asyncio-only and the service is synchronous (Flask, the worker loop), so each
process runs one event loop in a daemon thread, started on first use and again after a fork.
Tokens in subjects, consumer names and keys are escaped (:func:`token`), since a region or a
location may hold dots, spaces or wildcards.
"""
from __future__ import annotations

import asyncio
import json
import os
import threading
from dataclasses import dataclass

import nats
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import (AckPolicy, ConsumerConfig, DeliverPolicy, DiscardPolicy,
                         KeyValueConfig, RetentionPolicy, StorageType, StreamConfig)
from nats.js.errors import KeyWrongLastSequenceError, NotFoundError

from ..errors import OmniflowError

_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")


class BrokerUnavailable(OmniflowError):
    """The signal broker did not answer: the client sends the signals again (ids repeat)."""
    status, type, title = 503, "broker-unavailable", "Signal broker unavailable"


def token(text: str) -> str:
    """``text`` as one subject token / consumer name / key: letters, digits and ``-`` kept,
    every other byte as ``_XX`` (reversible, so a partition name survives the trip)."""
    if text and all(c in _SAFE for c in text):
        return text
    return "".join(c if c in _SAFE else "".join(f"_{b:02X}" for b in c.encode()) for c in text) \
        or "_"


def untoken(tok: str) -> str:
    """The text a :func:`token` stands for."""
    out, i = bytearray(), 0
    while i < len(tok):
        if tok[i] == "_" and i + 3 <= len(tok):
            out.append(int(tok[i + 1:i + 3], 16))
            i += 3
        else:
            out += tok[i].encode()
            i += 1
    return out.decode()


@dataclass(frozen=True)
class Names:
    """Where signals live on the broker, and how long they are kept."""
    stream: str = "OMNIFLOW_SIGNALS"
    subject: str = "omniflow.signals"
    group: str = "rules"
    max_age: float = 7 * 86400.0        # retention by age: a week of signals to replay from
    max_bytes: int = 2 << 30            # and by size; the signal table stays the record
    duplicate_window: float = 600.0     # a re-sent signal id within this is stored once
    lease_seconds: float = 10.0         # a dead worker's partitions are free after this
    ack_wait: float = 30.0

    @property
    def owners(self) -> str:
        return f"{self.stream}_OWNERS"

    def subject_of(self, partition: str, location: str | None) -> str:
        return f"{self.subject}.{token(partition)}.{token(location or '')}"

    def consumer_of(self, partition: str) -> str:
        return f"{self.group}-{token(partition)}"

    def partition_of(self, subject: str) -> str:
        return untoken(subject[len(self.subject) + 1:].split(".", 1)[0])


@dataclass(frozen=True)
class Delivery:
    """One message as the consumer needs it."""
    stream_seq: int
    consumer_seq: int
    delivered: int
    data: dict
    msg: object


class Bus:
    """A connection to JetStream for synchronous callers (one per process, see :func:`bus`)."""

    def __init__(self, url: str, names: Names = Names(), *, timeout: float = 10.0):
        self.url, self.names, self.timeout = url, names, timeout
        self.pid = os.getpid()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="jetstream",
                                        daemon=True)
        self._thread.start()
        self._subs: dict[str, object] = {}
        self._held: dict[str, tuple[str, int]] = {}     # partition -> (owner, key revision)
        self._lost: dict[str, set[str]] = {}            # owner -> partitions taken from it
        self._renewing = None
        try:
            self._call(self._connect())
        except Exception as exc:  # noqa: BLE001 - connection errors of every kind
            self.close()
            raise BrokerUnavailable(f"signal broker at {url}: {exc}") from exc

    def _call(self, coro, timeout: float | None = None):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout or self.timeout)

    async def _connect(self):
        n = self.names
        self.nc = await nats.connect(self.url, connect_timeout=self.timeout,
                                     max_reconnect_attempts=-1, reconnect_time_wait=0.5)
        self.js = self.nc.jetstream(timeout=self.timeout)
        config = StreamConfig(name=n.stream, subjects=[f"{n.subject}.>"],
                              retention=RetentionPolicy.LIMITS, discard=DiscardPolicy.OLD,
                              max_age=n.max_age, max_bytes=n.max_bytes,
                              duplicate_window=n.duplicate_window, storage=StorageType.FILE)
        try:
            await self.js.stream_info(n.stream)
            await self.js.update_stream(config)
        except NotFoundError:
            await self.js.add_stream(config)
        self.kv = await self.js.create_key_value(KeyValueConfig(
            bucket=n.owners, history=1, ttl=n.lease_seconds, storage=StorageType.FILE))

    # intake ------------------------------------------------------------------------------------

    def publish(self, envelopes) -> int:
        """Publish each signal under its partition and location, its id as the message id;
        returns how many the broker had already (duplicates). Raises BrokerUnavailable."""
        try:
            acks = self._call(self._publish(envelopes), timeout=self.timeout + len(envelopes) / 100)
        except Exception as exc:  # noqa: BLE001 - timeouts, disconnects, API errors
            raise BrokerUnavailable(f"publishing signals failed: {exc}") from exc
        return sum(1 for a in acks if a.duplicate)

    async def _publish(self, envelopes):
        """Send every message, then wait for every acknowledgement (pipelined, not one round
        trip per signal)."""
        n, js = self.names, self.js
        pending = []
        for env in envelopes:
            body = json.dumps({"id": env.id, "type": env.type, "at": env.at.isoformat(),
                               "data": env.data}, ensure_ascii=False).encode()
            pending.append(await js.publish_async(
                n.subject_of(env.partition, env.data.get("location")), body,
                headers={"Nats-Msg-Id": env.id}, wait_stall=self.timeout))
        return await asyncio.wait_for(asyncio.gather(*pending), self.timeout)

    # partitions and ownership --------------------------------------------------------------------

    def partitions(self) -> list[str]:
        """Partitions that have signals in the stream."""
        info = self._call(self.js.stream_info(self.names.stream, subjects_filter=">"))
        return sorted({self.names.partition_of(s) for s in (info.state.subjects or {})})

    def claim(self, partition: str, owner: str) -> bool:
        """Take a free partition; True when it is now ours. This connection then renews its
        key every third of the key's lifetime from the event loop thread, whatever the worker
        is busy with (a long replay must not cost it the partition), until :meth:`lost` says
        it could not, or :meth:`release`."""
        return self._call(self._claim(partition, owner))

    async def _claim(self, partition, owner):
        try:
            revision = await self.kv.create(token(partition), owner.encode())
        except KeyWrongLastSequenceError:
            return False
        self._held[partition] = (owner, revision)
        if self._renewing is None:
            self._renewing = asyncio.ensure_future(self._renew_forever())
        return True

    async def _renew_forever(self):
        while True:
            await asyncio.sleep(self.names.lease_seconds / 3)
            for partition, (owner, revision) in list(self._held.items()):
                try:
                    revision = await self.kv.update(token(partition), owner.encode(),
                                                    last=revision)
                except KeyWrongLastSequenceError:
                    # Expired (we were cut off longer than its lifetime) or taken: it is free
                    # again only if nobody took it; the committed position tells the rest.
                    try:
                        revision = await self.kv.create(token(partition), owner.encode())
                    except KeyWrongLastSequenceError:
                        self._held.pop(partition, None)
                        self._lost.setdefault(owner, set()).add(partition)
                        continue
                except Exception:  # noqa: BLE001 - a disconnect: the next round tries again
                    continue
                if partition in self._held:
                    self._held[partition] = (owner, revision)

    def lost(self, owner: str) -> set[str]:
        """The owner's partitions whose key another worker holds now (renewal failed)."""
        return self._lost.pop(owner, set())

    def release(self, partition: str) -> None:
        self._call(self._release(partition))

    async def _release(self, partition):
        held = self._held.pop(partition, None)
        if held is not None:
            try:
                await self.kv.delete(token(partition), last=held[1])
            except Exception:  # noqa: BLE001 - gone or taken already: expiry frees it anyway
                pass

    # consuming ------------------------------------------------------------------------------------

    def start_after(self, partition: str, position: int) -> None:
        """(Re)create the partition's durable consumer to deliver from after ``position``
        (the last stream sequence whose outcome is committed), and bind to it."""
        self._call(self._start_after(partition, position))

    async def _start_after(self, partition, position):
        n = self.names
        name = n.consumer_of(partition)
        old = self._subs.pop(partition, None)
        if old is not None:
            await old.unsubscribe()
        try:
            await self.js.delete_consumer(n.stream, name)
        except NotFoundError:
            pass
        start = ({"deliver_policy": DeliverPolicy.BY_START_SEQUENCE, "opt_start_seq": position + 1}
                 if position else {"deliver_policy": DeliverPolicy.ALL})
        await self.js.add_consumer(n.stream, ConsumerConfig(
            durable_name=name, filter_subject=f"{n.subject}.{token(partition)}.>",
            ack_policy=AckPolicy.ALL, ack_wait=n.ack_wait, max_deliver=-1,
            max_ack_pending=20_000, **start))
        self._subs[partition] = await self.js.pull_subscribe_bind(name, stream=n.stream)

    def fetch(self, partition: str, batch: int, wait: float) -> list[Delivery]:
        """Up to ``batch`` messages in stream order; [] when none came within ``wait``."""
        return self._call(self._fetch(self._subs[partition], batch, wait), timeout=wait + 10)

    @staticmethod
    async def _fetch(sub, batch, wait):
        try:
            msgs = await sub.fetch(batch, timeout=wait)
        except (NatsTimeout, asyncio.TimeoutError):
            return []
        out = []
        for m in msgs:
            meta = m.metadata
            out.append(Delivery(meta.sequence.stream, meta.sequence.consumer,
                                meta.num_delivered, json.loads(m.data), m))
        return out

    def ack(self, delivery: Delivery) -> None:
        """Acknowledge this message and every earlier one of its partition (AckAll)."""
        self._call(delivery.msg.ack())

    def forget(self, partition: str) -> None:
        sub = self._subs.pop(partition, None)
        if sub is not None:
            self._call(sub.unsubscribe())

    def delete_everything(self) -> None:
        """Delete this deployment's stream, consumers and owners bucket (tests, teardown)."""
        async def delete():
            for sub in self._subs.values():
                await sub.unsubscribe()
            self._subs.clear()
            for op in (self.js.delete_stream(self.names.stream),
                       self.js.delete_key_value(self.names.owners)):
                try:
                    await op
                except NotFoundError:
                    pass
        self._call(delete())

    def close(self) -> None:
        try:
            if self._renewing is not None:
                self._loop.call_soon_threadsafe(self._renewing.cancel)
            if getattr(self, "nc", None) is not None:
                self._call(self.nc.close())
        except Exception:  # noqa: BLE001 - closing a broken connection
            pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)


def names_of(config) -> Names:
    """Where a configuration's signals live on the broker (tests give their own names)."""
    return config.extra.get("signal_stream") or Names()


_buses: dict = {}
_buses_lock = threading.Lock()


def bus(url: str, names: Names = Names()) -> Bus:
    """This process's connection for (url, names); a forked child opens its own."""
    key = (url, names)
    with _buses_lock:
        found = _buses.get(key)
        if found is None or found.pid != os.getpid():
            found = _buses[key] = Bus(url, names)
        return found


def close(url: str, names: Names) -> None:
    """Close this process's connection for (url, names), if it has one."""
    with _buses_lock:
        found = _buses.pop((url, names), None)
    if found is not None and found.pid == os.getpid():
        found.close()
