"""The identity cookies: names, flags, and the signed list of share links a browser has opened.

- ``cp_session``: a web session's random token (HttpOnly; the database keeps its digest).
- ``cp_share``: ids of the share links this browser presented, signed with ``settings.secret_key`` so it
  cannot be edited to claim another link. Ids alone grant nothing: each request re-reads which are live.
- ``cp_csrf``: the double-submit CSRF token of forms (see `cellportal.web.identity`).
- ``cp_oidc``: an OpenID Connect sign-in in progress (see `cellportal.web.account.oidc`), signed the same way.

All are ``SameSite=Lax`` (no cross-site POSTs carry them), HttpOnly, and ``Secure`` when the public URL is
https (the browser then never sends them in clear).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

SESSION_COOKIE = "cp_session"
SHARE_COOKIE = "cp_share"
CSRF_COOKIE = "cp_csrf"
MAX_SHARED_LINKS = 20  # a browser remembers this many share links, the most recent ones
SHARE_COOKIE_MAX_AGE = 60 * 60 * 24 * 90


@dataclass(frozen=True)
class CookiePolicy:
    secure: bool

    @classmethod
    def for_public_url(cls, public_url: str) -> CookiePolicy:
        return cls(secure=public_url.lower().startswith("https://"))

    def header(self, name: str, value: str, *, max_age: int | None) -> str:
        """A Set-Cookie header value (for raw ASGI responses; Starlette responses use `set_cookie`)."""
        parts = [f"{name}={value}", "Path=/", "HttpOnly", "SameSite=Lax"]
        if max_age is not None:
            parts.append(f"Max-Age={max_age}")
        if self.secure:
            parts.append("Secure")
        return "; ".join(parts)

    def kwargs(self, *, max_age: int | None) -> dict[str, object]:
        """Keyword arguments of Starlette's `Response.set_cookie` with the same flags."""
        return {"max_age": max_age, "path": "/", "httponly": True, "samesite": "lax", "secure": self.secure}


def sign(secret_key: str, purpose: str, payload: str) -> str:
    """``payload~signature``: an HMAC-SHA256 of the payload, bound to `purpose` (the cookie's name) so that one
    cookie's value is never accepted as another's. `payload` must not contain ``~``."""
    mac = hmac.new(secret_key.encode(), f"{purpose}|{payload}".encode(), hashlib.sha256).digest()
    return f"{payload}~{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"


def unsign(secret_key: str, purpose: str, value: str | None) -> str | None:
    """The payload of a value made by `sign` with the same key and purpose, or None (missing or forged)."""
    if not value:
        return None
    payload, _, _ = value.rpartition("~")
    if not payload or not hmac.compare_digest(value.encode(), sign(secret_key, purpose, payload).encode()):
        return None
    return payload


def sign_link_ids(secret_key: str, link_ids: list[str]) -> str:
    return sign(secret_key, SHARE_COOKIE, ".".join(link_ids[-MAX_SHARED_LINKS:]))


def read_link_ids(secret_key: str, value: str | None) -> list[str]:
    """The link ids of a `cp_share` cookie, or [] when it is missing or its signature does not match."""
    payload = unsign(secret_key, SHARE_COOKIE, value)
    return payload.split(".") if payload is not None else []
