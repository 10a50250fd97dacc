"""Publishing: refusals in a curator's words, and atomicity (a failure part-way leaves the previous state)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from cellportal.catalog import service
from cellportal.catalog.errors import Conflict, Gone, PublishRefused
from cellportal.catalog.models import Collection, CollectionVersion, Dataset, DatasetVersion
from tests.fixtures.builders import add_ready_dataset, make_collection, make_ready
from tests.fixtures.database import UnitOfWork

T0 = datetime(2026, 1, 10, tzinfo=UTC)
T1 = datetime(2026, 2, 10, tzinfo=UTC)


def test_publishing_an_empty_collection_is_refused(uow: UnitOfWork) -> None:
    with uow() as db:
        version = make_collection(db, datasets=0, published=False)
        with pytest.raises(PublishRefused, match="no datasets"):
            service.publish(db, collection_version_id=version.id)


def test_publishing_refuses_unfinished_failed_and_mixed_datasets_listing_all(uow: UnitOfWork) -> None:
    with uow() as db:
        version = make_collection(db, datasets=1, published=False)
        service.create_dataset(db, collection_version_id=version.id)  # INITIALIZED
        failed = add_ready_dataset(db, version, title="Broken", schema_version="6.0.0")
        service.set_dataset_status(db, dataset_version_id=failed.id, processing_status="FAILURE")
        with pytest.raises(PublishRefused) as caught:
            service.publish(db, collection_version_id=version.id)
        problems = caught.value.problems
        assert any("is INITIALIZED, not SUCCESS" in p for p in problems)
        assert any("'Broken'" in p and "FAILURE" in p for p in problems)
        assert any("different schema versions (6.0.0, 7.1.0)" in p for p in problems)
        assert db.get(CollectionVersion, version.id).published_at is None


def test_a_dataset_cannot_be_replaced_while_its_previous_version_is_processing(uow: UnitOfWork) -> None:
    with uow() as db:
        version = make_collection(db, datasets=1, published=False)
        dataset_version = version.dataset_versions[0]
        service.set_dataset_status(db, dataset_version_id=dataset_version.id, processing_status="PENDING")
        with pytest.raises(Conflict, match="still being uploaded or processed"):
            service.replace_dataset(db, collection_version_id=version.id, dataset_id=dataset_version.dataset_id)
        service.set_dataset_status(db, dataset_version_id=dataset_version.id, processing_status="FAILURE")
        replacement = service.replace_dataset(
            db, collection_version_id=version.id, dataset_id=dataset_version.dataset_id
        )
        assert replacement.dataset_id == dataset_version.dataset_id


def test_a_withdrawn_collection_cannot_publish_or_revise(uow: UnitOfWork) -> None:
    with uow() as db:
        version = make_collection(db)
        service.withdraw_collection(db, collection_id=version.collection_id, reason="duplicate of another")
        with pytest.raises(Gone, match="duplicate of another"):
            service.start_revision(db, collection_id=version.collection_id)
        with pytest.raises(Gone):
            service.withdraw_collection(db, collection_id=version.collection_id, reason="again")


@pytest.fixture
def failing_dataset_update(session_factory: sessionmaker[Session]) -> Iterator[list[str]]:
    """Makes the database write of one dataset's canonical pointer fail, as a crash or a lost connection would.

    Not a mock: publish runs for real against the real database; a listener raises in the middle of its
    flush, after the collection's own UPDATE has already been sent.
    """
    doomed: list[str] = []

    def fail(_mapper: Any, _connection: Any, target: Dataset) -> None:
        if target.id in doomed:
            raise RuntimeError("simulated failure in the middle of publishing")

    event.listen(Dataset, "before_update", fail)
    yield doomed
    event.remove(Dataset, "before_update", fail)


def test_publish_is_atomic(uow: UnitOfWork, failing_dataset_update: list[str]) -> None:
    with uow() as db:
        v1 = make_collection(db, now=T0)
        first, second = v1.dataset_versions
        revision = service.start_revision(db, collection_id=v1.collection_id)
        replacement = service.replace_dataset(db, collection_version_id=revision.id, dataset_id=first.dataset_id)
        make_ready(db, replacement)
        service.remove_dataset(db, collection_version_id=revision.id, dataset_id=second.dataset_id)
        ids = (v1.collection_id, v1.id, revision.id, first.dataset_id, replacement.id, second.dataset_id)
    collection_id, v1_id, revision_id, first_dataset, replacement_id, second_dataset = ids

    failing_dataset_update.append(first_dataset)
    with pytest.raises(RuntimeError, match="simulated failure"), uow() as db:
        service.publish(db, collection_version_id=revision_id, now=T1)

    with uow() as db:
        collection = db.get(Collection, collection_id)
        assert collection.published_version_id == v1_id and collection.revised_at is None
        assert db.get(CollectionVersion, revision_id).published_at is None
        assert db.get(DatasetVersion, replacement_id).published_at is None
        assert db.get(Dataset, first_dataset).published_version_id == first.id
        assert db.get(Dataset, second_dataset).tombstoned_at is None
        assert service.resolve_dataset(db, second_dataset)[1].id == second.id

    failing_dataset_update.clear()  # the fault is gone: the same publish now succeeds
    with uow() as db:
        service.publish(db, collection_version_id=revision_id, now=T1)
    with uow() as db:
        assert service.resolve_collection(db, collection_id)[1].id == revision_id
        assert service.resolve_dataset(db, first_dataset)[1].id == replacement_id
        with pytest.raises(Gone):
            service.resolve_dataset(db, second_dataset)
