"""My collections; create, edit and delete a private collection (the metadata form)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from cellportal.api.deps import PrincipalDep, SessionDep
from cellportal.auth.policy import Action
from cellportal.catalog import service
from cellportal.catalog.errors import CatalogError
from cellportal.web.curator.access import Refused, Withdrawn, load
from cellportal.web.curator.flash import redirect
from cellportal.web.curator.forms import LINK_TYPES, CollectionForm, remove_index
from cellportal.web.curator.listing import my_collections
from cellportal.web.curator.pages import refused, render
from cellportal.web.identity import require_user, verify_csrf

router = APIRouter(include_in_schema=False)
CSRF = [Depends(verify_csrf)]
# My collections and creating one need an account (anonymous visitors are sent to /login); the routes of
# one collection are answered by the policy alone, as everywhere (404 / 403), share-link holders included.
SIGNED_IN = [Depends(require_user)]


def workspace_url(collection_id: str) -> str:
    return f"/collections/{collection_id}/workspace"


@router.get("/my", dependencies=SIGNED_IN)
def my_page(request: Request, session: SessionDep, principal: PrincipalDep) -> Response:
    return render(request, "curator/my.html", {"collections": my_collections(session, principal)})


def _form_page(
    request: Request, form: CollectionForm, *, heading: str, action_url: str, cancel_url: str, submit_label: str
) -> Response:
    return render(
        request,
        "curator/collection_form.html",
        {
            "form": form,
            "link_rows": form.rows_for_display(),
            "link_types": LINK_TYPES,
            "heading": heading,
            "action_url": action_url,
            "cancel_url": cancel_url,
            "submit_label": submit_label,
        },
        status_code=422 if form.errors else 200,
    )


async def _posted_form(request: Request) -> tuple[CollectionForm, bool]:
    """The form as posted, with a row added or removed when that is what was asked; True: save it."""
    values = await request.form()
    form = CollectionForm.from_values(values)  # type: ignore[arg-type]
    removed = remove_index(values)  # type: ignore[arg-type]
    if removed is not None:
        form.remove_link_row(removed)
        return form, False
    if values.get("form_action") == "add_link":
        form.add_link_row()
        return form, False
    return form, True


@router.get("/collections/new", dependencies=SIGNED_IN)
def new_collection_page(request: Request) -> Response:
    return _form_page(
        request,
        CollectionForm(),
        heading="New collection",
        action_url="/collections/new",
        cancel_url="/my",
        submit_label="Create the collection",
    )


@router.post("/collections/new", dependencies=[*SIGNED_IN, *CSRF])
async def create_collection(request: Request, session: SessionDep, principal: PrincipalDep) -> Response:
    form, save = await _posted_form(request)
    page = {"heading": "New collection", "action_url": "/collections/new", "cancel_url": "/my"}
    if not save or not form.validate():
        return _form_page(request, form, **page, submit_label="Create the collection")
    assert principal.user_id is not None  # require_user
    try:
        version = service.create_collection(session, owner_id=principal.user_id, **form.service_fields())
    except CatalogError as error:  # the form checks what the service checks; this is the last word
        form.errors["form"] = error.message
        return _form_page(request, form, **page, submit_label="Create the collection")
    message = f"Created the private collection '{version.name}'. Add its datasets below."
    return redirect(workspace_url(version.collection_id), message, request=request)


@router.get("/collections/{collection_id}/edit")
def edit_collection_page(
    collection_id: str, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    try:
        workspace = load(session, principal, collection_id, Action.EDIT)
    except (Refused, Withdrawn) as refusal:
        return refused(request, refusal)
    if workspace.open_version is None:
        return redirect(
            workspace_url(workspace.collection.id),
            "A published version cannot change: start a revision to edit the metadata.",
            "info",
            request,
        )
    return _form_page(
        request,
        CollectionForm.from_version(workspace.open_version),
        heading=f"Edit '{workspace.open_version.name}'",
        action_url=f"/collections/{workspace.collection.id}/edit",
        cancel_url=workspace_url(workspace.collection.id),
        submit_label="Save",
    )


@router.post("/collections/{collection_id}/edit", dependencies=CSRF)
async def edit_collection(
    collection_id: str, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    try:
        workspace = load(session, principal, collection_id, Action.EDIT)
    except (Refused, Withdrawn) as refusal:
        return refused(request, refusal)
    url = workspace_url(workspace.collection.id)
    if workspace.open_version is None:
        return redirect(url, "A published version cannot change: start a revision first.", "bad", request)
    form, save = await _posted_form(request)
    page = {
        "heading": f"Edit '{workspace.open_version.name}'",
        "action_url": f"/collections/{workspace.collection.id}/edit",
        "cancel_url": url,
        "submit_label": "Save",
    }
    if not save or not form.validate():
        return _form_page(request, form, **page)
    try:
        service.update_collection_metadata(
            session, collection_version_id=workspace.open_version.id, **form.service_fields()
        )
    except CatalogError as error:
        form.errors["form"] = error.message
        return _form_page(request, form, **page)
    return redirect(url, "Saved the collection's metadata.", request=request)


@router.get("/collections/{collection_id}/delete")
def delete_collection_page(
    collection_id: str, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    try:
        workspace = load(session, principal, collection_id, Action.WITHDRAW)
    except (Refused, Withdrawn) as refusal:
        return refused(request, refusal)
    if workspace.collection.published_version_id is not None:
        return redirect(
            workspace_url(workspace.collection.id),
            "A published collection cannot be deleted; it can only be withdrawn.",
            "bad",
            request,
        )
    version = workspace.version
    return render(
        request,
        "curator/confirm.html",
        {
            "heading": f"Delete '{version.name}'?",
            "paragraphs": [
                "This private collection was never published. Deleting it removes it and its "
                f"{len(version.dataset_links)} dataset(s) for good; nobody outside ever saw it.",
            ],
            "items": [v.title or v.original_filename or v.id for v in version.dataset_versions],
            "action_url": f"/collections/{workspace.collection.id}/delete",
            "button": "Delete the collection",
            "cancel_url": workspace_url(workspace.collection.id),
        },
    )


@router.post("/collections/{collection_id}/delete", dependencies=CSRF)
def delete_collection(collection_id: str, request: Request, session: SessionDep, principal: PrincipalDep) -> Response:
    try:
        workspace = load(session, principal, collection_id, Action.WITHDRAW)
    except (Refused, Withdrawn) as refusal:
        return refused(request, refusal)
    name = workspace.version.name
    try:
        service.delete_private_collection(session, collection_id=workspace.collection.id)
    except CatalogError as error:
        return redirect(workspace_url(workspace.collection.id), error.message, "bad", request)
    return redirect("/my", f"Deleted the private collection '{name}'.", request=request)
