"""A published version, its metadata and its files never change: the service refuses, and so does a raw ORM write."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import delete, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cellportal.catalog import service
from cellportal.catalog.errors import Conflict, ImmutableVersion, InvalidState, NotFound
from cellportal.catalog.models import Artifact, CollectionVersion, CollectionVersionDataset, DatasetVersion
from tests.fixtures.builders import make_collection
from tests.fixtures.database import UnitOfWork


def _published(db: Session) -> tuple[CollectionVersion, DatasetVersion]:
    version = make_collection(db)
    return version, version.dataset_versions[0]


REFUSED_CALLS: dict[str, Callable[[Session, CollectionVersion, DatasetVersion], Any]] = {
    "update metadata": lambda db, cv, dv: service.update_collection_metadata(
        db, collection_version_id=cv.id, name="new"
    ),
    "add dataset": lambda db, cv, dv: service.create_dataset(db, collection_version_id=cv.id),
    "replace dataset": lambda db, cv, dv: service.replace_dataset(
        db, collection_version_id=cv.id, dataset_id=dv.dataset_id
    ),
    "remove dataset": lambda db, cv, dv: service.remove_dataset(
        db, collection_version_id=cv.id, dataset_id=dv.dataset_id
    ),
    "publish again": lambda db, cv, dv: service.publish(db, collection_version_id=cv.id),
    "cancel": lambda db, cv, dv: service.cancel_revision(db, collection_version_id=cv.id),
    "delete": lambda db, cv, dv: service.delete_private_collection(db, collection_id=cv.collection_id),
    "status": lambda db, cv, dv: service.set_dataset_status(db, dataset_version_id=dv.id, processing_status="FAILURE"),
    "metadata": lambda db, cv, dv: service.set_dataset_metadata(db, dataset_version_id=dv.id, metadata={"title": "x"}),
    "artifact": lambda db, cv, dv: service.record_artifact(db, dataset_version_id=dv.id, type="h5ad", status="FAILED"),
    "new artifact": lambda db, cv, dv: service.record_artifact(
        db, dataset_version_id=dv.id, type="h5ad", status="CONVERTED", sha256="0" * 64
    ),
}


def test_the_service_refuses_every_change_to_a_published_version(uow: UnitOfWork, subtests: Any) -> None:
    with uow() as db:
        cv, dv = _published(db)
        before = (cv.name, [d.id for d in cv.dataset_versions], dv.processing_status, dv.title)
        artifacts_before = sorted((a.type, a.sha256, a.status) for a in dv.artifacts)
    for operation, call in REFUSED_CALLS.items():  # one published collection, each refusal its own transaction
        with subtests.test(operation), pytest.raises(ImmutableVersion, match="published"), uow() as db:
            call(db, db.get(CollectionVersion, cv.id), db.get(DatasetVersion, dv.id))
    with uow() as db:
        cv, dv = db.get(CollectionVersion, cv.id), db.get(DatasetVersion, dv.id)
        assert (cv.name, [d.id for d in cv.dataset_versions], dv.processing_status, dv.title) == before
        assert sorted((a.type, a.sha256, a.status) for a in dv.artifacts) == artifacts_before


RAW_WRITES: dict[str, Callable[[Session, CollectionVersion, DatasetVersion], None]] = {
    "collection name": lambda db, cv, dv: setattr(cv, "name", "changed"),
    "collection published_at": lambda db, cv, dv: setattr(cv, "published_at", None),
    "dataset title": lambda db, cv, dv: setattr(dv, "title", "changed"),
    "artifact sha256": lambda db, cv, dv: setattr(dv.artifacts[0], "sha256", "f" * 64),
    "delete artifact": lambda db, cv, dv: db.delete(dv.artifacts[0]),
    "add artifact": lambda db, cv, dv: db.add(Artifact(dataset_version_id=dv.id, type="extra", status="CONVERTED")),
    "delete dataset version": lambda db, cv, dv: db.delete(dv),
    "unlink dataset": lambda db, cv, dv: db.delete(cv.dataset_links[0]),
    "reorder datasets": lambda db, cv, dv: setattr(cv.dataset_links[0], "position", 5),
    "link dataset": lambda db, cv, dv: cv.dataset_links.append(
        CollectionVersionDataset(dataset_version_id=cv.dataset_links[1].dataset_version_id, position=9)
    ),
}


def test_the_flush_guard_refuses_raw_orm_writes_to_published_versions(uow: UnitOfWork, subtests: Any) -> None:
    """Code that bypasses the service (any module, any colleague) still cannot change published rows."""
    with uow() as db:
        cv, dv = _published(db)
    for write, change in RAW_WRITES.items():
        with subtests.test(write), pytest.raises(ImmutableVersion), uow() as db:
            change(db, db.get(CollectionVersion, cv.id), db.get(DatasetVersion, dv.id))
            db.flush()


BULK_WRITES: dict[str, Callable[[CollectionVersion, DatasetVersion], Any]] = {
    "update collection version": lambda cv, dv: (
        update(CollectionVersion).where(CollectionVersion.id == cv.id).values(name="changed")
    ),
    "delete collection version": lambda cv, dv: delete(CollectionVersion).where(CollectionVersion.id == cv.id),
    "update dataset version": lambda cv, dv: update(DatasetVersion).where(DatasetVersion.id == dv.id).values(title="x"),
    "update artifact": lambda cv, dv: update(Artifact).where(Artifact.dataset_version_id == dv.id).values(size=1),
    "delete artifact": lambda cv, dv: delete(Artifact).where(Artifact.dataset_version_id == dv.id),
    "add artifact": lambda cv, dv: insert(Artifact).values(
        id="extra",
        dataset_version_id=dv.id,
        type="extra",
        status="CONVERTED",
        created_at=dv.created_at,
        updated_at=dv.created_at,
    ),
    "unlink dataset": lambda cv, dv: delete(CollectionVersionDataset).where(
        CollectionVersionDataset.collection_version_id == cv.id
    ),
    "link dataset": lambda cv, dv: insert(CollectionVersionDataset).values(
        collection_version_id=cv.id, dataset_version_id=cv.dataset_links[1].dataset_version_id, position=7
    ),
}


def test_the_database_refuses_bulk_and_raw_writes_to_published_rows(uow: UnitOfWork, subtests: Any) -> None:
    """Statements the flush guard never sees (bulk updates, raw SQL) meet the database's triggers."""
    with uow() as db:
        cv, dv = _published(db)
    for name, statement in BULK_WRITES.items():
        with subtests.test(name), pytest.raises(IntegrityError, match="published versions never change"), uow() as db:
            fresh_cv, fresh_dv = db.get(CollectionVersion, cv.id), db.get(DatasetVersion, dv.id)
            db.execute(statement(fresh_cv, fresh_dv))


def test_the_guard_lets_unpublished_versions_change(uow: UnitOfWork) -> None:
    with uow() as db:
        version = make_collection(db, published=False)
        version.name = "renamed directly"
        version.dataset_versions[0].title = "retitled directly"
        db.flush()


def test_one_open_revision_per_collection(uow: UnitOfWork) -> None:
    with uow() as db:
        version = make_collection(db)
        revision = service.start_revision(db, collection_id=version.collection_id)
        with pytest.raises(Conflict, match="already has an open revision"):
            service.start_revision(db, collection_id=version.collection_id)
        service.cancel_revision(db, collection_version_id=revision.id)
        service.start_revision(db, collection_id=version.collection_id)  # cancelled: a new one may start


def test_the_database_enforces_one_open_version_too(uow: UnitOfWork) -> None:
    """The partial unique index catches what two concurrent requests could slip past the service check."""
    with uow() as db:
        version = make_collection(db)
        service.start_revision(db, collection_id=version.collection_id)
        db.add(CollectionVersion(collection_id=version.collection_id, name="second open version"))
        with pytest.raises(IntegrityError):
            db.flush()


def test_a_never_published_collection_has_no_revision(uow: UnitOfWork) -> None:
    with uow() as db:
        version = make_collection(db, published=False)
        with pytest.raises(InvalidState, match="never been published"):
            service.start_revision(db, collection_id=version.collection_id)
        with pytest.raises(InvalidState, match="delete the private collection"):
            service.cancel_revision(db, collection_version_id=version.id)
        with pytest.raises(InvalidState, match="never published"):
            service.withdraw_collection(db, collection_id=version.collection_id, reason="why")


def test_cancelling_a_revision_deletes_only_what_it_added(uow: UnitOfWork) -> None:
    with uow() as db:
        version = make_collection(db)
        revision = service.start_revision(db, collection_id=version.collection_id)
        added = service.create_dataset(db, collection_version_id=revision.id)
        replacement = service.replace_dataset(
            db, collection_version_id=revision.id, dataset_id=version.dataset_versions[0].dataset_id
        )
        gone_ids = [revision.id, added.id, added.dataset_id, replacement.id]
        kept_ids = [version.collection_id, version.id, *(dv.id for dv in version.dataset_versions)]
    with uow() as db:
        service.cancel_revision(db, collection_version_id=revision.id)
    with uow() as db:
        for gone in gone_ids:
            with pytest.raises(NotFound):
                service.resolve_collection(db, gone) if gone == revision.id else service.resolve_dataset(db, gone)
        assert service.resolve_collection(db, kept_ids[0])[1].id == version.id
        assert [dv.id for dv in db.get(CollectionVersion, version.id).dataset_versions] == kept_ids[2:]


def test_deleting_a_private_collection_removes_everything(uow: UnitOfWork) -> None:
    with uow() as db:
        version = make_collection(db, published=False)
        ids = [version.collection_id, version.id]
        dataset_ids = [dv.dataset_id for dv in version.dataset_versions] + [dv.id for dv in version.dataset_versions]
    with uow() as db:
        service.delete_private_collection(db, collection_id=ids[0])
    with uow() as db:
        for gone in ids:
            with pytest.raises(NotFound):
                service.resolve_collection(db, gone)
        for gone in dataset_ids:
            with pytest.raises(NotFound):
                service.resolve_dataset(db, gone)
        assert db.query(Artifact).count() == 0


def test_a_published_collection_cannot_be_deleted(uow: UnitOfWork) -> None:
    with uow() as db:
        version = make_collection(db)
        with pytest.raises(ImmutableVersion, match="can only be withdrawn"):
            service.delete_private_collection(db, collection_id=version.collection_id)
