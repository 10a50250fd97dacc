"""Create, publish, revise (add, replace, remove), withdraw; ids keep resolving (service on sqlite and postgres)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cellportal.catalog import service
from cellportal.catalog.errors import Gone, InvalidState, NotFound
from cellportal.catalog.models import Collection, Dataset
from tests.fixtures.builders import add_ready_dataset, make_collection, make_ready
from tests.fixtures.database import UnitOfWork

T0 = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
T1 = T0 + timedelta(days=30)
T2 = T0 + timedelta(days=60)


def test_a_new_collection_is_private_and_reachable_by_its_canonical_id(uow: UnitOfWork) -> None:
    with uow() as db:
        version = make_collection(db, published=False)
        collection_id, version_id = version.collection_id, version.id
        dataset_id = version.dataset_versions[0].dataset_id
    with uow() as db:
        collection, resolved = service.resolve_collection(db, collection_id)
        assert resolved.id == version_id and collection.published_version_id is None
        assert resolved.published_at is None and resolved.links[0]["link_type"] == "DOI"
        dataset, dataset_version = service.resolve_dataset(db, dataset_id)
        assert dataset_version.published_at is None and dataset.id == dataset_id
        assert service.published_collections(db) == [] and service.published_datasets(db) == []
        assert [v.id for v in service.unpublished_collections(db, owner_id="curator-1")] == [version_id]


def test_publish_moves_canonical_pointers_and_stamps_dates(uow: UnitOfWork) -> None:
    with uow() as db:
        version = make_collection(db, now=T0)
        version_id, collection_id = version.id, version.collection_id
    with uow() as db:
        collection, resolved = service.resolve_collection(db, collection_id)
        assert resolved.id == version_id
        assert collection.originally_published_at == T0 and collection.revised_at is None
        assert resolved.published_at == T0 and resolved.schema_version == "7.1.0"
        datasets = service.published_datasets(db)
        assert len(datasets) == 2 and all(d.published_at == T0 for d in datasets)
        for dataset_version in datasets:
            dataset, resolved_dataset = service.resolve_dataset(db, dataset_version.dataset_id)
            assert resolved_dataset.id == dataset_version.id and dataset.published_at == T0
            assert {a.type for a in resolved_dataset.artifacts} == {"raw_h5ad", "h5ad", "rds", "loom", "explorer"}
        assert [v.id for v in service.published_collections(db)] == [version_id]
        assert service.unpublished_collections(db) == []


def test_a_revision_replaces_removes_and_adds_and_old_ids_keep_resolving(uow: UnitOfWork) -> None:
    with uow() as db:
        v1 = make_collection(db, now=T0)
        collection_id, v1_id = v1.collection_id, v1.id
        kept, replaced = v1.dataset_versions
        kept_id, replaced_dataset, replaced_v1 = kept.id, replaced.dataset_id, replaced.id
        removed = kept.dataset_id
    with uow() as db:
        v2 = service.start_revision(db, collection_id=collection_id)
        assert [dv.id for dv in v2.dataset_versions] == [kept_id, replaced_v1]  # same versions, same order
        new_version = service.replace_dataset(db, collection_version_id=v2.id, dataset_id=replaced_dataset)
        assert new_version.dataset_id == replaced_dataset and new_version.id != replaced_v1
        assert new_version.processing_status == "INITIALIZED" and new_version.upload_status == "WAITING"
        added = add_ready_dataset(db, v2, title="Added later")
        service.remove_dataset(db, collection_version_id=v2.id, dataset_id=removed)
        v2_id, added_dataset = v2.id, added.dataset_id
    with uow() as db:
        # The open revision is invisible through the canonical id: the permalink still shows v1.
        assert service.resolve_collection(db, collection_id)[1].id == v1_id
        assert service.resolve_dataset(db, replaced_dataset)[1].id == replaced_v1
        # the replacement is processed (the pipeline's job) before the revision can be published
        make_ready(db, service.resolve_dataset(db, new_version.id)[1], title="Replaced")
        service.publish(db, collection_version_id=v2_id, now=T1)
    with uow() as db:
        collection, latest = service.resolve_collection(db, collection_id)
        assert latest.id == v2_id and collection.originally_published_at == T0 and collection.revised_at == T1
        # the version id of v1 still resolves to v1, unchanged, with its two original datasets
        _, old = service.resolve_collection(db, v1_id)
        assert old.published_at == T0 and [dv.id for dv in old.dataset_versions] == [kept_id, replaced_v1]
        assert [v.id for v in service.collection_versions_history(db, collection_id=collection_id)] == [v1_id, v2_id]
        # replaced: canonical id -> new version, old version id -> old version; history lists both
        dataset, current = service.resolve_dataset(db, replaced_dataset)
        assert current.id == new_version.id and dataset.revised_at == T1 and dataset.published_at == T0
        assert service.resolve_dataset(db, replaced_v1)[1].id == replaced_v1
        history = service.dataset_version_history(db, dataset_id=replaced_dataset)
        assert [v.id for v in history] == [replaced_v1, new_version.id]
        # removed: a tombstone with a reason and a date, for the canonical id and its version ids
        for gone_id in (removed, kept_id):
            with pytest.raises(Gone) as caught:
                service.resolve_dataset(db, gone_id)
            assert caught.value.tombstoned_at == T1 and "removed" in caught.value.reason
        assert service.resolve_dataset(db, added_dataset)[1].published_at == T1
        assert {d.dataset_id for d in service.published_datasets(db)} == {replaced_dataset, added_dataset}


def test_replacing_twice_in_one_revision_keeps_only_the_last_version(uow: UnitOfWork) -> None:
    with uow() as db:
        v1 = make_collection(db, datasets=1, now=T0)
        dataset_id, first = v1.dataset_versions[0].dataset_id, v1.dataset_versions[0].id
        v2 = service.start_revision(db, collection_id=v1.collection_id)
        middle = service.replace_dataset(db, collection_version_id=v2.id, dataset_id=dataset_id)
        middle_id = middle.id
        last = service.replace_dataset(db, collection_version_id=v2.id, dataset_id=dataset_id)
        assert [dv.id for dv in v2.dataset_versions] == [last.id]
    with uow() as db:
        with pytest.raises(NotFound):
            service.resolve_dataset(db, middle_id)  # superseded before publication: not listed, not kept
        assert {v.id for v in db.get(Dataset, dataset_id).versions} == {first, last.id}


def test_a_revision_that_changes_only_metadata_keeps_revised_at(uow: UnitOfWork) -> None:
    with uow() as db:
        v1 = make_collection(db, now=T0)
        v2 = service.start_revision(db, collection_id=v1.collection_id)
        service.update_collection_metadata(
            db, collection_version_id=v2.id, name="A better name", doi="", publisher_metadata={"journal": "Cell"}
        )
        service.publish(db, collection_version_id=v2.id, now=T1)
        collection_id = v1.collection_id
    with uow() as db:
        collection, latest = service.resolve_collection(db, collection_id)
        assert (
            latest.name == "A better name" and latest.doi is None and latest.publisher_metadata == {"journal": "Cell"}
        )
        assert collection.revised_at is None and latest.published_at == T1
        _, first = service.resolve_collection(db, v1.id)
        assert first.name == "A lung atlas" and first.doi == "https://doi.org/10.1000/cellportal.test"


def test_withdrawing_tombstones_the_collection_its_versions_and_datasets(uow: UnitOfWork) -> None:
    with uow() as db:
        v1 = make_collection(db, now=T0)
        v2 = service.start_revision(db, collection_id=v1.collection_id)
        service.publish(db, collection_version_id=v2.id, now=T1)
        service.start_revision(db, collection_id=v1.collection_id)  # an open revision is dropped by withdrawal
        ids = [v1.collection_id, v1.id, v2.id]
        dataset_ids = [dv.dataset_id for dv in v1.dataset_versions] + [dv.id for dv in v1.dataset_versions]
    with uow() as db:
        service.withdraw_collection(db, collection_id=ids[0], reason="the paper was retracted", now=T2)
    with uow() as db:
        for gone_id in ids:
            with pytest.raises(Gone) as caught:
                service.resolve_collection(db, gone_id)
            assert caught.value.reason == "the paper was retracted" and caught.value.tombstoned_at == T2
        for gone_id in dataset_ids:
            with pytest.raises(Gone, match="the paper was retracted") as caught:
                service.resolve_dataset(db, gone_id)
            assert caught.value.tombstoned_at == T2
        with pytest.raises(Gone):
            service.collection_versions_history(db, collection_id=ids[0])
        assert service.published_collections(db) == [] and service.published_datasets(db) == []
        assert service.unpublished_collections(db) == []
        # rows stay: a tombstone is a published thing that answers 410, never a deleted row that answers 404
        assert db.get(Collection, ids[0]) is not None


def test_unknown_ids_are_not_found(uow: UnitOfWork) -> None:
    with uow() as db:
        with pytest.raises(NotFound):
            service.resolve_collection(db, "00000000-0000-0000-0000-000000000000")
        with pytest.raises(NotFound):
            service.resolve_dataset(db, "00000000-0000-0000-0000-000000000000")


def test_published_collections_are_listed_most_recently_changed_first(uow: UnitOfWork) -> None:
    with uow() as db:
        old = make_collection(db, name="old", now=T0)
        new = make_collection(db, name="new", now=T1)
        assert [v.id for v in service.published_collections(db)] == [new.id, old.id]
        revision = service.start_revision(db, collection_id=old.collection_id)
        service.remove_dataset(
            db, collection_version_id=revision.id, dataset_id=revision.dataset_versions[0].dataset_id
        )
        service.publish(db, collection_version_id=revision.id, now=T2)
        assert [v.id for v in service.published_collections(db)] == [revision.id, new.id]


def test_withdrawing_one_dataset_publishes_a_revision_without_it(uow: UnitOfWork) -> None:
    with uow() as db:
        v1 = make_collection(db, now=T0)
        withdrawn, kept = v1.dataset_versions
        ids = (v1.collection_id, v1.id, withdrawn.dataset_id, withdrawn.id, kept.dataset_id)
    collection_id, v1_id, withdrawn_dataset, withdrawn_version, kept_dataset = ids
    with uow() as db:
        service.withdraw_dataset(db, dataset_id=withdrawn_dataset, reason="donor consent withdrawn", now=T1)
    with uow() as db:
        collection, latest = service.resolve_collection(db, collection_id)
        assert latest.id != v1_id and [dv.dataset_id for dv in latest.dataset_versions] == [kept_dataset]
        assert collection.revised_at == T1
        for gone_id in (withdrawn_dataset, withdrawn_version):
            with pytest.raises(Gone) as caught:
                service.resolve_dataset(db, gone_id)
            assert caught.value.reason == "donor consent withdrawn" and caught.value.tombstoned_at == T1
        with pytest.raises(InvalidState, match="withdraw the collection instead"):
            service.withdraw_dataset(db, dataset_id=kept_dataset, reason="no")
