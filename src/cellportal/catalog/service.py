"""The catalog's operations: create, revise, publish, withdraw, resolve, list, and the pipeline's updates.

Every function takes a ``Session`` and keyword arguments, flushes, and never commits: the caller's unit
of work (a request, a job, a CLI command; see ``catalog.db.transaction``) commits or rolls back, so a
failure part-way leaves the catalog as it was. Decisions are made by ``rules``; queries live in
``repository``. Errors are the domain errors of ``catalog.errors``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from cellportal.browse import index as browse_index
from cellportal.catalog import repository as repo
from cellportal.catalog import rules
from cellportal.catalog.errors import InvalidInput, NotFound
from cellportal.catalog.models import (
    Artifact,
    Collection,
    CollectionVersion,
    CollectionVersionDataset,
    Dataset,
    DatasetVersion,
    utcnow,
)
from cellportal.catalog.statuses import (
    ArtifactType,
    ConversionStatus,
    ProcessingStatus,
    UploadStatus,
    ValidationStatus,
)

__all__ = [
    "cancel_revision",
    "collection_versions_history",
    "create_collection",
    "create_dataset",
    "dataset_version_history",
    "delete_private_collection",
    "open_revision",
    "publish",
    "published_collections",
    "published_datasets",
    "record_artifact",
    "remove_dataset",
    "replace_dataset",
    "resolve_collection",
    "resolve_dataset",
    "set_dataset_metadata",
    "set_dataset_status",
    "start_revision",
    "unpublished_collections",
    "update_collection_metadata",
    "withdraw_collection",
    "withdraw_dataset",
]


# --- collections -----------------------------------------------------------------------------------------


def create_collection(
    session: Session,
    *,
    owner_id: str,
    name: str,
    description: str,
    contact_name: str,
    contact_email: str,
    links: Sequence[Mapping[str, Any]] = (),
    consortia: Sequence[str] = (),
    doi: str | None = None,
    curator_name: str | None = None,
    publisher_metadata: Mapping[str, Any] | None = None,
) -> CollectionVersion:
    """A new private collection: its canonical row and its first, unpublished version."""
    rules.check_collection_fields(name, contact_email)
    collection = Collection(owner_id=owner_id)
    version = CollectionVersion(
        collection=collection,
        name=name.strip(),
        description=description,
        contact_name=contact_name,
        contact_email=contact_email.strip(),
        links=rules.normalize_links(links, doi),
        consortia=list(consortia),
        curator_name=curator_name,
        publisher_metadata=dict(publisher_metadata) if publisher_metadata is not None else None,
    )
    session.add_all([collection, version])
    session.flush()
    browse_index.index_collection_version(session, version)  # a private collection is searchable by those allowed
    return version


def update_collection_metadata(
    session: Session,
    *,
    collection_version_id: str,
    name: str | None = None,
    description: str | None = None,
    contact_name: str | None = None,
    contact_email: str | None = None,
    links: Sequence[Mapping[str, Any]] | None = None,
    consortia: Sequence[str] | None = None,
    doi: str | None = None,
    curator_name: str | None = None,
    publisher_metadata: Mapping[str, Any] | None = None,
) -> CollectionVersion:
    """Change the metadata of an unpublished version; None leaves a field as it is, ``doi=""`` removes the DOI."""
    version = _mutable_collection_version(session, collection_version_id)
    rules.check_collection_fields(name, contact_email)
    changes: dict[str, Any] = {
        "name": name.strip() if name is not None else None,
        "description": description,
        "contact_name": contact_name,
        "contact_email": contact_email.strip() if contact_email is not None else None,
        "consortia": list(consortia) if consortia is not None else None,
        "curator_name": curator_name,
        "publisher_metadata": dict(publisher_metadata) if publisher_metadata is not None else None,
    }
    for field, value in changes.items():
        if value is not None:
            setattr(version, field, value)
    if links is not None or doi is not None:
        version.links = rules.normalize_links(links if links is not None else version.links, doi)
    session.flush()
    browse_index.index_collection_version(session, version)
    return version


def open_revision(session: Session, *, collection_id: str) -> CollectionVersion | None:
    """The unpublished version of a collection (its private version or open revision), if any."""
    ids = repo.unpublished_version_ids(session, collection_id)
    return repo.get_collection_version(session, ids[0]) if ids else None


def start_revision(session: Session, *, collection_id: str) -> CollectionVersion:
    """Open a revision of a published collection: a new unpublished version holding the same dataset versions."""
    collection = repo.get_collection(session, collection_id, lock=True)
    rules.ensure_not_tombstoned("collection", collection.id, collection.tombstoned_at, collection.tombstone_reason)
    open_ids = repo.unpublished_version_ids(session, collection.id)
    rules.ensure_can_start_revision(collection.id, collection.published_version_id, open_ids[0] if open_ids else None)
    published = collection.published_version
    assert published is not None  # ensure_can_start_revision refused a never-published collection
    revision = CollectionVersion(
        collection=collection,
        name=published.name,
        description=published.description,
        contact_name=published.contact_name,
        contact_email=published.contact_email,
        links=list(published.links),
        consortia=list(published.consortia),
        publisher_metadata=published.publisher_metadata,
        curator_name=published.curator_name,
        dataset_links=[
            CollectionVersionDataset(dataset_version=link.dataset_version, position=link.position)
            for link in published.dataset_links
        ],
    )
    session.add(revision)
    session.flush()
    return revision


def cancel_revision(session: Session, *, collection_version_id: str) -> None:
    """Drop an open revision; dataset versions uploaded only for it are deleted with it."""
    collection, version = _locked(session, collection_version_id)
    rules.ensure_can_cancel_revision(version.id, version.published_at, collection.published_version_id is not None)
    _delete_unpublished_version(session, version)


def delete_private_collection(session: Session, *, collection_id: str) -> None:
    """Delete a collection that was never published, with all its datasets."""
    collection = repo.get_collection(session, collection_id, lock=True)
    rules.ensure_can_delete_private(collection.id, collection.published_version_id)
    for version in list(collection.versions):
        _delete_unpublished_version(session, version)
    session.expire(collection, ["versions"])  # the deleted versions are no longer its children
    session.delete(collection)
    session.flush()


def withdraw_collection(
    session: Session, *, collection_id: str, reason: str, now: datetime | None = None
) -> Collection:
    """Tombstone a published collection and its datasets; every link to them then answers 410 with the reason."""
    now = now or utcnow()
    collection = repo.get_collection(session, collection_id, lock=True)
    rules.ensure_not_tombstoned("collection", collection.id, collection.tombstoned_at, collection.tombstone_reason)
    rules.ensure_can_withdraw(collection.id, collection.published_version_id, reason)
    for version_id in repo.unpublished_version_ids(session, collection.id):
        _delete_unpublished_version(session, repo.get_collection_version(session, version_id))
    collection.tombstoned_at, collection.tombstone_reason = now, reason.strip()
    for dataset in repo.datasets_of_collection(session, collection.id):
        if dataset.tombstoned_at is None:
            dataset.tombstoned_at = now
            dataset.tombstone_reason = rules.withdrawal_reason(collection.id, reason.strip())
    session.flush()
    return collection


def withdraw_dataset(session: Session, *, dataset_id: str, reason: str, now: datetime | None = None) -> Dataset:
    """Withdraw one published dataset: a revision without it is published at once, leaving its tombstone."""
    now = now or utcnow()
    dataset = repo.get_dataset(session, dataset_id)
    collection = repo.get_collection(session, dataset.collection_id, lock=True)
    _ensure_dataset_alive(session, dataset)
    open_ids = repo.unpublished_version_ids(session, collection.id)
    published = collection.published_version
    rules.ensure_can_withdraw_dataset(
        dataset.id,
        dataset.published_version_id is not None,
        open_ids[0] if open_ids else None,
        len(published.dataset_links) - 1 if published is not None else 0,
        reason,
    )
    revision = start_revision(session, collection_id=collection.id)
    remove_dataset(session, collection_version_id=revision.id, dataset_id=dataset.id)
    publish(session, collection_version_id=revision.id, now=now)
    dataset.tombstone_reason = reason.strip()
    session.flush()
    return dataset


# --- datasets inside an unpublished collection version ---------------------------------------------------


def create_dataset(
    session: Session,
    *,
    collection_version_id: str,
    original_filename: str | None = None,
    source_uri: str | None = None,
) -> DatasetVersion:
    """A new dataset (canonical id + first version, INITIALIZED/WAITING) appended to the collection version."""
    version = _mutable_collection_version(session, collection_version_id)
    dataset = Dataset(collection_id=version.collection_id)
    dataset_version = DatasetVersion(dataset=dataset, original_filename=original_filename, source_uri=source_uri)
    position = max((link.position for link in version.dataset_links), default=-1) + 1
    version.dataset_links.append(CollectionVersionDataset(dataset_version=dataset_version, position=position))
    session.add_all([dataset, dataset_version])
    session.flush()
    return dataset_version


def replace_dataset(
    session: Session,
    *,
    collection_version_id: str,
    dataset_id: str,
    original_filename: str | None = None,
    source_uri: str | None = None,
) -> DatasetVersion:
    """A new version of a dataset (same dataset_id) takes the place of the current one in the collection version."""
    version = _mutable_collection_version(session, collection_version_id)
    link = _link_of(version, dataset_id)
    previous = link.dataset_version
    rules.ensure_can_replace(dataset_id, previous.id, previous.processing_status, previous.upload_status)
    replacement = DatasetVersion(dataset_id=dataset_id, original_filename=original_filename, source_uri=source_uri)
    session.add(replacement)
    version.dataset_links.remove(link)
    version.dataset_links.append(CollectionVersionDataset(dataset_version=replacement, position=link.position))
    version.dataset_links.sort(key=lambda each: each.position)
    session.flush()
    _delete_if_orphan(session, previous)
    return replacement


def remove_dataset(session: Session, *, collection_version_id: str, dataset_id: str) -> None:
    """Take a dataset out of an unpublished version; once that version is published, the dataset is tombstoned."""
    version = _mutable_collection_version(session, collection_version_id)
    link = _link_of(version, dataset_id)
    version.dataset_links.remove(link)
    session.flush()
    _delete_if_orphan(session, link.dataset_version)


# --- publishing ------------------------------------------------------------------------------------------


def publish(session: Session, *, collection_version_id: str, now: datetime | None = None) -> CollectionVersion:
    """Publish atomically: the canonical ids move to this version; datasets it dropped are tombstoned."""
    now = now or utcnow()
    collection, version = _locked(session, collection_version_id)
    rules.ensure_not_tombstoned("collection", collection.id, collection.tombstoned_at, collection.tombstone_reason)
    dataset_versions = version.dataset_versions
    snapshots = [_snapshot(dv) for dv in dataset_versions]
    schema_version = rules.ensure_publishable(version.id, version.published_at, snapshots)
    previous = collection.published_version
    plan = rules.plan_publish(
        {link.dataset_version.dataset_id: link.dataset_version_id for link in previous.dataset_links}
        if previous is not None
        else None,
        {s.dataset_id: s.version_id for s in snapshots},
    )
    version.published_at, version.schema_version = now, schema_version
    collection.published_version = version
    if plan.first_publication:
        collection.originally_published_at = now
    elif plan.datasets_changed:
        collection.revised_at = now
    for dataset_version in dataset_versions:
        _publish_dataset_version(dataset_version, now)
    for dataset_id in sorted(plan.removed_dataset_ids):
        dataset = repo.get_dataset(session, dataset_id)
        dataset.tombstoned_at, dataset.tombstone_reason = now, rules.removal_reason(collection.id)
    session.flush()
    browse_index.index_collection_version(session, version)  # its final text: published versions never change
    return version


def _publish_dataset_version(dataset_version: DatasetVersion, now: datetime) -> None:
    if dataset_version.published_at is None:
        dataset_version.published_at = now
    dataset = dataset_version.dataset
    if dataset.published_version_id == dataset_version.id:
        return
    if dataset.published_at is None:
        dataset.published_at = now
    else:
        dataset.revised_at = now
    dataset.published_version = dataset_version


# --- resolution and listings -----------------------------------------------------------------------------


def resolve_collection(session: Session, id: str) -> tuple[Collection, CollectionVersion]:
    """A canonical id (-> latest published, or the private version if never published) or a version id."""
    collection = session.get(Collection, id)
    if collection is not None:
        rules.ensure_not_tombstoned("collection", id, collection.tombstoned_at, collection.tombstone_reason)
        unpublished = repo.unpublished_version_ids(session, id)
        version_id = rules.pick_collection_version(id, collection.published_version_id, unpublished)
        return collection, repo.get_collection_version(session, version_id)
    version = session.get(CollectionVersion, id)
    if version is None:
        raise NotFound(f"no collection or collection version has the id {id}")
    collection = version.collection
    rules.ensure_not_tombstoned("collection", collection.id, collection.tombstoned_at, collection.tombstone_reason)
    return collection, version


def resolve_dataset(session: Session, id: str) -> tuple[Dataset, DatasetVersion]:
    """A canonical id (-> latest published, or the private version if never published) or a version id."""
    dataset = session.get(Dataset, id)
    if dataset is not None:
        _ensure_dataset_alive(session, dataset)
        version = dataset.published_version or repo.unpublished_version_of_dataset(session, dataset.id)
        if version is None:
            raise NotFound(f"dataset {id} has no version")
        return dataset, version
    version = session.get(DatasetVersion, id)
    if version is None:
        raise NotFound(f"no dataset or dataset version has the id {id}")
    _ensure_dataset_alive(session, version.dataset)
    return version.dataset, version


def published_collections(session: Session) -> list[CollectionVersion]:
    """The latest published version of every collection that is not withdrawn."""
    return repo.published_collection_versions(session)


def unpublished_collections(session: Session, *, owner_id: str | None = None) -> list[CollectionVersion]:
    """Private collections and open revisions, optionally of one owner (authorization is the caller's)."""
    return repo.unpublished_collection_versions(session, owner_id)


def collection_versions_history(session: Session, *, collection_id: str) -> list[CollectionVersion]:
    """Every published version of a collection, oldest first; accepts a canonical or a version id."""
    collection, _ = resolve_collection(session, collection_id)
    return repo.published_versions_of_collection(session, collection.id)


def published_datasets(session: Session, *, collection_id: str | None = None) -> list[DatasetVersion]:
    """The current published version of every live dataset, optionally of one collection."""
    return repo.published_dataset_versions(session, collection_id)


def dataset_version_history(session: Session, *, dataset_id: str) -> list[DatasetVersion]:
    """Every published version of a dataset, oldest first; accepts a canonical or a version id."""
    dataset, _ = resolve_dataset(session, dataset_id)
    return repo.published_versions_of_dataset(session, dataset.id)


# --- the pipeline's updates ------------------------------------------------------------------------------


def set_dataset_status(
    session: Session,
    *,
    dataset_version_id: str,
    processing_status: str | None = None,
    upload_status: str | None = None,
    validation_status: str | None = None,
    validation_errors: list[Any] | None = None,
    validation_warnings: list[Any] | None = None,
    failure_reason: str | None = None,
) -> DatasetVersion:
    """Update the statuses of an unpublished dataset version; None leaves a field as it is."""
    version = _mutable_dataset_version(session, dataset_version_id)
    if processing_status is not None:
        version.processing_status = _member(ProcessingStatus, processing_status)
    if upload_status is not None:
        version.upload_status = _member(UploadStatus, upload_status)
    if validation_status is not None:
        version.validation_status = _member(ValidationStatus, validation_status)
    if validation_errors is not None:
        version.validation_errors = list(validation_errors)
    if validation_warnings is not None:
        version.validation_warnings = list(validation_warnings)
    if failure_reason is not None:
        version.failure_reason = failure_reason
    session.flush()
    return version


def record_artifact(
    session: Session,
    *,
    dataset_version_id: str,
    type: str,  # the column's name, as the brief spells it
    status: str,
    sha256: str | None = None,
    size: int | None = None,
    message: str | None = None,
    format_version: str | None = None,
) -> Artifact:
    """Insert or update the artifact of this type: a retried job ends with exactly one row per type."""
    version = _mutable_dataset_version(session, dataset_version_id)
    artifact_type, artifact_status = _member(ArtifactType, type), _member(ConversionStatus, status)
    artifact = repo.artifact(session, version.id, artifact_type)
    if artifact is None:
        artifact = Artifact(dataset_version_id=version.id, type=artifact_type)
        version.artifacts.append(artifact)
    artifact.status, artifact.status_message = artifact_status, message
    artifact.sha256, artifact.size, artifact.format_version = sha256, size, format_version
    session.flush()
    return artifact


def set_dataset_metadata(
    session: Session,
    *,
    dataset_version_id: str,
    metadata: Mapping[str, Any],
    title: str | None = None,
    schema_version: str | None = None,
    citation: str | None = None,
) -> DatasetVersion:
    """Store what the labeller extracted; title and schema_version default to the metadata's own keys."""
    version = _mutable_dataset_version(session, dataset_version_id)
    version.dataset_metadata = dict(metadata)
    version.title = title if title is not None else metadata.get("title")
    version.schema_version = schema_version if schema_version is not None else metadata.get("schema_version")
    if citation is not None:
        version.citation = citation
    session.flush()
    browse_index.index_dataset_version(session, version)  # facets and search see it as soon as it is stored
    return version


# --- helpers ---------------------------------------------------------------------------------------------


def _locked(session: Session, collection_version_id: str) -> tuple[Collection, CollectionVersion]:
    """Lock the collection, then re-read the version: a writer that waited sees what the other one committed.

    (On PostgreSQL a concurrent publish of the same version would otherwise pass on a stale published_at.)
    """
    version = repo.get_collection_version(session, collection_version_id)
    collection = repo.get_collection(session, version.collection_id, lock=True)
    session.refresh(version)
    return collection, version


def _mutable_collection_version(session: Session, collection_version_id: str) -> CollectionVersion:
    collection, version = _locked(session, collection_version_id)
    rules.ensure_not_tombstoned("collection", collection.id, collection.tombstoned_at, collection.tombstone_reason)
    rules.ensure_mutable("collection", version.id, version.published_at)
    return version


def _mutable_dataset_version(session: Session, dataset_version_id: str) -> DatasetVersion:
    # Locked and re-read, so a write racing a publish on PostgreSQL sees the committed published_at.
    version = repo.get_dataset_version(session, dataset_version_id, lock=True)
    rules.ensure_mutable("dataset", version.id, version.published_at)
    return version


def _link_of(version: CollectionVersion, dataset_id: str) -> CollectionVersionDataset:
    links = {link.dataset_version.dataset_id: link for link in version.dataset_links}
    rules.ensure_dataset_in_version(dataset_id, links, version.id)
    return links[dataset_id]


def _snapshot(version: DatasetVersion) -> rules.DatasetSnapshot:
    return rules.DatasetSnapshot(
        dataset_id=version.dataset_id,
        version_id=version.id,
        processing_status=version.processing_status,
        schema_version=version.schema_version,
        title=version.title,
    )


def _ensure_dataset_alive(session: Session, dataset: Dataset) -> None:
    rules.ensure_not_tombstoned("dataset", dataset.id, dataset.tombstoned_at, dataset.tombstone_reason)
    collection = repo.get_collection(session, dataset.collection_id)
    rules.ensure_not_tombstoned("collection", collection.id, collection.tombstoned_at, collection.tombstone_reason)


def _delete_unpublished_version(session: Session, version: CollectionVersion) -> None:
    dataset_versions = version.dataset_versions
    session.delete(version)
    session.flush()
    for dataset_version in dataset_versions:
        _delete_if_orphan(session, dataset_version)


def _delete_if_orphan(session: Session, dataset_version: DatasetVersion) -> None:
    """An unpublished dataset version no collection version holds any more is deleted, and its dataset if empty.

    Its job rows keep their history (the foreign key is SET NULL); its blobs are content-addressed and
    may be shared, so freeing them is the storage check's job, not the catalog's.
    """
    if dataset_version.published_at is not None or repo.link_count(session, dataset_version.id):
        return
    dataset = dataset_version.dataset
    session.delete(dataset_version)
    session.flush()
    if dataset.published_version_id is None and repo.version_count(session, dataset.id) == 0:
        session.expire(dataset, ["versions"])
        session.delete(dataset)
        session.flush()


def _member(enum: type[Any], value: str) -> str:
    try:
        return enum(value).value
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise InvalidInput(f"'{value}' is not one of {allowed}") from None
