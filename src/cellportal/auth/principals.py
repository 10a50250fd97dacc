"""Who is asking: the principal of a request.

`resolve_principal` reads, in order:
1. ``Authorization: Bearer <token>``: an API key (``cp_<prefix>_<secret>``, the user it belongs to) or a
   token the app's static resolver knows (the operator's ``admin_token``; tests). A bearer token nobody
   knows is an error (401) rather than silently anonymous, so a script with a revoked key finds out at
   once instead of seeing only public data.
2. else the ``cp_session`` cookie of a signed-in browser (unknown or expired: simply anonymous);
3. and in both cases the share links the request carries: the signed ``cp_share`` cookie plus a
   ``?share=<token>`` on this very request (`ShareLinkMiddleware` validates it and sets the cookie). Which
   of those links are still live is read from the catalog on every request, so revoking one takes effect
   at once.

Roles come from the user row (``is_admin``); a disabled user is nobody.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from dataclasses import replace

from fastapi import Request
from sqlalchemy.orm import Session

from cellportal.api.errors import Problem
from cellportal.auth import accounts, sharing
from cellportal.auth.cookies import SESSION_COOKIE, SHARE_COOKIE, read_link_ids
from cellportal.auth.models import User
from cellportal.auth.policy import ANONYMOUS, Principal, Role

TokenResolver = Callable[[str], Principal | None]
# request.state keys set here, read by the pages (header, `web.identity`)
STATE_USERNAME = "username"
STATE_SHARE_LINK_IDS = "share_link_ids"  # added by ShareLinkMiddleware for this request's ?share=


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


def principal_of(user: User) -> Principal:
    """The principal of a user row."""
    return Principal(user_id=user.id, roles=frozenset({Role.ADMIN}) if user.is_admin else frozenset())


def _share_link_ids(request: Request) -> list[str]:
    from_this_request: list[str] = getattr(request.state, STATE_SHARE_LINK_IDS, [])
    if from_this_request:
        return from_this_request  # the middleware merged the cookie's ids in already
    cookie = request.cookies.get(SHARE_COOKIE)
    if not cookie:
        return []
    return read_link_ids(request.app.state.runtime.settings.secret_key, cookie)


def resolve_principal(request: Request) -> Principal:
    """FastAPI dependency: the caller of this request."""
    token = bearer_token(request)
    session_cookie = request.cookies.get(SESSION_COOKIE) if token is None else None
    link_ids = _share_link_ids(request)
    principal = ANONYMOUS
    if token is not None and not accounts.looks_like_api_key(token):
        resolver: TokenResolver = request.app.state.token_resolver
        found = resolver(token)
        if found is None:
            raise Problem(401, "Unauthorized", "The access token is unknown or expired.")
        principal = found
    elif token is not None or session_cookie or link_ids:
        with request.app.state.runtime.sessions() as session, session.begin():
            principal = _from_catalog(request, session, token, session_cookie, link_ids)
    return principal


def _from_catalog(
    request: Request, session: Session, api_key: str | None, session_cookie: str | None, link_ids: list[str]
) -> Principal:
    principal = ANONYMOUS
    if api_key is not None:
        user = accounts.user_for_api_key(session, api_key)
        if user is None:
            raise Problem(401, "Unauthorized", "The API key is unknown, revoked, or its account is disabled.")
    else:
        user = accounts.user_for_session(session, session_cookie) if session_cookie else None
    if user is not None:
        principal = principal_of(user)
        setattr(request.state, STATE_USERNAME, user.username)
    if link_ids:
        shared = sharing.live_shared_collections(session, link_ids)
        principal = replace(principal, share_collection_ids=frozenset(shared.values()))
    return principal
