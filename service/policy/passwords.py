"""People's passwords, for signing in to the pages: argon2id hashes, never the password.

argon2-cffi's ``PasswordHasher`` defaults follow RFC 9106's second recommended profile (64 MiB,
3 passes): slow on purpose, unlike the SHA-256 of the high-entropy API tokens. A hash made with
older parameters is re-hashed at the next successful sign-in.
"""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..errors import ValidationFailed
from ..store import User

MIN_LENGTH, MAX_LENGTH = 10, 200
_hasher = PasswordHasher()
# Compared against when the user does not exist, so a wrong name costs as long as a wrong
# password and the timing does not tell which names exist.
_DUMMY = _hasher.hash("not a password of anyone")


def check_strength(password: str) -> None:
    if not isinstance(password, str) or not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise ValidationFailed(f"a password has {MIN_LENGTH} to {MAX_LENGTH} characters",
                               field="password")
    if len(set(password)) < 4:
        raise ValidationFailed("a password needs more than three different characters",
                               field="password")


def set_password(user: User, password: str) -> None:
    """Store the hash of ``password`` for ``user`` (the caller's transaction commits it)."""
    check_strength(password)
    User.update(password_hash=_hasher.hash(password)).where(User.id == user.id).execute()


def verify(user: User | None, password: str) -> bool:
    """Whether ``password`` is ``user``'s; False for unknown, inactive or password-less users."""
    stored = user.password_hash if user is not None else None
    try:
        ok = _hasher.verify(stored or _DUMMY, password or "")
    except (VerificationError, InvalidHashError):
        return False
    if not (ok and stored and user.active):
        return False
    if _hasher.check_needs_rehash(stored):
        User.update(password_hash=_hasher.hash(password)).where(User.id == user.id).execute()
    return True


__all__ = ["MIN_LENGTH", "check_strength", "set_password", "verify"]
