"""The public Discover API: read operations of the Curation API contract (curation-api.yml), same paths.

Every route reads through `queries` (which applies the authorization policy) and answers with `schemas`
built by `present`. Errors are problem documents (api/errors.py): 404 for unknown *or* not visible,
410 with the reason and date for withdrawn collections and removed datasets.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from cellportal.api.deps import PrincipalDep, RuntimeDep, SessionDep
from cellportal.api.discover import queries, schemas
from cellportal.api.discover.filters import FacetFilter, schema_version_matches
from cellportal.api.discover.present import Presenter, exposed_collection_id
from cellportal.api.errors import PROBLEM_JSON, Problem
from cellportal.api.urls import Urls
from cellportal.catalog.models import CollectionVersion

router = APIRouter(prefix="/curation/v1", tags=["Discover"])

_PROBLEM = {"content": {PROBLEM_JSON: {}}}
_ERRORS: dict[int | str, dict[str, object]] = {
    400: {"description": "Invalid or missing parameter", **_PROBLEM},
    401: {"description": "Unknown or malformed access token", **_PROBLEM},
    404: {"description": "Not found, or not visible to the caller", **_PROBLEM},
    410: {"description": "Withdrawn or removed; the body says why and when", **_PROBLEM},
}
_SCHEMA_VERSION = re.compile(r"^\d+(\.\d+){0,2}$")


def presenter(runtime: RuntimeDep) -> Presenter:
    return Presenter(Urls(runtime.settings.public_url))


PresenterDep = Annotated[Presenter, Depends(presenter)]
Values = Annotated[list[str] | None, Query()]


def facet_filter(
    organism: Values = None,
    tissue: Values = None,
    disease: Values = None,
    assay: Values = None,
    cell_type: Values = None,
    sex: Values = None,
    development_stage: Values = None,
    suspension_type: Values = None,
) -> FacetFilter:
    """Our addition to the contract: filter by ontology term id or label; repeat a parameter for OR."""
    return FacetFilter.of(
        organism=organism,
        tissue=tissue,
        disease=disease,
        assay=assay,
        cell_type=cell_type,
        sex=sex,
        development_stage=development_stage,
        suspension_type=suspension_type,
    )


FacetDep = Annotated[FacetFilter, Depends(facet_filter)]


def _visible_listing(visibility: str, principal_is_anonymous: bool) -> None:
    if visibility == "PRIVATE" and principal_is_anonymous:
        raise Problem(401, "Unauthorized", "Private collections are listed only for a signed-in caller.")


@router.get("/collections", response_model=list[schemas.CollectionListItem], responses=_ERRORS)
def list_collections(
    session: SessionDep,
    principal: PrincipalDep,
    present: PresenterDep,
    facets: FacetDep,
    visibility: Literal["PUBLIC", "PRIVATE"] = "PUBLIC",
    curator: str | None = None,
) -> list[schemas.CollectionListItem]:
    """Published collections with dataset previews (or, with ``visibility=PRIVATE``, the caller's private ones)."""
    _visible_listing(visibility, principal.is_anonymous)
    if curator is not None and not principal.is_admin:
        raise Problem(403, "Forbidden", "Filtering by curator is reserved to admins.")
    if visibility == "PRIVATE":
        versions = queries.private_collection_versions(session, principal)
    else:
        versions = queries.published_collection_versions(session)
    if curator is not None:
        versions = [v for v in versions if (v.curator_name or "").casefold() == curator.casefold()]
    if not facets.is_empty:
        versions = [v for v in versions if any(facets.matches(dv.dataset_metadata) for dv in v.dataset_versions)]
    return [present.collection_list_item(v, revising_in=_revising_in(session, principal, v)) for v in versions]


@router.get("/collections/{collection_id}", response_model=schemas.Collection, responses=_ERRORS)
def get_collection(
    collection_id: str, session: SessionDep, principal: PrincipalDep, present: PresenterDep
) -> schemas.Collection:
    """A collection with full dataset metadata; the id may be canonical (latest published) or a version id."""
    version = queries.readable_collection_version(session, principal, collection_id)
    return present.collection(version, revising_in=_revising_in(session, principal, version))


@router.get("/collections/{collection_id}/versions", response_model=list[schemas.CollectionVersion], responses=_ERRORS)
def list_collection_versions(
    collection_id: str, session: SessionDep, principal: PrincipalDep, present: PresenterDep
) -> list[schemas.CollectionVersion]:
    """Every published version of a collection, newest first."""
    versions = queries.collection_history(session, principal, collection_id)
    return [_collection_version(session, present, v) for v in versions]


@router.get("/collection_versions/{collection_version_id}", response_model=schemas.CollectionVersion, responses=_ERRORS)
def get_collection_version(
    collection_version_id: str, session: SessionDep, principal: PrincipalDep, present: PresenterDep
) -> schemas.CollectionVersion:
    """One collection version and its dataset versions."""
    version = queries.readable_collection_version(session, principal, collection_version_id)
    return _collection_version(session, present, version)


@router.get("/collections/{collection_id}/datasets/{dataset_id}", response_model=schemas.Dataset, responses=_ERRORS)
def get_collection_dataset(
    collection_id: str, dataset_id: str, session: SessionDep, principal: PrincipalDep, present: PresenterDep
) -> schemas.Dataset:
    """A dataset as it stands in the collection (canonical or version ids for both)."""
    collection_version = queries.readable_collection_version(session, principal, collection_id)
    for version in collection_version.dataset_versions:
        if dataset_id in (version.id, version.dataset_id):
            # Through the dataset's own checks too: a dataset removed later answers 410 even via an old version.
            return present.dataset(queries.readable_dataset_version(session, principal, version.id))
    # Not in this version: answer as the dataset itself would (410 if it was removed), if it belongs here.
    version = queries.readable_dataset_version(session, principal, dataset_id)
    if version.dataset.collection_id != collection_version.collection_id:
        raise Problem(404, "Not Found", f"Dataset {dataset_id} is not part of collection {collection_id}.")
    return present.dataset(version)


@router.get("/datasets", response_model=list[schemas.DatasetIndex], responses=_ERRORS)
def list_datasets(
    session: SessionDep,
    principal: PrincipalDep,
    present: PresenterDep,
    facets: FacetDep,
    schema_version: str | None = None,
    visibility: Literal["PUBLIC", "PRIVATE"] = "PUBLIC",
) -> list[schemas.DatasetIndex]:
    """The current version of every published dataset, with its collection's name and DOI."""
    if schema_version is not None and not _SCHEMA_VERSION.match(schema_version):
        raise Problem(
            400,
            "Bad Request",
            "schema_version must be X, X.Y or X.Y.Z",
            invalid_parameters=[{"name": "schema_version", "reason": "not X, X.Y or X.Y.Z", "value": schema_version}],
        )
    _visible_listing(visibility, principal.is_anonymous)
    if visibility == "PRIVATE":
        rows = queries.private_dataset_versions(session, principal)
    else:
        rows = queries.published_dataset_versions(session)
    return [
        present.dataset_index(version, collection, collection_version)
        for version, collection, collection_version in rows
        if schema_version_matches(schema_version, version.schema_version) and facets.matches(version.dataset_metadata)
    ]


@router.get("/datasets/{dataset_id}/versions", response_model=list[schemas.DatasetVersion], responses=_ERRORS)
def list_dataset_versions(
    dataset_id: str, session: SessionDep, principal: PrincipalDep, present: PresenterDep
) -> list[schemas.DatasetVersion]:
    """Every published version of a dataset, newest first."""
    versions = queries.dataset_history(session, principal, dataset_id)
    first = queries.first_published_in(session, versions)
    return [
        present.dataset_version(v, collection_id=v.dataset.collection_id, first_collection_version_id=first[v.id])
        for v in versions
    ]


@router.get("/dataset_versions/{dataset_version_id}", response_model=schemas.DatasetVersion, responses=_ERRORS)
def get_dataset_version(
    dataset_version_id: str, session: SessionDep, principal: PrincipalDep, present: PresenterDep
) -> schemas.DatasetVersion:
    """One dataset version; a canonical dataset id gives its latest published version."""
    version = queries.readable_dataset_version(session, principal, dataset_version_id)
    first = queries.first_published_in(session, [version])
    return present.dataset_version(
        version, collection_id=version.dataset.collection_id, first_collection_version_id=first[version.id]
    )


def _collection_version(
    session: SessionDep, present: Presenter, version: CollectionVersion
) -> schemas.CollectionVersion:
    return present.collection_version(
        version, first_published_in=queries.first_published_in(session, version.dataset_versions)
    )


def _revising_in(session: SessionDep, principal: PrincipalDep, version: CollectionVersion) -> str | None:
    if exposed_collection_id(version) != version.collection_id:
        return None  # the revision itself
    return queries.open_revision_id(session, principal, version)
