"""Reads for the Discover API, each one through the authorization policy.

Resolution (canonical or version id, tombstones) is the catalog service's; this module adds the one rule
of the public API: what the principal may not read does not exist (404, the same answer as an unknown id).
Every read a route makes starts here, so no route can forget the policy.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session, selectinload

from cellportal.api.errors import Problem, gone, not_found
from cellportal.auth.policy import Action, Principal, Resource, ResourceKind, can
from cellportal.auth.sharing import collaborator_roles
from cellportal.auth.visibility import private_access_clause
from cellportal.catalog import repository as repo
from cellportal.catalog import service
from cellportal.catalog.errors import Gone, NotFound
from cellportal.catalog.models import Collection, CollectionVersion, CollectionVersionDataset, DatasetVersion


def _collaborators(collection: Collection) -> dict[str, str]:
    session = object_session(collection)
    return collaborator_roles(session, collection.id) if session is not None else {}


def collection_version_resource(version: CollectionVersion) -> Resource:
    collection = version.collection
    return Resource(
        kind=ResourceKind.COLLECTION_VERSION,
        collection_id=collection.id,
        owner_id=collection.owner_id,
        published=version.published_at is not None,
        tombstoned=collection.tombstoned_at is not None,
        collaborators=_collaborators(collection),
    )


def dataset_version_resource(session: Session, version: DatasetVersion) -> Resource:
    collection = repo.get_collection(session, version.dataset.collection_id)
    return Resource(
        kind=ResourceKind.DATASET_VERSION,
        collection_id=collection.id,
        owner_id=collection.owner_id,
        published=version.published_at is not None,
        tombstoned=collection.tombstoned_at is not None or version.dataset.tombstoned_at is not None,
        collaborators=collaborator_roles(session, collection.id),
    )


def _as_problem(error: Gone | NotFound, what: str) -> Problem:
    if isinstance(error, Gone):
        return gone(error.message, reason=error.reason, tombstoned_at=error.tombstoned_at)
    return not_found(what)


def readable_collection_version(session: Session, principal: Principal, any_id: str) -> CollectionVersion:
    """A canonical id (latest published; a never-published one's private version) or a version id."""
    what = f"Collection {any_id}"
    try:
        _, version = service.resolve_collection(session, any_id)
    except (Gone, NotFound) as error:
        raise _as_problem(error, what) from None
    if not can(principal, Action.READ, collection_version_resource(version)):
        raise not_found(what)
    return version


def readable_dataset_version(
    session: Session, principal: Principal, any_id: str, action: Action = Action.READ
) -> DatasetVersion:
    """A canonical id (latest published; a never-published one's private version) or a version id."""
    what = f"Dataset {any_id}"
    try:
        _, version = service.resolve_dataset(session, any_id)
    except (Gone, NotFound) as error:
        raise _as_problem(error, what) from None
    resource = dataset_version_resource(session, version)
    # Knowing it exists comes first: a refusal to someone who may not even see it is a 404, not a 403.
    if not can(principal, Action.READ, resource) or not can(principal, action, resource):
        raise not_found(what)
    return version


def open_revision_id(session: Session, principal: Principal, version: CollectionVersion) -> str | None:
    """`revising_in`: the open revision of a published collection, for those allowed to see it."""
    collection = version.collection
    if collection.published_version_id is None:
        return None
    if principal.is_anonymous and not principal.share_collection_ids:
        return None  # revisions are never public: spare the query on anonymous listings
    revision = service.open_revision(session, collection_id=collection.id)
    if revision is None or revision.id == version.id:
        return None
    return revision.id if can(principal, Action.READ, collection_version_resource(revision)) else None


def preload_collection_versions(session: Session, versions: Iterable[CollectionVersion]) -> None:
    """Load the datasets, artifacts and canonical rows of many versions in a few queries, not a few per row."""
    ids = [v.id for v in versions]
    if not ids:
        return
    dataset_version = selectinload(CollectionVersion.dataset_links).selectinload(
        CollectionVersionDataset.dataset_version
    )
    session.scalars(
        select(CollectionVersion)
        .where(CollectionVersion.id.in_(ids))
        .options(
            selectinload(CollectionVersion.collection),
            dataset_version.selectinload(DatasetVersion.artifacts),
            dataset_version.selectinload(DatasetVersion.dataset),
        )
    ).all()


def preload_dataset_versions(session: Session, versions: Iterable[DatasetVersion]) -> None:
    ids = [v.id for v in versions]
    if not ids:
        return
    session.scalars(
        select(DatasetVersion)
        .where(DatasetVersion.id.in_(ids))
        .options(selectinload(DatasetVersion.artifacts), selectinload(DatasetVersion.dataset))
    ).all()


def published_collection_versions(session: Session) -> list[CollectionVersion]:
    versions = service.published_collections(session)
    preload_collection_versions(session, versions)
    return versions


def private_collection_versions(session: Session, principal: Principal) -> list[CollectionVersion]:
    """Private collections and open revisions the principal may read: owned, shared with them (as a
    collaborator or through a share link they hold), or all for admins; none for anyone else."""
    if principal.is_anonymous and not principal.share_collection_ids:
        return []
    query = (
        select(CollectionVersion)
        .join(Collection, Collection.id == CollectionVersion.collection_id)
        .where(
            CollectionVersion.published_at.is_(None),
            Collection.tombstoned_at.is_(None),
            private_access_clause(principal),
        )
        .order_by(CollectionVersion.created_at.desc())
    )
    candidates = list(session.scalars(query))
    preload_collection_versions(session, candidates)
    # The SQL clause and the policy encode the same rule; the policy has the last word.
    return [v for v in candidates if can(principal, Action.READ, collection_version_resource(v))]


def collection_history(session: Session, principal: Principal, any_id: str) -> list[CollectionVersion]:
    """Every published version, newest first."""
    version = readable_collection_version(session, principal, any_id)
    history = list(reversed(repo.published_versions_of_collection(session, version.collection_id)))
    preload_collection_versions(session, history)
    return history


def dataset_history(session: Session, principal: Principal, any_id: str) -> list[DatasetVersion]:
    """Every published version, newest first."""
    version = readable_dataset_version(session, principal, any_id)
    history = list(reversed(repo.published_versions_of_dataset(session, version.dataset_id)))
    preload_dataset_versions(session, history)
    return history


def published_dataset_versions(session: Session) -> list[tuple[DatasetVersion, Collection, CollectionVersion]]:
    """The current version of every live published dataset, with its collection and that collection's version."""
    rows = []
    versions = service.published_datasets(session)
    preload_dataset_versions(session, versions)
    published = select(Collection).where(Collection.published_version_id.is_not(None))
    collections = {c.id: c for c in session.scalars(published.options(selectinload(Collection.published_version)))}
    for version in versions:
        collection = collections.get(version.dataset.collection_id) or repo.get_collection(
            session, version.dataset.collection_id
        )
        assert collection.published_version is not None  # a published dataset's collection is published
        rows.append((version, collection, collection.published_version))
    return rows


def private_dataset_versions(
    session: Session, principal: Principal
) -> list[tuple[DatasetVersion, Collection, CollectionVersion]]:
    """Dataset versions under private review (new or replaced) in collections the principal may read."""
    rows = []
    for collection_version in private_collection_versions(session, principal):
        for version in collection_version.dataset_versions:
            if version.published_at is None:
                rows.append((version, collection_version.collection, collection_version))
    return rows


def first_published_in(session: Session, versions: Iterable[DatasetVersion]) -> dict[str, str | None]:
    """The collection version each dataset version was first published in (its open version if private)."""
    ids = [v.id for v in versions]
    if not ids:
        return {}
    query = (
        select(CollectionVersionDataset.dataset_version_id, CollectionVersion.id)
        .join(CollectionVersion, CollectionVersion.id == CollectionVersionDataset.collection_version_id)
        .where(CollectionVersionDataset.dataset_version_id.in_(ids))
        # Published versions first, oldest first; then unpublished ones (a private dataset's only home).
        .order_by(
            CollectionVersion.published_at.is_(None), CollectionVersion.published_at, CollectionVersion.created_at
        )
    )
    found: dict[str, str | None] = dict.fromkeys(ids)
    for dataset_version_id, collection_version_id in session.execute(query):
        if found[dataset_version_id] is None:
            found[dataset_version_id] = collection_version_id
    return found
