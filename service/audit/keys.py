"""The audit key: what anchors the hash chain outside the database.

A chain of hashes proves that rows follow one another, not who wrote them: whoever can write
the database can rewrite a row and recompute every hash after it, truncate the chain, or
append a row, and the chain still verifies. The key lives in a file the database does not
hold (in production: on another volume, or injected by the platform's secret store), and the
service uses it twice:

* a **MAC on every row** and on the head (HMAC-SHA256, a key derived from the seed): the
  service checks the head's MAC before it appends, and verification checks every row's;
* **signed checkpoints** (Ed25519): ``(seq, hash)`` of the head, signed and written to an
  append-only file beside the key, so an auditor verifies them with the public key alone,
  without trusting the service or its database.

The file holds a 32-byte random seed (hex); the Ed25519 key and the MAC key derive from it.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (Ed25519PrivateKey,
                                                               Ed25519PublicKey)

__all__ = ["AuditKey", "public_key_id", "verify_signature"]


class AuditKey:
    def __init__(self, seed: bytes):
        if len(seed) != 32:
            raise ValueError("an audit key seed is 32 bytes")
        self._signer = Ed25519PrivateKey.from_private_bytes(seed)
        self._mac_key = hmac.new(seed, b"omniflow audit row mac", hashlib.sha256).digest()

    @classmethod
    def load_or_create(cls, path: str | Path) -> "AuditKey":
        """Read the seed from ``path``, creating the file (mode 0600) on first use."""
        path = Path(path)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_hex(32) + "\n")
        text = path.read_text().strip()
        try:
            return cls(bytes.fromhex(text))
        except ValueError as exc:
            raise ValueError(f"{path}: not an audit key (64 hex characters)") from exc

    def mac(self, text: str) -> str:
        return hmac.new(self._mac_key, text.encode("utf-8"), hashlib.sha256).hexdigest()

    def sign(self, payload: bytes) -> str:
        return base64.b64encode(self._signer.sign(payload)).decode("ascii")

    def public_pem(self) -> str:
        return self._signer.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")

    @property
    def key_id(self) -> str:
        return public_key_id(self.public_pem())


def _public(pem: str) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.encode("ascii"))
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("the audit public key must be an Ed25519 key")
    return key


def public_key_id(pem: str) -> str:
    raw = _public(pem).public_bytes(serialization.Encoding.Raw,
                                    serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def verify_signature(public_pem: str, payload: bytes, signature: str) -> bool:
    try:
        _public(public_pem).verify(base64.b64decode(signature), payload)
    except (InvalidSignature, ValueError):
        return False
    return True
