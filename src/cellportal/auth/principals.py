"""Who is asking: the principal of a request.

Today a request is anonymous unless it carries ``Authorization: Bearer <token>`` and the app's token
resolver knows the token. The default resolver knows only an optional admin token (`StaticTokens`); the
accounts issue replaces it with one backed by API keys and sessions (`TokenResolver` is the hook).
A bearer token nobody knows is an error (401) rather than silently anonymous, so a script with an
expired key finds out at once instead of seeing only public data.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping

from fastapi import Request

from cellportal.api.errors import Problem
from cellportal.auth.policy import ANONYMOUS, Principal, Role

TokenResolver = Callable[[str], Principal | None]


class StaticTokens:
    """A fixed token -> principal table (an operator's admin token, tests)."""

    def __init__(self, tokens: Mapping[str, Principal]) -> None:
        self._tokens = dict(tokens)

    @classmethod
    def admin(cls, token: str | None) -> StaticTokens:
        return cls({token: Principal(user_id="admin", roles=frozenset({Role.ADMIN}))} if token else {})

    def __call__(self, token: str) -> Principal | None:
        for known, principal in self._tokens.items():
            if hmac.compare_digest(known.encode(), token.encode()):
                return principal
        return None


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(401, "Unauthorized", "Use the header 'Authorization: Bearer <token>'.")
    return token.strip()


def resolve_principal(request: Request) -> Principal:
    """FastAPI dependency: the caller of this request."""
    token = bearer_token(request)
    if token is None:
        return ANONYMOUS
    resolver: TokenResolver = request.app.state.token_resolver
    principal = resolver(token)
    if principal is None:
        raise Problem(401, "Unauthorized", "The access token is unknown or expired.")
    return principal
