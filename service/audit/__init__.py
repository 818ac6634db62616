"""The audit trail: an append-only, hash-chained event log anchored by a key outside the
database.

    chain        append (inside the caller's transaction), verify, the head's and rows' MACs
    keys         the audit key: MACs and Ed25519 signatures, the public key auditors hold
    checkpoints  signed heads in a file outside the database, verified with the public key
"""
from . import checkpoints
from .chain import (Event, Verification, append, canonical, current_key, head_mac, record,
                    row_hash, use_key, verify)
from .keys import AuditKey, public_key_id, verify_signature

__all__ = ["AuditKey", "Event", "Verification", "append", "canonical", "checkpoints",
           "current_key", "head_mac", "public_key_id", "record", "row_hash", "use_key",
           "verify", "verify_signature"]
