"""Random secrets and their digests: what we hand out once, and what we keep to recognise it later."""

from __future__ import annotations

import hashlib
import secrets


def new_token(nbytes: int = 32) -> str:
    """A URL-safe random secret (256 bits by default)."""
    return secrets.token_urlsafe(nbytes)


def digest(secret: str) -> str:
    """sha256 hex of a secret. Plain sha256 suffices: the secrets are 256-bit random, not guessable passwords."""
    return hashlib.sha256(secret.encode()).hexdigest()
