"""Who may add a dataset to a collection version: the authorization policy's EDIT, asked of the catalog.

Checked when an upload is created and again before every chunk and at completion, so an editor removed
from a collection mid-upload cannot finish it. Refusals follow the portal's rule: whoever may not even
read the collection is told it does not exist (404).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from cellportal.api.discover.queries import collection_version_resource
from cellportal.auth.policy import Action, Principal, can
from cellportal.catalog import service
from cellportal.catalog.errors import Gone, NotFound
from cellportal.catalog.models import CollectionVersion
from cellportal.uploads.rules import UploadRefused


def editable_collection_version(
    session: Session, principal: Principal, collection_version_id: str, replace_dataset_id: str | None = None
) -> CollectionVersion:
    """The unpublished collection version `principal` may add datasets to (or replace one of them in)."""
    if principal.is_anonymous:
        raise UploadRefused("Sign in (or use an API key) to upload datasets.", status=401)
    unknown = UploadRefused(f"Collection version {collection_version_id} does not exist or is not visible to you.", 404)
    try:
        _, version = service.resolve_collection(session, collection_version_id)
    except (NotFound, Gone):
        raise unknown from None
    resource = collection_version_resource(version)
    if not can(principal, Action.READ, resource):
        raise unknown
    if not can(principal, Action.EDIT, resource):
        raise UploadRefused("You may read this collection but not add datasets to it (ask its owner).", 403)
    if version.id != collection_version_id or version.published_at is not None:
        raise UploadRefused(
            "Datasets are added to an unpublished collection version: published versions never change. "
            "Start a revision and upload into it.",
            409,
        )
    if replace_dataset_id is not None:
        members = {link.dataset_version.dataset_id for link in version.dataset_links}
        if replace_dataset_id not in members:
            raise UploadRefused(f"Dataset {replace_dataset_id} is not in collection version {version.id}.", 404)
    return version
