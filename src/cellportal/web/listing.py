"""Load what the listing pages show, for a page of rows at a time: dataset rows and collection cards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from cellportal.api.discover.present import Presenter, doi_label
from cellportal.browse import queries as browse
from cellportal.catalog.models import CollectionVersion, DatasetVersion
from cellportal.web.reader import DatasetRow, dataset_row


@dataclass(frozen=True)
class CollectionCard:
    id: str
    name: str
    description: str
    doi_label: str | None
    datasets: int
    cells: int
    published_at: datetime | None
    private: bool
    organisms: list[str]
    tissues: list[str]


def dataset_rows(session: Session, present: Presenter, pairs: list[tuple[Any, ...]]) -> list[DatasetRow]:
    """Rows for (dataset_version_id, collection_version_id) pairs, in that order, in three queries."""
    if not pairs:
        return []
    versions = {
        v.id: v
        for v in session.scalars(
            select(DatasetVersion)
            .where(DatasetVersion.id.in_([p[0] for p in pairs]))
            .options(selectinload(DatasetVersion.artifacts), selectinload(DatasetVersion.dataset))
        )
    }
    collections = {
        row.id: row
        for row in session.execute(
            select(CollectionVersion.id, CollectionVersion.collection_id, CollectionVersion.name).where(
                CollectionVersion.id.in_([p[1] for p in pairs])
            )
        )
    }
    return [
        dataset_row(present, versions[dv], collections[cv].collection_id, collections[cv].name) for dv, cv, *_ in pairs
    ]


def collection_cards(session: Session, rows: list[tuple[Any, ...]]) -> list[CollectionCard]:
    if not rows:
        return []
    version_ids = [r[1] for r in rows]
    versions = {
        v.id: v
        for v in session.scalars(
            select(CollectionVersion)
            .where(CollectionVersion.id.in_(version_ids))
            .options(selectinload(CollectionVersion.collection))
        )
    }
    # What the cards name comes from the facet engine's snapshot (in memory), not a join over browse_terms.
    collection_ids = [r[0] for r in rows]
    organisms = browse.annotated_labels(session, collection_ids, "organism")
    tissues = browse.annotated_labels(session, collection_ids, "tissue")
    cards = []
    for collection_id, version_id, datasets, cells in rows:
        version = versions[version_id]
        cards.append(
            CollectionCard(
                id=collection_id,
                name=version.name,
                description=version.description,
                doi_label=doi_label(version.publisher_metadata),
                datasets=int(datasets),
                cells=int(cells or 0),
                published_at=version.collection.originally_published_at,
                private=version.published_at is None,
                organisms=organisms[collection_id],
                tissues=tissues[collection_id],
            )
        )
    return cards
