"""Flash messages for POST-redirect-GET: the POST says what happened, the page after the redirect shows it.

The message rides in a short-lived cookie (not in the URL, so a reload or a shared link does not repeat
"Published."), and the next page rendered through ``render`` shows it and clears it. It is plain text,
escaped by Jinja like anything else, and carries no authority, so it is not signed.
"""

from __future__ import annotations

import json
from urllib.parse import quote, unquote

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

COOKIE = "cellportal_flash"
KINDS = ("ok", "bad", "info")
MAX_MESSAGES = 5


def read_flashes(request: Request) -> list[tuple[str, str]]:
    raw = request.cookies.get(COOKIE)
    if not raw:
        return []
    try:
        items = json.loads(unquote(raw))
    except ValueError:
        return []
    if not isinstance(items, list):
        return []
    return [
        (str(kind), str(message))
        for kind, message in (item for item in items if isinstance(item, list) and len(item) == 2)
        if kind in KINDS
    ][:MAX_MESSAGES]


def redirect(url: str, message: str | None = None, kind: str = "ok", request: Request | None = None) -> Response:
    """303 to ``url`` (the browser GETs it), carrying ``message`` to the page it lands on."""
    response = RedirectResponse(url, status_code=303)
    if message:
        earlier = read_flashes(request) if request is not None else []
        payload = quote(json.dumps([*earlier, [kind, message]][-MAX_MESSAGES:]))
        response.set_cookie(COOKIE, payload, max_age=120, httponly=True, samesite="lax", path="/")
    return response


def clear(response: Response, request: Request) -> None:
    if COOKIE in request.cookies:
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")
