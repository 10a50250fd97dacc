"""The browse query layer on SQLite and PostgreSQL: facet counts, roll-up, search, ranges, sorting and
privacy, each checked against brute-force answers computed in Python over the same generated catalog."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from cellportal.auth.policy import Principal
from cellportal.browse import queries
from cellportal.browse.index import rebuild
from cellportal.browse.models import BrowseCollectionToken, BrowseDataset, BrowseDatasetToken, BrowseTerm
from cellportal.browse.selection import Selection
from tests.fixtures.database import UnitOfWork
from tests.integration.web import browse_data
from tests.integration.web.browse_data import OWNER, Catalog, facet_truth, matches

STRANGER = Principal(user_id="someone-else")
OWNER_P = Principal(user_id=OWNER)
BRAIN = "UBERON:0000955"
T_CELL = "CL:0000084"


def _counts(
    session: Session, principal: Principal, selection: Selection, by: str = "datasets"
) -> dict[str, dict[str, int]]:
    return {
        facet: {v.term: v.count for v in values}
        for facet, values in queries.facet_counts(session, principal, selection, by=by).items()
    }


def _all_ids(session: Session, principal: Principal, selection: Selection) -> list[str]:
    page = queries.dataset_page(session, principal, selection, page_size=10_000)
    assert page.total == len(page.rows)
    return [row[0] for row in page.rows]


def test_facets_search_and_rollup_agree_with_brute_force(uow: UnitOfWork) -> None:
    with uow() as session:
        catalog: Catalog = browse_data.build(session)
    public = catalog.public
    some = public[0].metadata
    organism = some["organism"][0]["ontology_term_id"]
    disease = some["disease"][0]["ontology_term_id"]
    word = sorted(public[0].text)[0][:4]  # a prefix of one of its words
    cases = [
        ({}, ""),
        ({"organism": (organism,), "disease": (disease,)}, ""),  # two filters
        ({"organism": (organism,), "disease": (disease, "PATO:0000461")}, ""),  # two values of one facet
        ({"tissue": (BRAIN,)}, ""),  # roll-up
        ({"cell_type": (T_CELL,)}, ""),  # roll-up: CD4/CD8 T cells count as T cells
        ({}, word),  # full text, as a prefix
        ({"tissue": (BRAIN,)}, public[0].metadata["title"].split()[0]),
    ]
    with uow() as session:
        for chosen, query in cases:
            selection = Selection(terms=chosen, q=query)
            for by in ("datasets", "collections"):
                assert _counts(session, STRANGER, selection, by) == facet_truth(public, chosen, query, by=by), (
                    chosen,
                    query,
                    by,
                )
            expected = {d.dataset_version_id for d in public if matches(d, chosen, query)}
            assert set(_all_ids(session, STRANGER, selection)) == expected, (chosen, query)
        # The owner also sees the private collections, in lists and counts alike.
        assert _counts(session, OWNER_P, Selection()) == facet_truth(catalog.visible(owner=True), {})
        assert set(_all_ids(session, OWNER_P, Selection())) == {
            d.dataset_version_id for d in catalog.visible(owner=True)
        }


def test_rollup_finds_descendants_and_counts_them(uow: UnitOfWork) -> None:
    with uow() as session:
        catalog = browse_data.build(session, collections=10, seed=11)
    brainy = [d for d in catalog.public if BRAIN in browse_data.terms_of(d, "tissue")]
    below = [d for d in brainy if BRAIN not in browse_data.direct_terms(d, "tissue")]
    assert below, "the generated data should have datasets annotated only below 'brain' (e.g. cerebral cortex)"
    with uow() as session:
        found = set(_all_ids(session, STRANGER, Selection(terms={"tissue": (BRAIN,)})))
        assert {d.dataset_version_id for d in below} <= found
        assert found == {d.dataset_version_id for d in brainy}
        tissue = {v.term: v.count for v in queries.facet_counts(session, STRANGER, Selection())["tissue"]}
        if BRAIN in tissue:  # offered when some dataset is annotated "brain" itself
            assert tissue[BRAIN] == len(brainy)


def test_private_withdrawn_are_invisible_to_a_stranger(uow: UnitOfWork) -> None:
    with uow() as session:
        catalog = browse_data.build(session)
    private_ids = {d.dataset_version_id for d in catalog.private}
    with uow() as session:
        ids = set(_all_ids(session, STRANGER, Selection()))
        assert not ids & private_ids
        totals = queries.totals(session, STRANGER)
        assert totals.datasets == len(catalog.public)
        assert totals.cells == sum(d.metadata["cell_count"] for d in catalog.public)
        assert totals.collections == len({d.collection_id for d in catalog.public})
        owner = queries.totals(session, OWNER_P)
        assert owner.datasets == len(catalog.public) + len(catalog.private)
        # Search finds a private collection's own words only for its owner.
        public_words = set().union(*(d.text for d in catalog.public))
        private_word = next(
            w for w in sorted(catalog.private[0].text) if not any(t.startswith(w) for t in public_words)
        )
        assert _all_ids(session, STRANGER, Selection(q=private_word)) == []
        assert catalog.private[0].dataset_version_id in _all_ids(session, OWNER_P, Selection(q=private_word))
        # Nothing of the withdrawn collection or dataset anywhere.
        recent = queries.recent_collections(session, STRANGER, limit=100)
        assert catalog.withdrawn_collection_id not in recent
        collections = queries.collection_page(session, STRANGER, Selection(), page_size=1000)
        assert catalog.withdrawn_collection_id not in {row[0] for row in collections.rows}
        assert collections.total == len({d.collection_id for d in catalog.public})


def test_ranges_sorting_and_pages(uow: UnitOfWork) -> None:
    with uow() as session:
        catalog = browse_data.build(session)
    public = catalog.public
    counts = sorted(d.metadata["cell_count"] for d in public)
    low, high = counts[len(counts) // 4], counts[3 * len(counts) // 4]
    with uow() as session:
        ids = set(_all_ids(session, STRANGER, Selection(cells_min=low, cells_max=high)))
        assert ids == {d.dataset_version_id for d in public if low <= d.metadata["cell_count"] <= high}
        buckets = queries.cell_count_ranges(session, STRANGER, Selection())
        assert sum(b.count for b in buckets) == len(public)
        years = {r.label: r.count for r in queries.publication_years(session, STRANGER, Selection())}
        expected_years: dict[str, int] = {}
        for d in public:
            assert d.published_at is not None
            expected_years[str(d.published_at.year)] = expected_years.get(str(d.published_at.year), 0) + 1
        assert years == expected_years
        first = public[0].published_at
        assert first is not None
        since = set(_all_ids(session, STRANGER, Selection(published_from=first.date())))
        assert since == {d.dataset_version_id for d in public if d.published_at and d.published_at >= first}

        by_cells = _all_ids(session, STRANGER, Selection(sort="cells"))
        cells_of = {d.dataset_version_id: d.metadata["cell_count"] for d in public}
        assert [cells_of[i] for i in by_cells] == sorted(cells_of.values(), reverse=True)
        by_title = _all_ids(session, STRANGER, Selection(sort="title"))
        titles = {d.dataset_version_id: d.metadata["title"].casefold() for d in public}
        assert [titles[i] for i in by_title] == sorted(titles.values())

        pages = [
            queries.dataset_page(session, STRANGER, Selection(sort="title", page=n), page_size=4) for n in (1, 2, 3)
        ]
        assert [row[0] for p in pages for row in p.rows] == by_title[:12]
        assert pages[0].pages == -(-len(public) // 4)


def test_rebuild_reproduces_the_index_the_hooks_wrote(uow: UnitOfWork) -> None:
    with uow() as session:
        browse_data.build(session, collections=3, seed=9)
    with uow() as session:
        before = _counts(session, OWNER_P, Selection())
        for table in (BrowseTerm, BrowseDatasetToken, BrowseCollectionToken, BrowseDataset):
            session.execute(delete(table))
    with uow() as session:
        assert _all_ids(session, OWNER_P, Selection()) == []
        collections, datasets = rebuild(session)
        assert collections > 0 and datasets > 0
    with uow() as session:
        assert _counts(session, OWNER_P, Selection()) == before
