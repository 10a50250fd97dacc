"""Queries of the catalog: load-or-raise helpers and the selects the service and the listings need.

Locking: ``lock=True`` adds ``FOR UPDATE`` on PostgreSQL so two writers on one collection take turns;
SQLite ignores it because ``BEGIN IMMEDIATE`` (catalog/db.py) already serialises writers.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.interfaces import LoaderOption

from cellportal.catalog.errors import NotFound
from cellportal.catalog.models import (
    Artifact,
    Collection,
    CollectionVersion,
    CollectionVersionDataset,
    Dataset,
    DatasetVersion,
)


def _with_datasets() -> list[LoaderOption]:
    """Listings show each version's datasets and files: load them in a few queries, not one per row."""
    links = selectinload(CollectionVersion.dataset_links)
    dataset_version = links.selectinload(CollectionVersionDataset.dataset_version)
    return [
        selectinload(CollectionVersion.collection),
        dataset_version.selectinload(DatasetVersion.artifacts),
        dataset_version.selectinload(DatasetVersion.dataset),
    ]


def get_collection(session: Session, collection_id: str, *, lock: bool = False) -> Collection:
    collection = session.get(Collection, collection_id, with_for_update=lock or None, populate_existing=lock)
    if collection is None:
        raise NotFound(f"no collection has the id {collection_id}")
    return collection


def get_collection_version(session: Session, version_id: str) -> CollectionVersion:
    version = session.get(CollectionVersion, version_id)
    if version is None:
        raise NotFound(f"no collection version has the id {version_id}")
    return version


def get_dataset(session: Session, dataset_id: str) -> Dataset:
    dataset = session.get(Dataset, dataset_id)
    if dataset is None:
        raise NotFound(f"no dataset has the id {dataset_id}")
    return dataset


def get_dataset_version(session: Session, version_id: str, *, lock: bool = False) -> DatasetVersion:
    version = session.get(DatasetVersion, version_id, with_for_update=lock or None, populate_existing=lock)
    if version is None:
        raise NotFound(f"no dataset version has the id {version_id}")
    return version


def unpublished_version_ids(session: Session, collection_id: str) -> list[str]:
    query = select(CollectionVersion.id).where(
        CollectionVersion.collection_id == collection_id, CollectionVersion.published_at.is_(None)
    )
    return list(session.scalars(query.order_by(CollectionVersion.created_at)))


def link_count(session: Session, dataset_version_id: str) -> int:
    """In how many collection versions a dataset version appears (0: it is an orphan)."""
    query = select(func.count()).where(CollectionVersionDataset.dataset_version_id == dataset_version_id)
    return session.scalar(query) or 0


def version_count(session: Session, dataset_id: str) -> int:
    return session.scalar(select(func.count()).where(DatasetVersion.dataset_id == dataset_id)) or 0


def unpublished_version_of_dataset(session: Session, dataset_id: str) -> DatasetVersion | None:
    """The version of a never-published dataset that its private collection version holds."""
    query = (
        select(DatasetVersion)
        .join(CollectionVersionDataset, CollectionVersionDataset.dataset_version_id == DatasetVersion.id)
        .join(CollectionVersion, CollectionVersion.id == CollectionVersionDataset.collection_version_id)
        .where(DatasetVersion.dataset_id == dataset_id, CollectionVersion.published_at.is_(None))
        .order_by(DatasetVersion.created_at.desc())
    )
    return session.scalars(query).first()


def published_collection_versions(session: Session) -> list[CollectionVersion]:
    """The current published version of every collection that is not withdrawn, most recently changed first."""
    query = (
        select(CollectionVersion)
        .join(Collection, Collection.published_version_id == CollectionVersion.id)
        .where(Collection.tombstoned_at.is_(None))
        .order_by(func.coalesce(Collection.revised_at, Collection.originally_published_at).desc(), Collection.id)
        .options(*_with_datasets())
    )
    return list(session.scalars(query))


def published_versions_of_collection(session: Session, collection_id: str) -> list[CollectionVersion]:
    query = (
        select(CollectionVersion)
        .where(CollectionVersion.collection_id == collection_id, CollectionVersion.published_at.is_not(None))
        .order_by(CollectionVersion.published_at, CollectionVersion.created_at)
        .options(*_with_datasets())
    )
    return list(session.scalars(query))


def published_dataset_versions(session: Session, collection_id: str | None = None) -> list[DatasetVersion]:
    """The current published version of every live dataset (optionally of one collection)."""
    query = (
        select(DatasetVersion)
        .join(Dataset, Dataset.published_version_id == DatasetVersion.id)
        .join(Collection, Collection.id == Dataset.collection_id)
        .where(Dataset.tombstoned_at.is_(None), Collection.tombstoned_at.is_(None))
        .options(selectinload(DatasetVersion.artifacts), selectinload(DatasetVersion.dataset))
    )
    if collection_id is not None:
        query = query.where(Dataset.collection_id == collection_id)
    return list(session.scalars(query.order_by(Dataset.published_at.desc(), Dataset.id)))


def published_versions_of_dataset(session: Session, dataset_id: str) -> list[DatasetVersion]:
    query = (
        select(DatasetVersion)
        .where(DatasetVersion.dataset_id == dataset_id, DatasetVersion.published_at.is_not(None))
        .order_by(DatasetVersion.published_at, DatasetVersion.created_at)
    )
    return list(session.scalars(query))


def unpublished_collection_versions(session: Session, owner_id: str | None = None) -> list[CollectionVersion]:
    """Private collections and open revisions (for a curator's dashboard), newest first."""
    query = (
        select(CollectionVersion)
        .join(Collection, Collection.id == CollectionVersion.collection_id)
        .where(CollectionVersion.published_at.is_(None), Collection.tombstoned_at.is_(None))
        .options(*_with_datasets())
    )
    if owner_id is not None:
        query = query.where(Collection.owner_id == owner_id)
    return list(session.scalars(query.order_by(CollectionVersion.created_at.desc())))


def datasets_of_collection(session: Session, collection_id: str) -> list[Dataset]:
    return list(session.scalars(select(Dataset).where(Dataset.collection_id == collection_id).order_by(Dataset.id)))


def artifact(session: Session, dataset_version_id: str, artifact_type: str) -> Artifact | None:
    query = select(Artifact).where(Artifact.dataset_version_id == dataset_version_id, Artifact.type == artifact_type)
    return session.scalars(query).one_or_none()
