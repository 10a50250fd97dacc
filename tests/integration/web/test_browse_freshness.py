"""The facet engine never answers from a stale snapshot: a publish, a withdrawal, a removed dataset or an
edited collection text is seen by the very next query, on SQLite and PostgreSQL. Each step commits (one unit
of work, as a request), then the next unit of work asks again: the browse generation the writer's
transaction moved (database triggers) makes the engine reload."""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from cellportal.auth.policy import Principal
from cellportal.browse import engine, queries, snapshot, synthetic
from cellportal.browse.index import generation
from cellportal.browse.selection import Selection
from cellportal.catalog import service
from cellportal.catalog.models import Dataset
from tests.fixtures.database import UnitOfWork
from tests.integration.web import browse_data
from tests.integration.web.browse_data import OWNER, facet_truth

STRANGER = Principal(user_id="someone-else")
OWNER_P = Principal(user_id=OWNER)


def _ids(session: Session, principal: Principal, selection: Selection | None = None) -> set[str]:
    page = queries.dataset_page(session, principal, selection or Selection(), page_size=10_000)
    assert page.total == len(page.rows)
    return {row[0] for row in page.rows}


def _counts(session: Session, principal: Principal) -> dict[str, dict[str, int]]:
    return {
        facet: {v.term: v.count for v in values}
        for facet, values in queries.facet_counts(session, principal, Selection()).items()
    }


def _private_collection(session: Session, name: str, datasets: int = 2) -> tuple[str, list[str]]:
    """A new private collection of OWNER with ready datasets: (collection version id, dataset version ids)."""
    rng = random.Random(name)
    version = service.create_collection(
        session, owner_id=OWNER, name=name, description="", contact_name="Ada", contact_email="ada@example.org"
    )
    ids = []
    for _ in range(datasets):
        dataset = service.create_dataset(session, collection_version_id=version.id, original_filename="x.h5ad")
        browse_data._ready(session, dataset.id, synthetic.dataset_metadata(rng, synthetic.title(rng)))
        ids.append(dataset.id)
    return version.id, ids


def test_unchanged_catalog_reuses_the_snapshot_and_each_principal_sees_only_its_rows(uow: UnitOfWork) -> None:
    with uow() as session:
        catalog = browse_data.build(session, collections=3, seed=21)
    with uow() as session:
        first = engine.current(session)
        assert _ids(session, STRANGER) == {d.dataset_version_id for d in catalog.public}
        assert _ids(session, OWNER_P) == {d.dataset_version_id for d in catalog.visible(owner=True)}
    with uow() as session:
        assert engine.current(session) is first  # answered from memory: nothing changed
        assert _counts(session, STRANGER) == facet_truth(catalog.public, {})
        # The home page's cards: (collection id, listed version id, datasets, cells).
        some = catalog.public[0].collection_id
        members = [d for d in catalog.public if d.collection_id == some]
        summary = queries.collection_summaries(session, STRANGER, [some])
        assert [row[2:] for row in summary] == [(len(members), sum(d.metadata["cell_count"] for d in members))]


def test_a_publish_is_seen_by_the_very_next_query(uow: UnitOfWork) -> None:
    with uow() as session:
        catalog = browse_data.build(session, collections=3, seed=22)
    with uow() as session:
        version_id, new_ids = _private_collection(session, "Zebrafish fin regeneration atlas")
    with uow() as session:
        assert not _ids(session, STRANGER) & set(new_ids)  # private: the owner's only
        assert set(new_ids) <= _ids(session, OWNER_P)
        assert _ids(session, STRANGER, Selection(q="zebrafish fin")) == set()
        before = queries.totals(session, STRANGER)
    with uow() as session:
        service.publish(session, collection_version_id=version_id)
    with uow() as session:
        assert set(new_ids) <= _ids(session, STRANGER)
        assert _ids(session, STRANGER, Selection(q="zebrafish fin")) == set(new_ids)
        after = queries.totals(session, STRANGER)
        assert (after.datasets, after.collections) == (before.datasets + 2, before.collections + 1)
        assert _ids(session, STRANGER) == {d.dataset_version_id for d in catalog.public} | set(new_ids)
    # A revision that adds a dataset: the listed version changes, which only the snapshot knows.
    with uow() as session:
        collection_id = service.resolve_collection(session, version_id)[0].id
        revision = service.start_revision(session, collection_id=collection_id)
        added = service.create_dataset(session, collection_version_id=revision.id, original_filename="y.h5ad")
        rng = random.Random(26)
        browse_data._ready(session, added.id, synthetic.dataset_metadata(rng, synthetic.title(rng)))
    with uow() as session:
        assert added.id not in _ids(session, STRANGER)  # an open revision is not listed
    with uow() as session:
        service.publish(session, collection_version_id=revision.id)
    with uow() as session:
        assert added.id in _ids(session, STRANGER)
        assert queries.totals(session, STRANGER).datasets == after.datasets + 1


def test_a_withdrawal_is_seen_by_the_very_next_query(uow: UnitOfWork) -> None:
    with uow() as session:
        catalog = browse_data.build(session, collections=4, seed=23)
    gone = catalog.public[0].collection_id
    remaining = [d for d in catalog.public if d.collection_id != gone]
    with uow() as session:
        assert _ids(session, STRANGER) == {d.dataset_version_id for d in catalog.public}
    with uow() as session:
        service.withdraw_collection(session, collection_id=gone, reason="Consent was withdrawn")
    with uow() as session:
        assert _ids(session, STRANGER) == {d.dataset_version_id for d in remaining}
        assert _counts(session, STRANGER) == facet_truth(remaining, {})
        collections = queries.collection_page(session, STRANGER, Selection(), page_size=1000)
        assert gone not in {row[0] for row in collections.rows}
        assert queries.collection_summaries(session, STRANGER, [gone]) == []
        # The visibility query already leaves withdrawn collections out, so the lines above would pass on a
        # stale snapshot too; the reload is what drops the collection from the rows.
        assert gone not in engine.current(session).collection_code


def test_withdrawing_or_removing_one_dataset_is_seen_by_the_very_next_query(uow: UnitOfWork) -> None:
    with uow() as session:
        catalog = browse_data.build(session, collections=4, seed=24)
        version_id, private_ids = _private_collection(session, "Axolotl limb atlas", datasets=3)
    by_collection: dict[str, list[browse_data.Listed]] = {}
    for d in catalog.public:
        by_collection.setdefault(d.collection_id, []).append(d)
    victim = next(members[0] for members in by_collection.values() if len(members) >= 2)
    with uow() as session:
        assert victim.dataset_version_id in _ids(session, STRANGER)
        assert set(private_ids) <= _ids(session, OWNER_P)
    with uow() as session:
        service.withdraw_dataset(session, dataset_id=victim.dataset_id, reason="Wrong donor labels")
        service.remove_dataset(
            session,
            collection_version_id=version_id,
            dataset_id=service.resolve_dataset(session, private_ids[0])[0].id,
        )
    with uow() as session:
        assert victim.dataset_version_id not in _ids(session, STRANGER)
        owner_ids = _ids(session, OWNER_P)
        assert private_ids[0] not in owner_ids and set(private_ids[1:]) <= owner_ids
        remaining = [d for d in catalog.public if d is not victim]
        assert _counts(session, STRANGER) == facet_truth(remaining, {})


def test_an_edited_collection_name_is_searchable_at_once(uow: UnitOfWork) -> None:
    with uow() as session:
        version_id, ids = _private_collection(session, "Platypus venom gland")
    with uow() as session:
        assert _ids(session, OWNER_P, Selection(q="platypus")) == set(ids)
    with uow() as session:
        service.update_collection_metadata(session, collection_version_id=version_id, name="Echidna spur gland")
    with uow() as session:
        assert _ids(session, OWNER_P, Selection(q="platypus")) == set()
        assert _ids(session, OWNER_P, Selection(q="echidna")) == set(ids)
        assert [row[0] for row in queries.collection_page(session, OWNER_P, Selection(sort="title")).rows]


def test_any_write_moves_the_generation_even_one_that_bypasses_the_service(uow: UnitOfWork) -> None:
    # The triggers, not the service, move the token: a bulk load or a repair script cannot leave it behind.
    with uow() as session:
        catalog = browse_data.build(session, collections=3, seed=25)
    victim = catalog.public[0]
    with uow() as session:
        token = generation(session)
        assert victim.dataset_version_id in _ids(session, STRANGER)
    with uow() as session:
        session.execute(update(Dataset).where(Dataset.id == victim.dataset_id).values(tombstoned_at=datetime.now(UTC)))
    with uow() as session:
        assert generation(session) != token
        assert victim.dataset_version_id not in _ids(session, STRANGER)


def test_concurrent_requests_after_a_change_load_the_snapshot_once(
    uow: UnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    with uow() as session:
        browse_data.build(session, collections=2, seed=27)
    loads: list[str] = []
    real_load = snapshot.load

    def counted(session: Session, token: str) -> snapshot.Snapshot:
        loads.append(token)
        time.sleep(0.2)  # the others arrive while this one loads
        return real_load(session, token)

    monkeypatch.setattr(snapshot, "load", counted)

    def request() -> snapshot.Snapshot:
        with uow() as session:
            return engine.current(session)

    with ThreadPoolExecutor(max_workers=4) as pool:
        found = list(pool.map(lambda _: request(), range(4)))
    assert len(loads) == 1  # one thread loaded; the others waited for it and used its snapshot
    assert all(each is found[0] for each in found)


def test_a_page_reads_the_token_once_and_a_write_in_the_same_transaction_is_seen(
    uow: UnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    with uow() as session:
        browse_data.build(session, collections=2, seed=28)
        version_id, new_ids = _private_collection(session, "Tardigrade desiccation atlas")
    reads: list[str] = []

    def counted(session: Session) -> str:
        reads.append("token")
        return generation(session)

    monkeypatch.setattr(engine.index, "generation", counted)
    with uow() as session:  # everything /datasets asks, in one transaction
        queries.dataset_page(session, STRANGER, Selection())
        queries.facet_counts(session, STRANGER, Selection())
        queries.cell_count_ranges(session, STRANGER, Selection())
        queries.publication_years(session, STRANGER, Selection())
        assert reads == ["token"]
        assert not _ids(session, STRANGER) & set(new_ids)
        service.publish(session, collection_version_id=version_id)  # the same transaction writes ...
        assert set(new_ids) <= _ids(session, STRANGER)  # ... and reads its own change
        assert len(reads) == 2
    with uow() as session:
        queries.totals(session, STRANGER)
        assert len(reads) == 3  # a new transaction reads it again
