"""The pure rules of the browse index: facet values with ancestors, and search words."""

from __future__ import annotations

from cellportal.browse.terms import collection_texts, facet_values, query_tokens, tokens

ANCESTORS = {"UBERON:0000956": {"UBERON:0000955", "UBERON:0000062"}, "UBERON:0000955": {"UBERON:0000062"}}
LABELS = {"UBERON:0000955": "brain", "UBERON:0000062": "organ"}


def _values(metadata: dict) -> dict[tuple[str, str], tuple[str, bool]]:
    found = facet_values(metadata, lambda t: ANCESTORS.get(t, ()), LABELS.get)
    return {(v.facet, v.term): (v.label, v.direct) for v in found}


def test_rollup_facets_carry_ancestors_and_others_do_not() -> None:
    values = _values(
        {
            "tissue": [{"label": "cerebral cortex", "ontology_term_id": "UBERON:0000956"}],
            "disease": [{"label": "cortex thing", "ontology_term_id": "UBERON:0000956"}],
            "suspension_type": ["nucleus"],
        }
    )
    assert values == {
        ("tissue", "UBERON:0000956"): ("cerebral cortex", True),
        ("tissue", "UBERON:0000955"): ("brain", False),
        ("tissue", "UBERON:0000062"): ("organ", False),
        ("disease", "UBERON:0000956"): ("cortex thing", True),  # disease does not roll up: no ancestors
        ("suspension_type", "nucleus"): ("nucleus", True),
    }


def test_an_annotated_term_that_is_also_an_ancestor_stays_direct() -> None:
    values = _values(
        {
            "tissue": [
                {"label": "cerebral cortex", "ontology_term_id": "UBERON:0000956"},
                {"label": "brain", "ontology_term_id": "UBERON:0000955"},
            ]
        }
    )
    assert values[("tissue", "UBERON:0000955")] == ("brain", True)
    assert values[("tissue", "UBERON:0000062")] == ("organ", False)


def test_missing_and_malformed_metadata_give_no_values() -> None:
    assert _values({}) == {}
    assert _values({"tissue": None, "organism": [{"label": "x"}], "sex": "female"}) == {
        ("sex", "female"): ("female", True)
    }


def test_tokens_fold_case_accents_and_punctuation() -> None:
    assert tokens("Müller & Smith: single-cell ATLAS", None, "10.1016/j.cell.2021") == {
        "muller",
        "smith",
        "single",
        "cell",
        "atlas",
        "10",
        "1016",
        "j",
        "2021",
    }
    assert query_tokens("  Cell  atlas cell ") == ["atlas", "cell"]
    assert query_tokens("") == [] and query_tokens("—") == []


def test_collection_texts_include_authors_journal_doi_and_consortia() -> None:
    texts = collection_texts(
        "Lung atlas",
        "desc",
        "10.1/x",
        ["HCA"],
        {"authors": [{"family": "Teichmann", "given": "S."}, {"name": "LungMAP Consortium"}], "journal": "Nature"},
    )
    assert {"teichmann", "lungmap", "nature", "hca", "10", "1", "x", "lung"} <= tokens(*texts)
