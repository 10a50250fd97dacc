"""`?share=<token>` on any URL: validate the link once, remember it in the signed ``cp_share`` cookie.

A pure ASGI middleware (not Starlette's BaseHTTPMiddleware, which would buffer streamed downloads): it
runs before routing so the request's own principal already includes the link, and it adds the cookie to
whatever response the route sends, so the links inside the shared collection keep working without the
token. An unknown, revoked or expired token is ignored: the page then answers as to anyone else (404 for
private data), which says nothing about whether the link ever existed.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cellportal.auth import sharing
from cellportal.auth.cookies import (
    SHARE_COOKIE,
    SHARE_COOKIE_MAX_AGE,
    CookiePolicy,
    read_link_ids,
    sign_link_ids,
)
from cellportal.auth.principals import STATE_SHARE_LINK_IDS

SHARE_PARAMETER = "share"


class ShareLinkMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tokens = parse_qs(scope.get("query_string", b"").decode("latin-1")).get(SHARE_PARAMETER)
        if not tokens:
            await self.app(scope, receive, send)
            return
        settings = scope["app"].state.runtime.settings
        link_ids = read_link_ids(settings.secret_key, _cookie(scope, SHARE_COOKIE))
        added = await run_in_threadpool(_live_link_id, scope, tokens[-1])
        if added is None:
            await self.app(scope, receive, send)
            return
        link_ids = [i for i in link_ids if i != added] + [added]
        scope.setdefault("state", {})[STATE_SHARE_LINK_IDS] = link_ids
        header = CookiePolicy.for_public_url(settings.public_url).header(
            SHARE_COOKIE, sign_link_ids(settings.secret_key, link_ids), max_age=SHARE_COOKIE_MAX_AGE
        )

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"set-cookie", header.encode("latin-1"))]
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _live_link_id(scope: Scope, token: str) -> str | None:
    runtime = scope["app"].state.runtime
    with runtime.sessions() as session, session.begin():
        link = sharing.live_link_for_token(session, token.strip())
        return link.id if link is not None else None


def _cookie(scope: Scope, name: str) -> str | None:
    """The cookie as Starlette's Request would read it (same parser, so the route and we never disagree)."""
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            found = cookie_parser(value.decode("latin-1")).get(name)
            if found is not None:
                return found
    return None
