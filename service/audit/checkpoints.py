"""Signed checkpoints: the head of the chain, signed with the audit key, in a file outside the
database, so an auditor can verify the trail with the public key alone.

Each checkpoint is one JSON line ``{seq, hash, at, key_id, signature}``; the signature covers
``omniflow-audit-checkpoint:{seq}:{hash}:{at}``. Verifying a trail against its checkpoints
(:func:`verify`) catches what the chain alone cannot:

* a row rewritten and every later hash recomputed: the row at some checkpoint's ``seq`` no
  longer has the signed hash;
* a truncated trail: a checkpoint names a ``seq`` beyond its end;
* a forged checkpoint, or one moved from another trail: its signature does not verify.

Rows appended after the last checkpoint are covered by the row MACs (:mod:`.chain`) until the
next checkpoint is signed; the worker signs one whenever the head moved, at most every
``audit_checkpoint_seconds``.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from .keys import AuditKey, public_key_id, verify_signature

__all__ = ["Checkpoint", "CheckpointReport", "append", "last", "read", "sign", "verify"]


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    at: str
    key_id: str
    signature: str

    def payload(self) -> bytes:
        return f"omniflow-audit-checkpoint:{self.seq}:{self.hash}:{self.at}".encode("utf-8")


def sign(key: AuditKey, seq: int, digest: str, at: str) -> Checkpoint:
    unsigned = Checkpoint(seq, digest, at, key.key_id, "")
    return Checkpoint(seq, digest, at, key.key_id, key.sign(unsigned.payload()))


def append(path: str | Path, checkpoint: Checkpoint) -> None:
    """Append one checkpoint line and flush it to disk before returning."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(asdict(checkpoint), sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def read(path: str | Path) -> list[Checkpoint]:
    """The checkpoints of a file, in order; a damaged line raises ``ValueError`` naming it."""
    path = Path(path)
    if not path.exists():
        return []
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
            out.append(Checkpoint(int(doc["seq"]), str(doc["hash"]), str(doc["at"]),
                                  str(doc["key_id"]), str(doc["signature"])))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}: line {number} is not a checkpoint") from exc
    return out


def last(path: str | Path) -> Checkpoint | None:
    """The newest checkpoint, read from the end of the file (the file only grows)."""
    path = Path(path)
    if not path.exists():
        return None
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        end = handle.tell()
        handle.seek(max(0, end - 4096))
        lines = [line for line in handle.read().splitlines() if line.strip()]
    if not lines:
        return None
    doc = json.loads(lines[-1])
    return Checkpoint(int(doc["seq"]), str(doc["hash"]), str(doc["at"]), str(doc["key_id"]),
                      str(doc["signature"]))


@dataclass(frozen=True)
class CheckpointReport:
    ok: bool
    checked: int
    last_seq: int | None = None
    first_bad_seq: int | None = None
    reason: str | None = None


def verify(checkpoints: list[Checkpoint], public_pem: str,
           hash_at: Callable[[int], str | None]) -> CheckpointReport:
    """Check every checkpoint's signature and that the trail still holds its signed hash.

    ``hash_at(seq)`` reads the trail's hash at ``seq`` (None when there is no such row).
    """
    key_id = public_key_id(public_pem)
    last = None
    for number, cp in enumerate(checkpoints):
        if cp.key_id != key_id or not verify_signature(public_pem, cp.payload(), cp.signature):
            return CheckpointReport(False, number, last, cp.seq, "a checkpoint's signature does "
                                    "not verify with this public key")
        if last is not None and cp.seq < last:
            return CheckpointReport(False, number, last, cp.seq, "checkpoints go backwards")
        found = hash_at(cp.seq) if cp.seq > 0 else "0" * 64
        if found is None:
            return CheckpointReport(False, number, last, cp.seq, "the trail ends before this "
                                    "signed checkpoint: rows were removed")
        if found != cp.hash:
            return CheckpointReport(False, number, last, cp.seq, "the row at this signed "
                                    "checkpoint was changed")
        last = cp.seq
    return CheckpointReport(True, len(checkpoints), last)
