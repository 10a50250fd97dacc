"""The collection workspace: its datasets with their processing and the validator's full report, and
removing or replacing a dataset."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.orm import Session

from cellportal.api.deps import PrincipalDep, SessionDep
from cellportal.api.discover.queries import preload_collection_versions
from cellportal.auth.policy import Action
from cellportal.catalog import service
from cellportal.catalog.errors import CatalogError
from cellportal.catalog.models import CollectionVersion, DatasetVersion
from cellportal.jobs.repository import latest_job_for
from cellportal.web.curator.access import Refused, Withdrawn, Workspace, load
from cellportal.web.curator.collections import workspace_url
from cellportal.web.curator.flash import redirect
from cellportal.web.curator.pages import refused, render
from cellportal.web.curator.preview import DatasetChange, preview
from cellportal.web.curator.report import RuleGroup, group_report
from cellportal.web.curator.status import DatasetRow, dataset_row, summarize
from cellportal.web.identity import verify_csrf

# No sign-in requirement of its own: like every collection route, the policy answers (404 to whoever may not
# know the collection, 403 to whoever may see but not change it), share-link holders included.
router = APIRouter(include_in_schema=False)
CSRF = [Depends(verify_csrf)]


@dataclass(frozen=True)
class DatasetView:
    row: DatasetRow
    errors: list[RuleGroup]
    warnings: list[RuleGroup]
    change: str  # in a revision: new | replaced | unchanged


def dataset_views(session: Session, version: CollectionVersion, changes: dict[str, str]) -> list[DatasetView]:
    return [
        DatasetView(
            row=dataset_row(dataset_version, latest_job_for(session, dataset_version.id)),
            errors=group_report(dataset_version.validation_errors or []),
            warnings=group_report(dataset_version.validation_warnings or []),
            change=changes.get(dataset_version.dataset_id, ""),
        )
        for dataset_version in version.dataset_versions
    ]


def _dataset_in(workspace: Workspace, dataset_id: str) -> DatasetVersion | None:
    version = workspace.open_version
    if version is None:
        return None
    return next((v for v in version.dataset_versions if v.dataset_id == dataset_id), None)


@router.get("/collections/{collection_id}/workspace")
def workspace_page(collection_id: str, request: Request, session: SessionDep, principal: PrincipalDep) -> Response:
    try:
        workspace = load(session, principal, collection_id)
    except (Refused, Withdrawn) as refusal:
        return refused(request, refusal)
    version = workspace.version
    preload_collection_versions(session, [version])
    removed: tuple[DatasetChange, ...] = ()
    changes: dict[str, str] = {}
    if workspace.state == "revision":
        planned = preview(version, workspace.published_version)
        removed, changes = planned.removed, {d.dataset_id: d.change for d in planned.datasets}
    return render(
        request,
        "curator/workspace.html",
        {
            "collection": workspace.collection,
            "version": version,
            "state": workspace.state,
            "editable": workspace.open_version is not None,
            "rows": dataset_views(session, version, changes),
            "removed": removed,
            "summary": summarize([v.processing_status for v in version.dataset_versions]),
            "can_edit": workspace.can(Action.EDIT),
            "can_publish": workspace.can(Action.PUBLISH),
            "can_withdraw": workspace.can(Action.WITHDRAW),
            "can_share": workspace.can(Action.SHARE),
        },
    )


@router.get("/collections/{collection_id}/datasets/{dataset_id}/replace")
def replace_page(
    collection_id: str, dataset_id: str, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    try:
        workspace = load(session, principal, collection_id, Action.EDIT)
    except (Refused, Withdrawn) as refusal:
        return refused(request, refusal)
    dataset_version = _dataset_in(workspace, dataset_id)
    if dataset_version is None:
        return _not_in_workspace(request, workspace)
    row = dataset_row(dataset_version, latest_job_for(session, dataset_version.id))
    if not row.replaceable:
        message = f"'{row.title}' is still being uploaded or processed; replace it when it has finished."
        return redirect(workspace_url(workspace.collection.id), message, "bad", request)
    assert workspace.open_version is not None
    return render(
        request,
        "curator/replace.html",
        {"collection": workspace.collection, "version": workspace.open_version, "row": row},
    )


@router.get("/collections/{collection_id}/datasets/{dataset_id}/remove")
def remove_page(
    collection_id: str, dataset_id: str, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    try:
        workspace = load(session, principal, collection_id, Action.EDIT)
    except (Refused, Withdrawn) as refusal:
        return refused(request, refusal)
    dataset_version = _dataset_in(workspace, dataset_id)
    if dataset_version is None:
        return _not_in_workspace(request, workspace)
    row = dataset_row(dataset_version)
    if workspace.state == "revision" and dataset_version.dataset.published_version_id is not None:
        consequence = (
            "It stays in the published version until you publish this revision. Once you do, the dataset "
            "is withdrawn: its permanent links answer 410 Gone with an explanation, and its files are no longer served."
        )
    else:
        consequence = "It was never published, so it is deleted with its uploaded file and its conversions."
    return render(
        request,
        "curator/confirm.html",
        {
            "heading": f"Remove '{row.title}'?",
            "paragraphs": [f"This takes dataset {row.dataset_id} out of this collection. {consequence}"],
            "items": [],
            "action_url": f"/collections/{workspace.collection.id}/datasets/{dataset_id}/remove",
            "button": "Remove the dataset",
            "cancel_url": workspace_url(workspace.collection.id),
        },
    )


@router.post("/collections/{collection_id}/datasets/{dataset_id}/remove", dependencies=CSRF)
def remove_dataset(
    collection_id: str, dataset_id: str, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    try:
        workspace = load(session, principal, collection_id, Action.EDIT)
    except (Refused, Withdrawn) as refusal:
        return refused(request, refusal)
    dataset_version = _dataset_in(workspace, dataset_id)
    if dataset_version is None or workspace.open_version is None:
        return _not_in_workspace(request, workspace)
    title = dataset_row(dataset_version).title
    try:
        service.remove_dataset(session, collection_version_id=workspace.open_version.id, dataset_id=dataset_id)
    except CatalogError as error:
        return redirect(workspace_url(workspace.collection.id), error.message, "bad", request)
    return redirect(workspace_url(workspace.collection.id), f"Removed '{title}'.", request=request)


def _not_in_workspace(request: Request, workspace: Workspace) -> Response:
    message = (
        "That dataset is not part of the version you are working on."
        if workspace.open_version is not None
        else "A published version cannot change: start a revision to add, replace or remove datasets."
    )
    return redirect(workspace_url(workspace.collection.id), message, "bad", request)
