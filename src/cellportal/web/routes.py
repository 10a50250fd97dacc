"""The first portal pages: a home page listing published collections, a collection page, and the
tombstone page a withdrawn collection answers with (410).

They read through the same `queries` as the Discover API (so the same authorization policy) and present
with the same `Presenter`, so a page and the API never disagree. The full browse/search/curator pages are
the web app issue; these give `make demo` something to open.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from cellportal.api.deps import PrincipalDep, RuntimeDep, SessionDep
from cellportal.api.discover import queries
from cellportal.api.discover.present import Presenter
from cellportal.api.errors import Problem
from cellportal.api.urls import Urls

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def _size(n: int | None) -> str:
    if n is None:
        return ""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000  # type: ignore[assignment]
    return str(n)


templates.env.filters["filesize"] = _size


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep) -> HTMLResponse:
    present = Presenter(Urls(runtime.settings.public_url))
    collections = [present.collection(v) for v in queries.published_collection_versions(session)]
    return templates.TemplateResponse(request, "home.html", {"collections": collections})


@router.get("/collections/{collection_id}", response_class=HTMLResponse)
def collection_page(
    collection_id: str, request: Request, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep
) -> HTMLResponse:
    present = Presenter(Urls(runtime.settings.public_url))
    try:
        version = queries.readable_collection_version(session, principal, collection_id)
        history = queries.collection_history(session, principal, collection_id)
    except Problem as problem:
        return templates.TemplateResponse(
            request, "problem.html", {"problem": problem, "what": "collection"}, status_code=problem.status
        )
    return templates.TemplateResponse(
        request, "collection.html", {"collection": present.collection(version), "history": history}
    )
