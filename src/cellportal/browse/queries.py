"""Faceted browse and full-text search: what the browse pages and the home page ask, answered by the facet engine.

Every list, count and facet covers the *listed* rows: the listed version of each collection (its published
version, or a never-published collection's only version), without tombstoned collections or datasets, and
only collections `visible_collections_clause(principal)` lets this principal see. The rows live in memory
(`cellportal.browse.snapshot`, reloaded when the browse generation moves); who may see them is asked from
SQL on every request (`cellportal.browse.engine.view`). Nothing here can count a row the principal may not
see.

Facet counts are "disjunctive": the counts of one facet apply every *other* selected filter, so ticking a
second organism shows how many more datasets it adds, as readers of faceted search expect.

Search: every word of the query must match, as the prefix of a word of the dataset's title or of its
collection's name, description, authors, DOI or consortia.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cellportal.auth.policy import Principal
from cellportal.auth.visibility import visible_collections_clause
from cellportal.browse import engine
from cellportal.browse.selection import PAGE_SIZE, Selection
from cellportal.browse.snapshot import Snapshot
from cellportal.browse.terms import FACETS
from cellportal.catalog.models import Collection

# Cell-count buckets offered next to the range inputs: (label, minimum, maximum or None).
CELL_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("under 1,000", 0, 999),
    ("1,000 – 9,999", 1_000, 9_999),
    ("10,000 – 99,999", 10_000, 99_999),
    ("100,000 – 999,999", 100_000, 999_999),
    ("1 million or more", 1_000_000, None),
)


@dataclass(frozen=True)
class FacetCount:
    term: str
    label: str
    count: int
    selected: bool


@dataclass(frozen=True)
class RangeCount:
    label: str
    low: Any
    high: Any
    count: int


@dataclass(frozen=True)
class Page:
    # datasets page: (dataset_version_id, collection_version_id) per row;
    # collections page: (collection_id, collection_version_id, datasets, cells) per row.
    rows: list[tuple[Any, ...]]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


# --- results ---------------------------------------------------------------------------------------------


def dataset_page(session: Session, principal: Principal, selection: Selection, page_size: int = PAGE_SIZE) -> Page:
    """(dataset_version_id, collection_version_id) of one page; ties end in the dataset version id, as in SQL."""
    rows = engine.view(session, principal, selection)
    snap = rows.snap
    found = np.flatnonzero(rows.matching())
    if selection.sort == "title":
        order = np.argsort(snap.rank_title[found], kind="stable")
    elif selection.sort == "cells":  # cells known first, most first
        order = np.lexsort((snap.rank_id[found], -snap.cells[found], ~snap.has_cells[found]))
    else:  # published: dated first, newest first, then by title
        order = np.lexsort((snap.rank_title[found], -snap.published[found], ~snap.has_published[found]))
    start = (selection.page - 1) * page_size
    chosen = found[order[start : start + page_size]]
    out = [(snap.dataset_version_ids[i], snap.collection_version_ids[i]) for i in chosen.tolist()]
    return Page(out, len(found), selection.page, page_size)


def _grouped(snap: Snapshot, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per collection code: (matching datasets, their cells)."""
    codes = snap.row_collection[rows]
    datasets = np.bincount(codes, minlength=len(snap.collection_ids))
    cells = np.zeros(len(snap.collection_ids), dtype=np.int64)
    np.add.at(cells, codes, snap.cells[rows])
    return datasets, cells


def _summary(snap: Snapshot, code: int, datasets: np.ndarray, cells: np.ndarray) -> tuple[Any, ...]:
    return (snap.collection_ids[code], snap.listed_version_ids[code], int(datasets[code]), int(cells[code]))


def collection_page(session: Session, principal: Principal, selection: Selection, page_size: int = PAGE_SIZE) -> Page:
    """Collections with at least one listed dataset matching the selection."""
    rows = engine.view(session, principal, selection)
    snap = rows.snap
    datasets, cells = _grouped(snap, rows.matching())
    found = np.flatnonzero(datasets)
    if selection.sort == "title":
        order = np.argsort(snap.rank_name[found], kind="stable")
    elif selection.sort == "cells":
        order = np.lexsort((found, -cells[found]))  # ties by collection id: a code is its rank by id
    else:  # published: dated first, newest first, then by name
        order = np.lexsort(
            (snap.rank_name[found], -snap.originally_published[found], ~snap.has_originally_published[found])
        )
    start = (selection.page - 1) * page_size
    chosen = found[order[start : start + page_size]]
    return Page([_summary(snap, c, datasets, cells) for c in chosen.tolist()], len(found), selection.page, page_size)


def collection_summaries(session: Session, principal: Principal, collection_ids: list[str]) -> list[tuple[Any, ...]]:
    """(collection_id, collection_version_id, datasets, cells) of these collections, in the order given."""
    if not collection_ids:
        return []
    rows = engine.view(session, principal)
    snap = rows.snap
    datasets, cells = _grouped(snap, rows.visible)
    codes = [snap.collection_code.get(i) for i in collection_ids]
    return [_summary(snap, c, datasets, cells) for c in codes if c is not None and datasets[c]]


# --- facet counts ----------------------------------------------------------------------------------------


def facet_counts(
    session: Session, principal: Principal, selection: Selection, *, by: str = "datasets"
) -> dict[str, list[FacetCount]]:
    """Per facet, the values with how many datasets (or collections, ``by="collections"``) each would give.

    A value is offered when some matching dataset is annotated with it, or when it is selected. Roll-up
    facets count a term's datasets including those annotated with its descendants.

    The facets nothing is chosen in all count over the same rows (the whole selection); each facet with a
    choice counts over the selection without that choice.
    """
    rows = engine.view(session, principal, selection)
    snap = rows.snap
    everything = rows.matching()
    out: dict[str, list[FacetCount]] = {}
    for facet in FACETS:
        chosen_terms = set(selection.chosen(facet))
        matching = rows.matching(skip=facet) if chosen_terms else everything
        first, counts = engine.term_counts(snap, snap.terms, facet, matching, by=by)
        _, annotated = engine.term_counts(snap, snap.direct, facet, matching, by="datasets")
        values: list[FacetCount] = []
        for offset in np.flatnonzero((annotated > 0) | (counts > 0)).tolist():
            term = snap.term_keys[first + offset][1]
            selected = term in chosen_terms
            if annotated[offset] or selected:  # only ancestors of what matched: not offered unless chosen
                values.append(FacetCount(term, snap.labels[first + offset], int(counts[offset]), selected))
        counted = {v.term for v in values}
        values += [FacetCount(term, _label(snap, facet, term), 0, True) for term in sorted(chosen_terms - counted)]
        values.sort(key=lambda v: (not v.selected, -v.count, v.label.casefold()))
        out[facet] = values
    return out


def _label(snap: Snapshot, facet: str, term: str) -> str:
    code = snap.term_code.get((facet, term))
    return snap.labels[code] if code is not None else term


def cell_count_ranges(
    session: Session, principal: Principal, selection: Selection, *, by: str = "datasets"
) -> list[RangeCount]:
    rows = engine.view(session, principal, selection)
    snap = rows.snap
    matching = rows.matching(skip="cells") & snap.has_cells
    out = []
    for label, low, high in CELL_BUCKETS:
        inside = matching & (snap.cells >= low)
        if high is not None:
            inside &= snap.cells <= high
        out.append(RangeCount(label, low, high, engine.count_rows(snap, inside, by=by)))
    return out


def publication_years(
    session: Session, principal: Principal, selection: Selection, *, by: str = "datasets"
) -> list[RangeCount]:
    rows = engine.view(session, principal, selection)
    snap = rows.snap
    matching = rows.matching(skip="published") & snap.has_published
    out = []
    for year in sorted({int(y) for y in np.unique(snap.year[matching])}, reverse=True):
        if year:
            count = engine.count_rows(snap, matching & (snap.year == year), by=by)
            out.append(RangeCount(str(year), date(year, 1, 1), date(year, 12, 31), count))
    return out


# --- the home page ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Totals:
    collections: int
    datasets: int
    cells: int
    organisms: int
    tissues: int


def totals(session: Session, principal: Principal) -> Totals:
    rows = engine.view(session, principal)
    snap = rows.snap
    visible = rows.visible

    def distinct_terms(facet: str) -> int:
        _, annotated = engine.term_counts(snap, snap.direct, facet, visible, by="datasets")
        return int(np.count_nonzero(annotated))

    return Totals(
        engine.count_rows(snap, visible, by="collections"),
        int(np.count_nonzero(visible)),
        int(snap.cells[visible].sum()),
        distinct_terms("organism"),
        distinct_terms("tissue"),
    )


def recent_collections(session: Session, principal: Principal, limit: int = 6) -> list[str]:
    """Canonical ids of the most recently published (or revised) collections this principal may see."""
    moment = func.coalesce(Collection.revised_at, Collection.originally_published_at)
    query = (
        select(Collection.id)
        .where(Collection.published_version_id.is_not(None), visible_collections_clause(principal))
        .order_by(moment.desc(), Collection.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def annotated_labels(session: Session, collection_ids: list[str], facet: str) -> dict[str, list[str]]:
    """Per listed collection, the labels of the `facet` terms its datasets are annotated with (not ancestors),
    sorted: what a collection card names (its organisms, its tissues). The caller has already decided the
    collections may be shown."""
    snap = engine.current(session)
    codes = [snap.collection_code[i] for i in collection_ids if i in snap.collection_code]
    found: dict[str, set[str]] = {i: set() for i in collection_ids}
    if not codes or facet not in snap.facet_terms:
        return {i: sorted(v) for i, v in found.items()}
    first, last = snap.facet_terms[facet]
    start, stop = int(snap.direct.indptr[first]), int(snap.direct.indptr[last])
    rows = snap.direct.indices[start:stop]
    owners = snap.direct.owner[start:stop]
    wanted = np.isin(snap.row_collection[rows], np.asarray(codes, dtype=snap.row_collection.dtype))
    for row, term in zip(rows[wanted].tolist(), owners[wanted].tolist(), strict=True):
        found[snap.collection_ids[int(snap.row_collection[row])]].add(snap.labels[term])
    return {i: sorted(v) for i, v in found.items()}


__all__ = [
    "CELL_BUCKETS",
    "FacetCount",
    "Page",
    "RangeCount",
    "Totals",
    "annotated_labels",
    "cell_count_ranges",
    "collection_page",
    "collection_summaries",
    "dataset_page",
    "facet_counts",
    "publication_years",
    "recent_collections",
    "totals",
]
