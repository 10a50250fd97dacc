"""Password hashing: argon2id through argon2-cffi, with its default (RFC 9106 "low memory") parameters."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 8
MAX_LENGTH = 1024  # argon2 takes any length; this bounds the work an attacker can make us do per request

_hasher = PasswordHasher()
# Verified against when the user does not exist, so a wrong username costs as much time as a wrong password.
_DUMMY_HASH = _hasher.hash("cellportal-no-such-user")


def password_problem(password: str) -> str | None:
    """Why `password` is not acceptable, or None."""
    if len(password) < MIN_LENGTH:
        return f"The password must be at least {MIN_LENGTH} characters long."
    if len(password) > MAX_LENGTH:
        return f"The password must be at most {MAX_LENGTH} characters long."
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when `password` matches; costs the same time when there is no hash to check against."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password[:MAX_LENGTH]) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)
