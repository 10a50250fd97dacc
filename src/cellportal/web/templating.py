"""The one `Jinja2Templates` every page renders with: shared filters, the signed-in user, the CSRF token.

Import `templates` from here (never build another instance), so every page gets the same header and the
same ``csrf_token(request)`` global for its forms::

    <form method="post">{{ csrf_field(request) }} ...</form>

Rendering a page that asked for a CSRF token the browser did not have yet also sets its cookie.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.templating import _TemplateResponse

from cellportal.auth.principals import STATE_USERNAME
from cellportal.web.identity import CSRF_FIELD, attach_new_csrf_cookie, csrf_token

TEMPLATES_DIR = Path(__file__).parent / "templates"


def filesize(n: int | float | None) -> str:
    if n is None:
        return ""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return str(n)


def csrf_field(request: Request) -> Markup:
    """The hidden form field carrying the CSRF token."""
    return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(csrf_token(request))}">')


def _identity(request: Request) -> dict[str, Any]:
    return {"current_username": getattr(request.state, STATE_USERNAME, None)}


class _Templates(Jinja2Templates):
    def TemplateResponse(self, *args: Any, **kwargs: Any) -> _TemplateResponse:
        response = super().TemplateResponse(*args, **kwargs)
        request = args[0] if args and isinstance(args[0], Request) else kwargs.get("request")
        if isinstance(request, Request):
            attach_new_csrf_cookie(request, response)
        return response


templates = _Templates(directory=TEMPLATES_DIR, context_processors=[_identity])
templates.env.filters["filesize"] = filesize
templates.env.globals["csrf_token"] = csrf_token
templates.env.globals["csrf_field"] = csrf_field

__all__ = ["templates"]
