"""The reader's pages around the browse pages: home, collection page, and the tombstones of withdrawn
collections and datasets (answered with 410, saying what, when, why and where to go instead).

They read through the same `queries` as the Discover API (so the same authorization policy) and present
with the same `Presenter`, so a page and the API never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from cellportal.api.deps import PrincipalDep, RuntimeDep, SessionDep
from cellportal.api.discover import queries
from cellportal.api.discover.present import Presenter, bare_doi, doi_label
from cellportal.api.errors import Problem
from cellportal.api.urls import Urls
from cellportal.browse import queries as browse
from cellportal.catalog.models import Collection, CollectionVersion, Dataset, DatasetVersion
from cellportal.web.browse import router as browse_router
from cellportal.web.listing import collection_cards
from cellportal.web.reader import dataset_row
from cellportal.web.templating import templates

router = APIRouter(include_in_schema=False)
router.include_router(browse_router)  # /datasets and /collections
# The portal's stylesheet and scripts, with the upload widget's bundle (built by `make frontend`): app.py
# serves the folder at /static/portal.
STATIC = Path(__file__).parent / "static" / "portal"


@dataclass(frozen=True)
class Instead:
    url: str
    title: str


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep, principal: PrincipalDep) -> HTMLResponse:
    recent = browse.collection_summaries(session, principal, browse.recent_collections(session, principal))
    cards = collection_cards(session, recent)
    context = {"totals": browse.totals(session, principal), "recent": cards}
    return templates.TemplateResponse(request, "home.html", context)


def citation(present: Presenter, version: CollectionVersion) -> str:
    """A citation block for one collection version: publication, then the data with its permanent link."""
    parts = []
    label, doi = doi_label(version.publisher_metadata), bare_doi(version.doi)
    if label or doi:
        parts.append(" ".join(p for p in (f"{label}." if label else None, doi and f"https://doi.org/{doi}") if p))
    published = version.published_at.strftime("%Y-%m-%d") if version.published_at else "not yet published"
    parts.append(
        f"Data: “{version.name}”, collection {present.urls.collection(version.collection_id)} "
        f"(version {version.id}, {published})."
    )
    return "\n".join(parts)


def _problem_page(
    request: Request, problem: Problem, what: str, *, name: str | None = None, instead: Instead | None = None
) -> HTMLResponse:
    context: dict[str, Any] = {"problem": problem, "what": what, "name": name, "instead": instead}
    return templates.TemplateResponse(request, "problem.html", context, status_code=problem.status)


def _withdrawn_collection_name(session: Session, any_id: str) -> str | None:
    collection = session.get(Collection, any_id)
    version = collection.published_version if collection is not None else session.get(CollectionVersion, any_id)
    return version.name if version is not None else None


@router.get("/collections/{collection_id}", response_class=HTMLResponse)
def collection_page(
    collection_id: str, request: Request, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep
) -> HTMLResponse:
    present = Presenter(Urls(runtime.settings.public_url))
    try:
        version = queries.readable_collection_version(session, principal, collection_id)
        history = queries.collection_history(session, principal, collection_id)
    except Problem as problem:
        if problem.status == 410:
            name = _withdrawn_collection_name(session, collection_id)
            return _problem_page(request, problem, "collection", name=name)
        return _problem_page(request, problem, "collection")
    collection = version.collection
    revising_in = queries.open_revision_id(session, principal, version)
    rows = [dataset_row(present, dv, collection.id, version.name) for dv in version.dataset_versions]
    context = {
        "c": present.collection(version, revising_in=revising_in),
        "collection_id": collection.id,
        "version_id": version.id,
        "is_latest": collection.published_version_id in (None, version.id),
        "doi_label": doi_label(version.publisher_metadata),
        "rows": rows,
        "history": history,
        "citation": citation(present, version),
    }
    return templates.TemplateResponse(request, "collection.html", context)


@router.get("/datasets/{dataset_id}/", response_class=HTMLResponse)
def dataset_landing(dataset_id: str, request: Request, session: SessionDep, principal: PrincipalDep) -> Response:
    """A dataset's page is its row on its collection's page; a withdrawn one answers with its tombstone (410)."""
    try:
        version = queries.readable_dataset_version(session, principal, dataset_id)
    except Problem as problem:
        if problem.status != 410:
            return _problem_page(request, problem, "dataset")
        return _dataset_tombstone(request, session, problem, dataset_id)
    collection = version.dataset.collection_id
    return RedirectResponse(f"/collections/{collection}#dataset-{version.dataset_id}", status_code=303)


def _dataset_tombstone(request: Request, session: Session, problem: Problem, any_id: str) -> HTMLResponse:
    dataset = session.get(Dataset, any_id)
    version = dataset.published_version if dataset is not None else session.get(DatasetVersion, any_id)
    if dataset is None and version is not None:
        dataset = version.dataset
    name = version.title if version is not None else None
    instead = None
    if dataset is not None:
        collection = session.get(Collection, dataset.collection_id)
        if collection is not None and collection.tombstoned_at is None and collection.published_version is not None:
            instead = Instead(f"/collections/{collection.id}", f"its collection, “{collection.published_version.name}”")
    return _problem_page(request, problem, "dataset", name=name, instead=instead)
