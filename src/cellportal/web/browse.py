"""The reader's browse pages: /datasets and /collections, with facets, search, sorting and pages.

Everything the reader chose lives in the URL (a GET form), so a result page can be shared and the back
button works; the pages are complete without JavaScript. Queries are `cellportal.browse.queries`, which
filter through the visibility clause: a private collection is listed, counted and found only for those
allowed to see it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from cellportal.api.deps import PrincipalDep, RuntimeDep, SessionDep
from cellportal.api.discover.present import Presenter
from cellportal.api.urls import Urls
from cellportal.auth.policy import Principal
from cellportal.browse import queries
from cellportal.browse.selection import SORTS, Selection, parse
from cellportal.browse.terms import FACET_TITLES, ROLLUP_FACETS
from cellportal.web.listing import collection_cards, dataset_rows
from cellportal.web.templating import templates

router = APIRouter(include_in_schema=False)


def _browse_context(
    session: Session, principal: Principal, selection: Selection, errors: list[str], by: str, page: queries.Page
) -> dict[str, Any]:
    if page.total and selection.page > page.pages:
        errors.append(f"There are only {page.pages} pages of results; this page is empty.")
    return {
        "selection": selection,
        "errors": errors,
        "page": page,
        "facets": queries.facet_counts(session, principal, selection, by=by),
        "cell_ranges": queries.cell_count_ranges(session, principal, selection, by=by),
        "years": queries.publication_years(session, principal, selection, by=by),
        "facet_titles": FACET_TITLES,
        "rollup": ROLLUP_FACETS,
        "sorts": SORTS,
    }


@router.get("/datasets", response_class=HTMLResponse)
def datasets_page(request: Request, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep) -> HTMLResponse:
    selection, errors = parse(request.query_params.multi_items())
    page = queries.dataset_page(session, principal, selection)
    context = _browse_context(session, principal, selection, errors, "datasets", page)
    present = Presenter(Urls(runtime.settings.public_url))
    context.update(path="/datasets", rows=dataset_rows(session, present, page.rows))
    return templates.TemplateResponse(request, "datasets.html", context, status_code=400 if errors else 200)


@router.get("/collections", response_class=HTMLResponse)
def collections_page(request: Request, session: SessionDep, principal: PrincipalDep) -> HTMLResponse:
    selection, errors = parse(request.query_params.multi_items())
    page = queries.collection_page(session, principal, selection)
    context = _browse_context(session, principal, selection, errors, "collections", page)
    context.update(path="/collections", rows=collection_cards(session, page.rows))
    return templates.TemplateResponse(request, "collections.html", context, status_code=400 if errors else 200)
