"""The browse index in memory: every listable dataset version as numpy arrays, read with plain column selects.

A `Snapshot` holds what facets, search, ranges and pages need for every *listable* row, whoever may see it:
the listed version of each live collection (its published version, or a never-published collection's only
version) and its datasets that are not tombstoned. Who may see which collection is decided per request, in
SQL (`cellportal.browse.engine`); the snapshot never decides visibility.

Layout (n rows, one per listed dataset version, grouped by collection):

- per row: collection code, cell count, publication time (microseconds since 1970, UTC), and its rank in
  the database's own ORDER BY for the sort keys (title, dataset version id), so pages sort exactly as SQL did
  under any collation;
- per collection (its code is its rank by id): id, listed version id, original publication time, rank by
  name;
- facet postings: a terms x rows CSR matrix (terms ordered by facet, rows sorted within a term, so with rows
  grouped by collection the collections of one term's rows come in order), and a second one of the rows
  annotated with the term itself (``direct``, not only as an ontology ancestor);
- search: the sorted distinct words of titles (postings: rows) and of collection texts (postings:
  collections), for prefix lookups by bisection.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import chain
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from cellportal.browse.models import BrowseCollectionToken, BrowseDataset, BrowseDatasetToken, BrowseTerm
from cellportal.browse.terms import FACETS
from cellportal.catalog.models import Collection, CollectionVersion, CollectionVersionDataset, Dataset, DatasetVersion

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NO_TIME = 0  # a missing publication time; filters and sorts check the has_* arrays first
_AGG_SEPARATOR = ","


def micros(moment: datetime) -> int:
    """Microseconds since 1970 (UTC); naive datetimes are UTC, as the catalog stores them."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // timedelta(microseconds=1)


@dataclass(frozen=True)
class Postings:
    """A CSR matrix of 0/1 without the data array: keys (terms or words) x targets (rows or collections)."""

    indptr: np.ndarray  # int64, len(keys) + 1
    indices: np.ndarray  # int32 targets, sorted within a key
    owner: np.ndarray  # int32: the key of each entry (indptr expanded)

    @staticmethod
    def build(per_key: list[list[int]]) -> Postings:
        lengths = np.fromiter(map(len, per_key), dtype=np.int64, count=len(per_key))
        indptr = np.zeros(len(per_key) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        flat = np.fromiter(chain.from_iterable(per_key), dtype=np.int32, count=int(indptr[-1]))
        owner = np.repeat(np.arange(len(per_key), dtype=np.int32), lengths)
        return Postings(indptr, flat[np.lexsort((flat, owner))], owner)  # targets ascending within a key

    def targets(self, first: int, last: int) -> np.ndarray:
        """The targets of keys first .. last - 1 (contiguous in CSR)."""
        return self.indices[self.indptr[first] : self.indptr[last]]


@dataclass(frozen=True)
class Snapshot:
    token: str  # the browse generation it was read at
    # rows
    dataset_version_ids: list[str]
    collection_version_ids: list[str]
    row_collection: np.ndarray  # int32 collection code, non-decreasing
    cells: np.ndarray  # int64 (0 where unknown)
    has_cells: np.ndarray  # bool
    published: np.ndarray  # int64 microseconds (NO_TIME where unknown)
    has_published: np.ndarray  # bool
    year: np.ndarray  # int32 UTC year of publication (0 where unknown)
    rank_title: np.ndarray  # int32: position in ORDER BY title_sort, dataset_version_id
    rank_id: np.ndarray  # int32: position in ORDER BY dataset_version_id
    # collections
    collection_ids: list[str]
    collection_code: dict[str, int]
    listed_version_ids: list[str]
    originally_published: np.ndarray  # int64 microseconds
    has_originally_published: np.ndarray  # bool
    rank_name: np.ndarray  # int32: position in ORDER BY lower(name), collection id
    # facets
    term_keys: list[tuple[str, str]]  # (facet, term), grouped by facet in FACETS order
    term_code: dict[tuple[str, str], int]
    labels: list[str]
    facet_terms: dict[str, tuple[int, int]]  # facet -> its term codes first .. last - 1
    terms: Postings  # terms x rows
    direct: Postings  # terms x rows annotated with the term itself
    # search
    title_words: list[str]
    title_postings: Postings  # words x rows
    collection_words: list[str]
    collection_postings: Postings  # words x collections

    @property
    def size(self) -> int:
        return len(self.dataset_version_ids)


def _listed_version() -> ColumnElement[bool]:
    """The listed version of a live collection: its published version, or a never-published one's only version."""
    return and_(
        or_(Collection.published_version_id == CollectionVersion.id, Collection.published_version_id.is_(None)),
        Collection.tombstoned_at.is_(None),
    )


def _listable_collections(session: Session) -> list[Any]:
    """(collection id, listed version id, originally_published_at) of live collections, by lower(name), id."""
    query = (
        select(Collection.id, CollectionVersion.id, Collection.originally_published_at)
        .join(CollectionVersion, CollectionVersion.collection_id == Collection.id)
        .where(_listed_version())
        .order_by(func.lower(CollectionVersion.name), Collection.id)
    )
    return list(session.execute(query))


def _listable_rows(session: Session) -> list[Any]:
    """(dataset version, collection, collection version, cells, published_at) of every listable row, by title."""
    query = (
        select(
            BrowseDataset.dataset_version_id,
            Collection.id,
            CollectionVersion.id,
            BrowseDataset.cell_count,
            Dataset.published_at,
        )
        .join(CollectionVersionDataset, CollectionVersionDataset.dataset_version_id == BrowseDataset.dataset_version_id)
        .join(CollectionVersion, CollectionVersion.id == CollectionVersionDataset.collection_version_id)
        .join(Collection, Collection.id == CollectionVersion.collection_id)
        .join(DatasetVersion, DatasetVersion.id == BrowseDataset.dataset_version_id)
        .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
        .where(_listed_version(), Dataset.tombstoned_at.is_(None))
        .order_by(BrowseDataset.title_sort, BrowseDataset.dataset_version_id)
    )
    return list(session.execute(query))


def _aggregated(session: Session, *, direct: bool) -> list[Any]:
    """(facet, term, "dv,dv,...") per term: one row per term, read from an index alone."""
    dialect = session.get_bind().dialect.name
    joined = (
        func.group_concat(BrowseTerm.dataset_version_id, _AGG_SEPARATOR)
        if dialect == "sqlite"
        else func.string_agg(BrowseTerm.dataset_version_id, _AGG_SEPARATOR)
    )
    query = select(BrowseTerm.facet, BrowseTerm.term, joined).group_by(BrowseTerm.facet, BrowseTerm.term)
    if direct:
        query = query.where(BrowseTerm.direct)  # matches the partial index ix_browse_terms_direct
    return list(session.execute(query))


def _labels(session: Session) -> dict[tuple[str, str], str]:
    """One label per (facet, term), as the SQL facet queries named an unmatched chosen term (any row's label)."""
    pairs = select(BrowseTerm.facet, BrowseTerm.term).distinct().subquery("pairs")
    other = BrowseTerm.__table__.alias("other")
    label = (
        select(other.c.label)
        .where(other.c.facet == pairs.c.facet, other.c.term == pairs.c.term)
        .limit(1)
        .scalar_subquery()
    )
    found = session.execute(select(pairs.c.facet, pairs.c.term, label))
    return {(facet, term): name or term for facet, term, name in found}


def _words(rows: list[Any], code: dict[str, int]) -> tuple[list[str], Postings]:
    per_word: dict[str, list[int]] = {}
    for word, owner in rows:
        target = code.get(owner)
        if target is not None:
            per_word.setdefault(word, []).append(target)
    words = sorted(per_word)  # code point order: prefix ranges are bisected in Python, not compared in SQL
    return words, Postings.build([per_word[w] for w in words])


def load(session: Session, token: str) -> Snapshot:
    """Read the snapshot in this session's transaction (`token` read first, so the data is never older)."""
    collections = _listable_collections(session)
    # Collection codes follow the order of collection ids, so a code is its rank by id (no array). Ids are
    # UUIDs (lower-case hex, dashes in the same places): Python's order is the database's under any collation.
    by_id = sorted(range(len(collections)), key=lambda i: collections[i][0])
    order = {collections[i][0]: code for code, i in enumerate(by_id)}
    collection_ids = [collections[i][0] for i in by_id]
    listed_version_ids = [collections[i][1] for i in by_id]
    rank_name = np.empty(len(collections), dtype=np.int32)
    for position, row in enumerate(collections):
        rank_name[order[row[0]]] = position
    original = [collections[i][2] for i in by_id]
    originally_published = np.array([micros(t) if t else NO_TIME for t in original], dtype=np.int64)

    rows = _listable_rows(session)
    # Rows grouped by collection code (stable: by title within a collection); rank_title is the SQL order.
    row_collection = np.fromiter((order[r[1]] for r in rows), dtype=np.int32, count=len(rows))
    permutation = np.argsort(row_collection, kind="stable")
    rank_title = permutation.astype(np.int32)  # row j was row permutation[j] of the title-ordered result
    rows = [rows[i] for i in permutation]
    row_collection = row_collection[permutation]
    dataset_version_ids = [r[0] for r in rows]
    row_of = {dv: i for i, dv in enumerate(dataset_version_ids)}
    id_order = sorted(range(len(rows)), key=lambda i: dataset_version_ids[i])
    rank_id = np.empty(len(rows), dtype=np.int32)
    rank_id[np.array(id_order, dtype=np.int64)] = np.arange(len(rows), dtype=np.int32)
    has_cells = np.array([r[3] is not None for r in rows], dtype=bool)
    cells = np.array([r[3] or 0 for r in rows], dtype=np.int64)
    has_published = np.array([r[4] is not None for r in rows], dtype=bool)
    published = np.array([micros(r[4]) if r[4] else NO_TIME for r in rows], dtype=np.int64)
    year = np.array([r[4].astimezone(UTC).year if r[4] else 0 for r in rows], dtype=np.int32)

    # Facet postings, terms grouped by facet in FACETS order.
    facet_rank = {facet: i for i, facet in enumerate(FACETS)}
    aggregated = sorted(_aggregated(session, direct=False), key=lambda r: (facet_rank.get(r[0], len(FACETS)), r[1]))
    term_keys = [(facet, term) for facet, term, _ in aggregated if facet in facet_rank]
    term_code = {key: i for i, key in enumerate(term_keys)}

    def postings(found: list[Any]) -> Postings:
        per_term: list[list[int]] = [[] for _ in term_keys]
        for facet, term, joined in found:
            code = term_code.get((facet, term))
            if code is None or not joined:
                continue
            per_term[code] = [i for i in map(row_of.get, joined.split(_AGG_SEPARATOR)) if i is not None]
        return Postings.build(per_term)

    facet_terms: dict[str, tuple[int, int]] = {}
    for code, (facet, _) in enumerate(term_keys):
        first, _last = facet_terms.get(facet, (code, code))
        facet_terms[facet] = (first, code + 1)
    for facet in FACETS:
        facet_terms.setdefault(facet, (0, 0))
    labels_of = _labels(session)

    title_words, title_postings = _words(
        list(session.execute(select(BrowseDatasetToken.token, BrowseDatasetToken.dataset_version_id))), row_of
    )
    version_code = {version: code for code, version in enumerate(listed_version_ids)}
    collection_words, collection_postings = _words(
        list(session.execute(select(BrowseCollectionToken.token, BrowseCollectionToken.collection_version_id))),
        version_code,
    )
    return Snapshot(
        token=token,
        dataset_version_ids=dataset_version_ids,
        collection_version_ids=[r[2] for r in rows],
        row_collection=row_collection,
        cells=cells,
        has_cells=has_cells,
        published=published,
        has_published=has_published,
        year=year,
        rank_title=rank_title,
        rank_id=rank_id,
        collection_ids=collection_ids,
        collection_code=order,
        listed_version_ids=listed_version_ids,
        originally_published=originally_published,
        has_originally_published=np.array([t is not None for t in original], dtype=bool),
        rank_name=rank_name,
        term_keys=term_keys,
        term_code=term_code,
        labels=[labels_of.get(key, key[1]) for key in term_keys],
        facet_terms=facet_terms,
        terms=postings(aggregated),
        direct=postings(_aggregated(session, direct=True)),
        title_words=title_words,
        title_postings=title_postings,
        collection_words=collection_words,
        collection_postings=collection_postings,
    )
