"""Publishing, revisions and withdrawal: each a confirmation page (GET) and the action (POST).

The confirmation of a publish names every dataset that becomes public and carries a fingerprint of that
list; the POST publishes only if the collection still holds exactly those dataset versions, so nobody
publishes something they were not shown (an editor's upload that finished in between, say).
"""

from __future__ import annotations

import hashlib
import json

from fastapi import APIRouter, Depends, Form, Request, Response

from cellportal.api.deps import PrincipalDep, SessionDep
from cellportal.auth.policy import Action
from cellportal.catalog import service
from cellportal.catalog.errors import CatalogError, PublishRefused
from cellportal.catalog.models import CollectionVersion
from cellportal.web.curator.access import Refused, Withdrawn, load
from cellportal.web.curator.collections import workspace_url
from cellportal.web.curator.flash import redirect
from cellportal.web.curator.pages import refused, render
from cellportal.web.curator.preview import METADATA_FIELDS, preview
from cellportal.web.identity import verify_csrf

# No sign-in requirement of its own: like every collection route, the policy answers (404 to whoever may not
# know the collection, 403 to whoever may see but not change it), share-link holders included.
router = APIRouter(include_in_schema=False)
CSRF = [Depends(verify_csrf)]
MAX_REASON = 2000


def fingerprint(version: CollectionVersion) -> str:
    """Which dataset versions and which metadata a confirmation page showed: a change to either in between
    (an upload that finished, a description edited in another tab) makes the publish ask again."""
    shown = {
        "version": version.id,
        "datasets": [v.id for v in version.dataset_versions],
        "metadata": {name: getattr(version, name) for name, _ in METADATA_FIELDS},
    }
    return hashlib.sha256(json.dumps(shown, sort_keys=True, default=str).encode()).hexdigest()[:16]


# --- publish -------------------------------------------------------------------------------------------------


@router.get("/collections/{collection_id}/publish")
def publish_page(collection_id: str, request: Request, session: SessionDep, principal: PrincipalDep) -> Response:
    try:
        workspace = load(session, principal, collection_id, Action.PUBLISH)
    except (Refused, Withdrawn) as refusal:
        return refused(request, refusal)
    if workspace.open_version is None:
        return redirect(
            workspace_url(workspace.collection.id),
            "This collection has nothing unpublished: start a revision to publish changes.",
            "info",
            request,
        )
    planned = preview(workspace.open_version, workspace.published_version)
    return render(
        request,
        "curator/publish.html",
        {
            "collection": workspace.collection,
            "version": workspace.open_version,
            "published": workspace.published_version,
            "preview": planned,
            "fingerprint": fingerprint(workspace.open_version),
            "public_url": str(request.app.state.runtime.settings.public_url).rstrip("/"),
        },
        status_code=409 if planned.problems else 200,
    )


@router.post("/collections/{collection_id}/publish", dependencies=CSRF)
def publish(
    collection_id: str,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    shown: str = Form("", alias="fingerprint"),
) -> Response:
    try:
        workspace = load(session, principal, collection_id, Action.PUBLISH)
    except (Refused, Withdrawn) as refusal:
        return refused(request, refusal)
    url = workspace_url(workspace.collection.id)
    version = workspace.open_version
    if version is None:
        return redirect(url, "There is nothing unpublished to publish.", "info", request)
    if shown != fingerprint(version):
        message = "The collection changed since the confirmation page was shown; review it again before publishing."
        return redirect(f"/collections/{workspace.collection.id}/publish", message, "bad", request)
    first = workspace.collection.published_version_id is None
    try:
        service.publish(session, collection_version_id=version.id)
    except PublishRefused as refusal:
        return redirect(url, "Not published: " + "; ".join(refusal.problems) + ".", "bad", request)
    except CatalogError as error:
        return redirect(url, error.message, "bad", request)
    what = "Published" if first else "Published the revision of"
    return redirect(url, f"{what} '{version.name}'. Its links are permanent from now on.", request=request)


# --- revisions -----------------------------------------------------------------------------------------------


@router.post("/collections/{collection_id}/revision", dependencies=CSRF)
def start_revision(collection_id: str, request: Request, session: SessionDep, principal: PrincipalDep) -> Response:
    try:
        workspace = load(session, principal, collection_id, Action.EDIT)
    except (Refused, Withdrawn) as refusal:
        return refused(request, refusal)
    url = workspace_url(workspace.collection.id)
    try:
        service.start_revision(session, collection_id=workspace.collection.id)
    except CatalogError as error:
        return redirect(url, error.message, "bad", request)
    message = (
        "Started a revision. Readers keep seeing the published version until you publish this one; "
        "you can also cancel it."
    )
    return redirect(url, message, request=request)


@router.get("/collections/{collection_id}/revision/cancel")
def cancel_revision_page(
    collection_id: str, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    try:
        workspace = load(session, principal, collection_id, Action.EDIT)
    except (Refused, Withdrawn) as refusal:
        return refused(request, refusal)
    if workspace.state != "revision":
        return redirect(workspace_url(workspace.collection.id), "There is no open revision to cancel.", "info", request)
    assert workspace.open_version is not None
    planned = preview(workspace.open_version, workspace.published_version)
    dropped = [d.title for d in planned.datasets if d.change != "unchanged"]
    paragraphs = [
        "Cancelling throws away every change made in this revision: its metadata edits and the datasets "
        "uploaded or replaced in it. The published version stays exactly as it is.",
    ]
    if dropped:
        paragraphs.append("These new or replacement uploads are deleted with it:")
    return render(
        request,
        "curator/confirm.html",
        {
            "heading": f"Cancel the revision of '{workspace.open_version.name}'?",
            "paragraphs": paragraphs,
            "items": dropped,
            "action_url": f"/collections/{workspace.collection.id}/revision/cancel",
            "button": "Cancel the revision",
            "cancel_url": workspace_url(workspace.collection.id),
            "cancel_label": "Keep working on it",
        },
    )


@router.post("/collections/{collection_id}/revision/cancel", dependencies=CSRF)
def cancel_revision(collection_id: str, request: Request, session: SessionDep, principal: PrincipalDep) -> Response:
    try:
        workspace = load(session, principal, collection_id, Action.EDIT)
    except (Refused, Withdrawn) as refusal:
        return refused(request, refusal)
    url = workspace_url(workspace.collection.id)
    if workspace.state != "revision" or workspace.open_version is None:
        return redirect(url, "There is no open revision to cancel.", "info", request)
    try:
        service.cancel_revision(session, collection_version_id=workspace.open_version.id)
    except CatalogError as error:
        return redirect(url, error.message, "bad", request)
    return redirect(url, "Cancelled the revision; the published version is unchanged.", request=request)


# --- withdrawal ----------------------------------------------------------------------------------------------


def _withdraw_form(
    request: Request,
    *,
    heading: str,
    paragraphs: list[str],
    items: list[str],
    action_url: str,
    cancel_url: str,
    button: str,
    reason: str = "",
    error: str | None = None,
) -> Response:
    return render(
        request,
        "curator/confirm.html",
        {
            "heading": heading,
            "paragraphs": paragraphs,
            "items": items,
            "action_url": action_url,
            "button": button,
            "cancel_url": cancel_url,
            "reason": {"value": reason, "error": error},
        },
        status_code=422 if error else 200,
    )


def _collection_withdrawal(workspace_name: str, datasets: list[str], url: str, cancel: str, **extra: str) -> dict:
    return {
        "heading": f"Withdraw '{workspace_name}'?",
        "paragraphs": [
            "Withdrawing takes the collection and all its datasets out of the portal for good. It cannot be "
            "undone. Its permanent links keep answering, with 410 Gone, the date and the reason you give "
            "below, so people who cite it learn what happened. Its files are no longer served. "
            "An open revision, if any, is discarded.",
            "These datasets are withdrawn with it:",
        ],
        "items": datasets,
        "action_url": url,
        "cancel_url": cancel,
        "button": "Withdraw the collection",
        **extra,
    }


@router.get("/collections/{collection_id}/withdraw")
def withdraw_page(collection_id: str, request: Request, session: SessionDep, principal: PrincipalDep) -> Response:
    try:
        workspace = load(session, principal, collection_id, Action.WITHDRAW)
    except (Refused, Withdrawn) as refusal:
        return refused(request, refusal)
    published = workspace.published_version
    if published is None:
        message = "This collection was never published: delete it instead of withdrawing it."
        return redirect(workspace_url(workspace.collection.id), message, "info", request)
    titles = [v.title or v.id for v in published.dataset_versions]
    url = f"/collections/{workspace.collection.id}/withdraw"
    return _withdraw_form(
        request, **_collection_withdrawal(published.name, titles, url, workspace_url(workspace.collection.id))
    )


@router.post("/collections/{collection_id}/withdraw", dependencies=CSRF)
def withdraw(
    collection_id: str, request: Request, session: SessionDep, principal: PrincipalDep, reason: str = Form("")
) -> Response:
    try:
        workspace = load(session, principal, collection_id, Action.WITHDRAW)
    except (Refused, Withdrawn) as refusal:
        return refused(request, refusal)
    published = workspace.published_version
    cancel = workspace_url(workspace.collection.id)
    if published is None:
        return redirect(cancel, "This collection was never published: delete it instead.", "bad", request)
    problem = _reason_problem(reason)
    if problem:
        titles = [v.title or v.id for v in published.dataset_versions]
        url = f"/collections/{workspace.collection.id}/withdraw"
        return _withdraw_form(
            request, **_collection_withdrawal(published.name, titles, url, cancel), reason=reason, error=problem
        )
    try:
        service.withdraw_collection(session, collection_id=workspace.collection.id, reason=reason)
    except CatalogError as error:
        return redirect(cancel, error.message, "bad", request)
    return redirect("/my", f"Withdrew '{published.name}'. Its links now show why.", request=request)


@router.get("/collections/{collection_id}/datasets/{dataset_id}/withdraw")
def withdraw_dataset_page(
    collection_id: str, dataset_id: str, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    return _withdraw_dataset(collection_id, dataset_id, request, session, principal, reason=None)


@router.post("/collections/{collection_id}/datasets/{dataset_id}/withdraw", dependencies=CSRF)
def withdraw_dataset(
    collection_id: str,
    dataset_id: str,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    reason: str = Form(""),
) -> Response:
    return _withdraw_dataset(collection_id, dataset_id, request, session, principal, reason=reason)


def _withdraw_dataset(
    collection_id: str,
    dataset_id: str,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    *,
    reason: str | None,
) -> Response:
    try:
        workspace = load(session, principal, collection_id, Action.WITHDRAW)
    except (Refused, Withdrawn) as refusal:
        return refused(request, refusal)
    cancel = workspace_url(workspace.collection.id)
    published = workspace.published_version
    dataset_version = next(
        (v for v in (published.dataset_versions if published else []) if v.dataset_id == dataset_id), None
    )
    if dataset_version is None:
        return redirect(cancel, "That dataset is not in the published version of this collection.", "bad", request)
    title = dataset_version.title or dataset_version.id
    if workspace.open_version is not None:
        message = (
            "This collection has an open revision: remove the dataset there and publish the revision, "
            "or cancel the revision first."
        )
        return redirect(cancel, message, "bad", request)
    page = {
        "heading": f"Withdraw the dataset '{title}'?",
        "paragraphs": [
            "Withdrawing a dataset publishes a new version of the collection without it, at once. It cannot be "
            "undone. The dataset's permanent links keep answering, with 410 Gone, the date and the reason you "
            "give below. The other datasets of the collection stay published as they are.",
        ],
        "items": [],
        "action_url": f"/collections/{workspace.collection.id}/datasets/{dataset_id}/withdraw",
        "cancel_url": cancel,
        "button": "Withdraw the dataset",
    }
    if reason is None:
        return _withdraw_form(request, **page)
    problem = _reason_problem(reason)
    if problem:
        return _withdraw_form(request, **page, reason=reason, error=problem)
    try:
        service.withdraw_dataset(session, dataset_id=dataset_id, reason=reason)
    except CatalogError as error:
        return redirect(cancel, error.message, "bad", request)
    return redirect(cancel, f"Withdrew the dataset '{title}'. Its links now show why.", request=request)


def _reason_problem(reason: str) -> str | None:
    if not reason.strip():
        return "Give a reason: it is shown to everyone who follows a link to what you withdraw."
    if len(reason) > MAX_REASON:
        return f"Keep the reason under {MAX_REASON} characters (it has {len(reason)})."
    return None
