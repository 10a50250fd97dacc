"""The first portal pages: a home page listing published collections, a collection page, and the
tombstone page a withdrawn collection answers with (410).

They read through the same `queries` as the Discover API (so the same authorization policy) and present
with the same `Presenter`, so a page and the API never disagree. The full browse/search/curator pages are
the web app issue; these give `make demo` something to open.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from cellportal.api.deps import PrincipalDep, RuntimeDep, SessionDep
from cellportal.api.discover import queries
from cellportal.api.discover.present import Presenter
from cellportal.api.errors import Problem
from cellportal.api.urls import Urls
from cellportal.web.templating import templates

router = APIRouter(include_in_schema=False)


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
