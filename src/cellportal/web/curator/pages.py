"""What every curator route shares: who is asking, rendering with flash messages, and the refusal pages."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from cellportal.api.errors import gone
from cellportal.web.curator.access import Refused, Withdrawn, gone_message
from cellportal.web.curator.flash import clear, read_flashes
from cellportal.web.templating import templates


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    """A template with the pending flash messages shown (and then cleared)."""
    response = templates.TemplateResponse(
        request, name, {**context, "flashes": read_flashes(request)}, status_code=status_code
    )
    clear(response, request)
    return response


def refused(request: Request, refusal: Refused | Withdrawn) -> Response:
    """404 / 403 with the reason, or the collection's tombstone (410)."""
    if isinstance(refusal, Withdrawn):
        error = gone_message(refusal.collection)
        problem = gone(error.message, reason=error.reason, tombstoned_at=error.tombstoned_at)
        return render(request, "problem.html", {"problem": problem, "what": "collection"}, status_code=410)
    title = "Not found" if refusal.status == 404 else "Not allowed"
    return render(
        request, "curator/refused.html", {"title": title, "message": refusal.message}, status_code=refusal.status
    )
