"""The facet engine: facets, search, ranges and pages answered with numpy over an in-memory `Snapshot`.

Per request:

1. Freshness: one tiny query per transaction (again after a write in it) reads the browse generation token
   (``browse.index.generation``). A snapshot built at another token is never used: the request reloads it
   (``snapshot.load``, about a second at 10,000 datasets) under a per-database lock, so one thread loads
   while the others *wait* for it, then use it. Writers change the token in the transaction that changes
   what listings may show, so the first request after that commit already answers from the new state.
2. Visibility: the ids of the collections this principal may see come from SQL, through
   ``visible_collections_clause(principal)`` (the one place the policy lives), and become a mask over rows.
3. Filters: one boolean mask per facet with a choice, per search word, for the cell range and for the
   publication dates. Disjunctive facet counts apply every mask but their own facet's.

Nothing here decides who may see what: a row is counted only when its collection came back from step 2.
"""

from __future__ import annotations

import threading
import weakref
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import ORMExecuteState, Session

from cellportal.auth.policy import Principal
from cellportal.auth.visibility import visible_collections_clause
from cellportal.browse import index, snapshot
from cellportal.browse.selection import Selection
from cellportal.browse.snapshot import Postings, Snapshot, micros
from cellportal.browse.terms import FACETS, query_tokens
from cellportal.catalog.models import Collection

_HELD_KEY = "cellportal.browse.held"
_KEEP = 2  # snapshots kept per database: a request still reading the previous token need not reload


class _Cache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.snapshots: dict[str, Snapshot] = {}


_caches: weakref.WeakKeyDictionary[Engine, _Cache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def _held(session: Session) -> dict[Any, Any]:
    """What this transaction has already asked (the token, visible rows); a new transaction starts empty, and
    a write in this one empties it (`_wrote`), so a transaction that changes the catalog reads its own change."""
    transaction = session.get_transaction()
    held = session.info.get(_HELD_KEY)
    if held is None or transaction is None or held[0] is not transaction:
        held = session.info[_HELD_KEY] = (transaction, {})
    return held[1]


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _context: object) -> None:
    session.info.pop(_HELD_KEY, None)


@event.listens_for(Session, "do_orm_execute")
def _wrote(state: ORMExecuteState) -> None:
    if not state.is_select:  # an UPDATE, DELETE, INSERT or text(): the triggers may have moved the token
        state.session.info.pop(_HELD_KEY, None)


def current(session: Session) -> Snapshot:
    """The snapshot at the generation this transaction sees, loading it (once, under a lock) if need be.
    A page asks several questions (rows, facets, ranges, cards): the token is read once per transaction."""
    token = _held(session).get("token")
    if token is None:
        token = index.generation(session)
        _held(session)["token"] = token  # after the read: it began the transaction the token belongs to
    engine = session.get_bind().engine
    with _caches_lock:
        cache = _caches.setdefault(engine, _Cache())
    found = cache.snapshots.get(token)
    if found is not None:
        return found
    with cache.lock:  # one loader per database; the others wait here, then find its snapshot
        found = cache.snapshots.get(token)
        if found is None:
            found = snapshot.load(session, token)
            cache.snapshots = {**dict(list(cache.snapshots.items())[-(_KEEP - 1) :]), token: found}
    return found


@dataclass(frozen=True)
class View:
    """One request's rows: the snapshot, the rows this principal may see, and the selection's masks."""

    snap: Snapshot
    visible: np.ndarray
    masks: dict[str, np.ndarray]  # "facet:<name>", "q", "cells", "published"

    def matching(self, *, skip: str | None = None) -> np.ndarray:
        """Visible rows passing every filter but ``skip`` (a facet name, "cells" or "published")."""
        result = self.visible.copy()
        for name, mask in self.masks.items():
            if name not in (f"facet:{skip}", skip):
                result &= mask
        return result


def view(session: Session, principal: Principal, selection: Selection | None = None) -> View:
    snap = current(session)
    return View(snap, _visible_rows(session, principal, snap), _masks(snap, selection) if selection else {})


def _visible_rows(session: Session, principal: Principal, snap: Snapshot) -> np.ndarray:
    """The rows of collections `principal` may see, asked once per transaction (`_held`)."""
    kept = _held(session)
    key = ("visible", principal, snap.token)
    if key not in kept:
        ids = session.scalars(select(Collection.id).where(visible_collections_clause(principal)))
        allowed = np.zeros(len(snap.collection_ids), dtype=bool)
        codes = [code for code in map(snap.collection_code.get, ids) if code is not None]
        allowed[np.array(codes, dtype=np.int64)] = True
        kept[key] = allowed[snap.row_collection]
    return kept[key]


def _rows_of(postings: Postings, keys: Iterable[int], size: int) -> np.ndarray:
    mask = np.zeros(size, dtype=bool)
    for key in keys:
        mask[postings.targets(key, key + 1)] = True
    return mask


def _prefix_range(words: list[str], word: str) -> tuple[int, int]:
    """The words starting with ``word``: the same range the SQL search used (word <= w < word's successor)."""
    return bisect_left(words, word), bisect_left(words, word[:-1] + chr(ord(word[-1]) + 1))


def _masks(snap: Snapshot, selection: Selection) -> dict[str, np.ndarray]:
    size = snap.size
    masks: dict[str, np.ndarray] = {}
    for facet in FACETS:
        chosen = selection.chosen(facet)
        if chosen:
            codes = [c for c in (snap.term_code.get((facet, t)) for t in chosen) if c is not None]
            masks[f"facet:{facet}"] = _rows_of(snap.terms, codes, size)
    for number, word in enumerate(query_tokens(selection.q)):
        first, last = _prefix_range(snap.title_words, word)
        found = np.zeros(size, dtype=bool)
        found[snap.title_postings.targets(first, last)] = True
        first, last = _prefix_range(snap.collection_words, word)
        in_collection = np.zeros(len(snap.collection_ids), dtype=bool)
        in_collection[snap.collection_postings.targets(first, last)] = True
        masks[f"q{number}"] = found | in_collection[snap.row_collection]
    cells = np.ones(size, dtype=bool)
    if selection.cells_min is not None:
        cells &= snap.has_cells & (snap.cells >= selection.cells_min)
    if selection.cells_max is not None:
        cells &= snap.has_cells & (snap.cells <= selection.cells_max)
    if selection.cells_min is not None or selection.cells_max is not None:
        masks["cells"] = cells
    if selection.published_from is not None or selection.published_to is not None:
        published = snap.has_published.copy()
        if selection.published_from is not None:
            published &= snap.published >= micros(datetime.combine(selection.published_from, time.min, tzinfo=UTC))
        if selection.published_to is not None:
            end = datetime.combine(selection.published_to + timedelta(days=1), time.min, tzinfo=UTC)
            published &= snap.published < micros(end)
        masks["published"] = published
    return masks


# --- counting --------------------------------------------------------------------------------------------


def distinct_runs(groups: np.ndarray, keys: np.ndarray | None = None) -> np.ndarray:
    """1 where an entry starts a new (key, group) run: counts distinct groups per key over sorted entries."""
    starts = np.ones(len(groups), dtype=bool)
    if len(groups) > 1:
        starts[1:] = groups[1:] != groups[:-1]
        if keys is not None:
            starts[1:] |= keys[1:] != keys[:-1]
    return starts


def term_counts(snap: Snapshot, postings: Postings, facet: str, rows: np.ndarray, *, by: str) -> tuple[int, np.ndarray]:
    """(first term code, counts per term of the facet) over the rows in the mask: datasets or collections."""
    first, last = snap.facet_terms[facet]
    lo, hi = postings.indptr[first], postings.indptr[last]
    targets = postings.indices[lo:hi]
    keep = rows[targets]
    owners = postings.owner[lo:hi][keep] - first
    if by == "collections":
        # Within a term, rows ascend and rows are grouped by collection: a collection's rows are one run.
        weights = distinct_runs(snap.row_collection[targets[keep]], owners)
        return first, np.bincount(owners, weights=weights, minlength=last - first).astype(np.int64)
    return first, np.bincount(owners, minlength=last - first)


def count_rows(snap: Snapshot, rows: np.ndarray, *, by: str) -> int:
    if by == "collections":
        return int(np.count_nonzero(distinct_runs(snap.row_collection[rows]))) if rows.any() else 0
    return int(np.count_nonzero(rows))
