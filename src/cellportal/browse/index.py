"""Keep the browse index current: (re)write the rows of one dataset version or one collection version.

Called by the catalog service when a dataset's metadata is stored and when collection text is written or
published; ``rebuild`` indexes a whole catalog (after an upgrade, or to repair). Writing is idempotent: a
version's rows are replaced, never appended twice.

Every write here, and every catalog change to what a listing may show (publish, withdraw, removing or
replacing a dataset, deleting a version), gives the ``browse_generation`` row a new random token in the
writer's own transaction: database triggers do it (migration 0005), so no writer can forget. The facet
engine compares ``generation`` on every request and reloads its snapshot when the token moved.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from cellportal.browse import terms as rules
from cellportal.browse.models import (
    BrowseCollectionToken,
    BrowseDataset,
    BrowseDatasetToken,
    BrowseGeneration,
    BrowseTerm,
)
from cellportal.catalog.models import CollectionVersion, DatasetVersion

log = logging.getLogger(__name__)


@lru_cache(maxsize=65536)
def ontology_ancestors(term_id: str) -> frozenset[str]:
    """Ancestors from the ontology indexes; none (no roll-up for this term) when the ontology cannot be read."""
    from cellportal.schema.ontology import OntologyError, ontology_index

    try:
        return ontology_index().ancestors(term_id)
    except (OntologyError, OSError) as error:
        log.warning("no ontology ancestors for %s (%s): it will not roll up", term_id, error)
        return frozenset()


@lru_cache(maxsize=65536)
def ontology_label(term_id: str) -> str | None:
    from cellportal.schema.ontology import OntologyError, ontology_index

    try:
        term = ontology_index().term(term_id)
    except (OntologyError, OSError):
        return None
    return term.label if term is not None else None


def dataset_rows(
    dataset_version_id: str,
    metadata: Mapping[str, Any] | None,
    title: str | None,
    *,
    ancestors: rules.Ancestors = ontology_ancestors,
    label_of: rules.Labels = ontology_label,
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """The index rows of one dataset version: (browse_datasets row, browse_terms rows, token rows)."""
    metadata = metadata or {}
    title = title or str(metadata.get("title") or "")
    cells = metadata.get("cell_count")
    dataset = {
        "dataset_version_id": dataset_version_id,
        "title": title,
        "title_sort": title.casefold(),
        "cell_count": int(cells) if isinstance(cells, int | float) and not isinstance(cells, bool) else None,
    }
    facet_rows = [
        {
            "dataset_version_id": dataset_version_id,
            "facet": v.facet,
            "term": v.term,
            "label": v.label,
            "direct": v.direct,
        }
        for v in rules.facet_values(metadata, ancestors, label_of)
    ]
    token_rows = [{"token": t, "dataset_version_id": dataset_version_id} for t in sorted(rules.tokens(title))]
    return dataset, facet_rows, token_rows


def collection_token_rows(version: CollectionVersion) -> list[dict[str, Any]]:
    texts = rules.collection_texts(
        version.name, version.description, version.doi, version.consortia, version.publisher_metadata
    )
    return [{"token": t, "collection_version_id": version.id} for t in sorted(rules.tokens(*texts))]


def generation(session: Session) -> str:
    """The current generation token, as this session's transaction sees it."""
    return session.scalar(select(BrowseGeneration.token).where(BrowseGeneration.id == 1)) or ""


def index_dataset_version(session: Session, version: DatasetVersion) -> None:
    """(Re)write a dataset version's rows from its extracted metadata."""
    dataset, facet_rows, token_rows = dataset_rows(version.id, version.dataset_metadata, version.title)
    session.flush()  # the version row must exist before rows that reference it
    for table in (BrowseTerm, BrowseDatasetToken, BrowseDataset):
        session.execute(delete(table).where(table.dataset_version_id == version.id))
    session.execute(insert(BrowseDataset), [dataset])
    if facet_rows:
        session.execute(insert(BrowseTerm), facet_rows)
    if token_rows:
        session.execute(insert(BrowseDatasetToken), token_rows)


def index_collection_version(session: Session, version: CollectionVersion) -> None:
    """(Re)write a collection version's search words (name, description, DOI, authors, consortia)."""
    session.flush()
    session.execute(delete(BrowseCollectionToken).where(BrowseCollectionToken.collection_version_id == version.id))
    rows = collection_token_rows(version)
    if rows:
        session.execute(insert(BrowseCollectionToken), rows)


def rebuild(session: Session) -> tuple[int, int]:
    """Index every collection version and every dataset version that has metadata; (collections, datasets)."""
    collections = datasets = 0
    for version in session.scalars(select(CollectionVersion)).all():
        index_collection_version(session, version)
        collections += 1
    for dataset_version in session.scalars(select(DatasetVersion)).all():
        if dataset_version.dataset_metadata:  # JSON null and SQL NULL alike: nothing extracted yet
            index_dataset_version(session, dataset_version)
            datasets += 1
    return collections, datasets
