"""Faceted browse and full-text search over the browse index, in SQL, through the visibility clause.

Every list, count and facet starts from `listed`, which joins the index to the live catalog: the listed
version of each collection (its published version, or a never-published collection's only version),
without tombstoned collections or datasets, and only collections `visible_collections_clause(principal)`
lets this principal see. Nothing here can count a row the principal may not see.

Facet counts are "disjunctive": the counts of one facet apply every *other* selected filter, so ticking a
second organism shows how many more datasets it adds, as readers of faceted search expect.

Search: every word of the query must match, as the prefix of a word of the dataset's title or of its
collection's name, description, authors, DOI or consortia. Words live in a plain token table, so the same
query runs on SQLite (a range over the primary key) and PostgreSQL (LIKE over a text_pattern_ops index).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    case,
    distinct,
    extract,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import Subquery

from cellportal.auth.policy import Principal
from cellportal.auth.visibility import visible_collections_clause
from cellportal.browse.models import BrowseCollectionToken, BrowseDataset, BrowseDatasetToken, BrowseTerm
from cellportal.browse.selection import PAGE_SIZE, Selection
from cellportal.browse.terms import FACETS, query_tokens
from cellportal.catalog.models import (
    Collection,
    CollectionVersion,
    CollectionVersionDataset,
    Dataset,
    DatasetVersion,
)

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


# --- the listed rows and the filters ---------------------------------------------------------------------


def listed(principal: Principal) -> Select[Any]:
    """Every dataset version a listing may show this principal, with the columns sorting and counting need."""
    return (
        select(
            BrowseDataset.dataset_version_id.label("dataset_version_id"),
            Collection.id.label("collection_id"),
            CollectionVersion.id.label("collection_version_id"),
            BrowseDataset.title_sort.label("title_sort"),
            BrowseDataset.cell_count.label("cell_count"),
            Dataset.published_at.label("published_at"),
        )
        .join(CollectionVersionDataset, CollectionVersionDataset.dataset_version_id == BrowseDataset.dataset_version_id)
        .join(CollectionVersion, CollectionVersion.id == CollectionVersionDataset.collection_version_id)
        .join(Collection, Collection.id == CollectionVersion.collection_id)
        .join(DatasetVersion, DatasetVersion.id == BrowseDataset.dataset_version_id)
        .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
        .where(
            or_(
                Collection.published_version_id == CollectionVersion.id,
                Collection.published_version_id.is_(None),
            ),
            Collection.tombstoned_at.is_(None),
            visible_collections_clause(principal),
            Dataset.tombstoned_at.is_(None),
        )
    )


def _prefix(column: Any, word: str, dialect: str) -> ColumnElement[bool]:
    if dialect == "postgresql":
        # LIKE 'word%' over a text_pattern_ops index; the words are [0-9a-z], so nothing needs escaping.
        return column.like(f"{word}%")
    # SQLite: a range over the (token, ...) primary key; byte order (BINARY collation) makes it exact.
    return and_(column >= word, column < word[:-1] + chr(ord(word[-1]) + 1))


def _filters(selection: Selection, dialect: str, *, skip: str | None = None) -> list[ColumnElement[bool]]:
    """The WHERE clauses of a selection over `listed`, leaving out facet `skip` (for its own counts)."""
    clauses: list[ColumnElement[bool]] = []
    for facet in FACETS:
        chosen = selection.chosen(facet)
        if not chosen or facet == skip:
            continue
        having = select(BrowseTerm.dataset_version_id).where(BrowseTerm.facet == facet, BrowseTerm.term.in_(chosen))
        clauses.append(BrowseDataset.dataset_version_id.in_(having))
    for word in query_tokens(selection.q):
        in_title = select(BrowseDatasetToken.dataset_version_id).where(_prefix(BrowseDatasetToken.token, word, dialect))
        in_collection = select(BrowseCollectionToken.collection_version_id).where(
            _prefix(BrowseCollectionToken.token, word, dialect)
        )
        clauses.append(or_(BrowseDataset.dataset_version_id.in_(in_title), CollectionVersion.id.in_(in_collection)))
    if skip != "cells":
        if selection.cells_min is not None:
            clauses.append(BrowseDataset.cell_count >= selection.cells_min)
        if selection.cells_max is not None:
            clauses.append(BrowseDataset.cell_count <= selection.cells_max)
    if skip != "published":
        if selection.published_from is not None:
            start = datetime.combine(selection.published_from, time.min, tzinfo=UTC)
            clauses.append(Dataset.published_at >= start)
        if selection.published_to is not None:
            end = datetime.combine(selection.published_to + timedelta(days=1), time.min, tzinfo=UTC)
            clauses.append(Dataset.published_at < end)
    return clauses


def matching(session: Session, principal: Principal, selection: Selection, *, skip: str | None = None) -> Subquery:
    dialect = session.get_bind().dialect.name
    return listed(principal).where(*_filters(selection, dialect, skip=skip)).subquery("matching")


# --- results ---------------------------------------------------------------------------------------------


def dataset_page(session: Session, principal: Principal, selection: Selection, page_size: int = PAGE_SIZE) -> Page:
    rows = matching(session, principal, selection)
    order = {
        "title": (rows.c.title_sort.asc(),),
        "cells": (rows.c.cell_count.is_(None), rows.c.cell_count.desc()),
        "published": (rows.c.published_at.is_(None), rows.c.published_at.desc(), rows.c.title_sort.asc()),
    }[selection.sort]
    total = session.scalar(select(func.count()).select_from(rows)) or 0
    found = session.execute(
        select(rows.c.dataset_version_id, rows.c.collection_version_id)
        .order_by(*order, rows.c.dataset_version_id)
        .limit(page_size)
        .offset((selection.page - 1) * page_size)
    ).all()
    return Page([tuple(row) for row in found], total, selection.page, page_size)


def _grouped(rows: Subquery) -> Subquery:
    return (
        select(
            rows.c.collection_id,
            # One listed version per collection, so max() just names it.
            func.max(rows.c.collection_version_id).label("collection_version_id"),
            func.coalesce(func.sum(rows.c.cell_count), 0).label("cells"),
            func.count().label("datasets"),
        )
        .group_by(rows.c.collection_id)
        .subquery("grouped")
    )


def collection_page(session: Session, principal: Principal, selection: Selection, page_size: int = PAGE_SIZE) -> Page:
    """Collections with at least one listed dataset matching the selection."""
    grouped = _grouped(matching(session, principal, selection))
    order = {
        "title": (func.lower(CollectionVersion.name).asc(),),
        "cells": (grouped.c.cells.desc(),),
        "published": (
            Collection.originally_published_at.is_(None),
            Collection.originally_published_at.desc(),
            func.lower(CollectionVersion.name).asc(),
        ),
    }[selection.sort]
    total = session.scalar(select(func.count()).select_from(grouped)) or 0
    found = session.execute(
        select(grouped.c.collection_id, CollectionVersion.id, grouped.c.datasets, grouped.c.cells)
        .join(Collection, Collection.id == grouped.c.collection_id)
        .join(CollectionVersion, CollectionVersion.id == grouped.c.collection_version_id)
        .order_by(*order, grouped.c.collection_id)
        .limit(page_size)
        .offset((selection.page - 1) * page_size)
    ).all()
    return Page([tuple(row) for row in found], total, selection.page, page_size)


def collection_summaries(session: Session, principal: Principal, collection_ids: list[str]) -> list[tuple[Any, ...]]:
    """(collection_id, collection_version_id, datasets, cells) of these collections, in the order given."""
    if not collection_ids:
        return []
    rows = listed(principal).where(Collection.id.in_(collection_ids)).subquery("listed")
    grouped = _grouped(rows)
    found = {row[0]: tuple(row) for row in session.execute(select(grouped))}
    return [found[i] for i in collection_ids if i in found]


# --- facet counts ----------------------------------------------------------------------------------------


def facet_counts(
    session: Session, principal: Principal, selection: Selection, *, by: str = "datasets"
) -> dict[str, list[FacetCount]]:
    """Per facet, the values with how many datasets (or collections, ``by="collections"``) each would give.

    A value is offered when some matching dataset is annotated with it, or when it is selected. Roll-up
    facets count a term's datasets including those annotated with its descendants.

    The facets nothing is chosen in all count over the same rows (the whole selection), so they share one
    grouped query; each facet with a choice needs its own, over the selection without that choice.
    """
    unselected = [facet for facet in FACETS if not selection.chosen(facet)]
    counted: dict[str, dict[str, tuple[str, int]]] = {facet: {} for facet in FACETS}
    groups = [(unselected, None)] if unselected else []
    groups += [([facet], facet) for facet in FACETS if selection.chosen(facet)]
    for facets, skip in groups:
        rows = matching(session, principal, selection, skip=skip)
        count = func.count(distinct(rows.c.collection_id)) if by == "collections" else func.count()
        chosen = selection.chosen(skip) if skip else ()
        # Only terms some matching dataset is annotated with (not merely an ancestor of), or chosen ones.
        offered = func.max(case((BrowseTerm.direct, 1), else_=0)) == 1
        query = (
            select(BrowseTerm.facet, BrowseTerm.term, func.max(BrowseTerm.label), count)
            .join(rows, rows.c.dataset_version_id == BrowseTerm.dataset_version_id)
            .where(BrowseTerm.facet.in_(facets))
            .group_by(BrowseTerm.facet, BrowseTerm.term)
            .having(or_(offered, BrowseTerm.term.in_(chosen)) if chosen else offered)
        )
        for facet, term, label, number in session.execute(query):
            counted[facet][term] = (label or term, int(number))
    out: dict[str, list[FacetCount]] = {}
    for facet in FACETS:
        chosen_terms = set(selection.chosen(facet))
        values = [
            FacetCount(term, label, number, term in chosen_terms) for term, (label, number) in counted[facet].items()
        ]
        values += [
            FacetCount(term, _label(session, facet, term), 0, True)
            for term in sorted(chosen_terms - counted[facet].keys())
        ]
        values.sort(key=lambda v: (not v.selected, -v.count, v.label.casefold()))
        out[facet] = values
    return out


def _label(session: Session, facet: str, term: str) -> str:
    found = session.scalar(select(BrowseTerm.label).where(BrowseTerm.facet == facet, BrowseTerm.term == term).limit(1))
    return found or term


def cell_count_ranges(
    session: Session, principal: Principal, selection: Selection, *, by: str = "datasets"
) -> list[RangeCount]:
    rows = matching(session, principal, selection, skip="cells")
    columns = []
    for _, low, high in CELL_BUCKETS:
        inside = rows.c.cell_count >= low if high is None else rows.c.cell_count.between(low, high)
        if by == "collections":
            columns.append(func.count(distinct(case((inside, rows.c.collection_id)))))
        else:
            columns.append(func.sum(case((inside, 1), else_=0)))
    counts = session.execute(select(*columns).select_from(rows)).one()
    return [
        RangeCount(label, low, high, int(count or 0))
        for (label, low, high), count in zip(CELL_BUCKETS, counts, strict=True)
    ]


def publication_years(
    session: Session, principal: Principal, selection: Selection, *, by: str = "datasets"
) -> list[RangeCount]:
    rows = matching(session, principal, selection, skip="published")
    year = extract("year", rows.c.published_at).cast(Integer)
    counted = func.count(distinct(rows.c.collection_id)) if by == "collections" else func.count()
    query = select(year, counted).where(rows.c.published_at.is_not(None)).group_by(year).order_by(year.desc())
    return [RangeCount(str(y), date(y, 1, 1), date(y, 12, 31), int(c)) for y, c in session.execute(query) if y]


# --- the home page ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Totals:
    collections: int
    datasets: int
    cells: int
    organisms: int
    tissues: int


def totals(session: Session, principal: Principal) -> Totals:
    rows = listed(principal).subquery("listed")
    datasets, cells, collections = session.execute(
        select(func.count(), func.coalesce(func.sum(rows.c.cell_count), 0), func.count(distinct(rows.c.collection_id)))
    ).one()

    def distinct_terms(facet: str) -> int:
        query = select(func.count(distinct(BrowseTerm.term))).join(
            rows, rows.c.dataset_version_id == BrowseTerm.dataset_version_id
        )
        return session.scalar(query.where(BrowseTerm.facet == facet, BrowseTerm.direct.is_(True))) or 0

    return Totals(int(collections), int(datasets), int(cells), distinct_terms("organism"), distinct_terms("tissue"))


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


__all__ = [
    "CELL_BUCKETS",
    "FacetCount",
    "Page",
    "RangeCount",
    "Totals",
    "cell_count_ranges",
    "collection_page",
    "collection_summaries",
    "dataset_page",
    "facet_counts",
    "listed",
    "publication_years",
    "recent_collections",
    "totals",
]
