"""Browse selections read from the URL, written back to it, and bad values explained."""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qsl, urlsplit

from cellportal.browse.selection import Selection, parse


def _parse_url(url: str) -> Selection:
    selection, errors = parse(parse_qsl(urlsplit(url).query))
    assert errors == []
    return selection


def test_url_round_trip_keeps_every_choice() -> None:
    selection = Selection(
        terms={"tissue": ("UBERON:0000955",), "organism": ("NCBITaxon:9606", "NCBITaxon:10090")},
        q="lung atlas",
        cells_min=1000,
        cells_max=50_000,
        published_from=date(2023, 1, 1),
        published_to=date(2024, 6, 30),
        sort="cells",
        page=3,
    )
    url = selection.url("/datasets", page=3)
    assert _parse_url(url) == selection


def test_changing_a_filter_goes_back_to_page_one_and_toggling_removes_or_adds() -> None:
    selection = Selection(terms={"tissue": ("UBERON:0000955",)}, page=4)
    assert _parse_url(selection.url("/datasets", sort="title")).page == 1
    assert _parse_url(selection.toggled("/datasets", "tissue", "UBERON:0000955")).terms == {}
    added = _parse_url(selection.toggled("/datasets", "tissue", "UBERON:0002048"))
    assert added.terms == {"tissue": ("UBERON:0000955", "UBERON:0002048")}
    assert Selection().url("/datasets") == "/datasets"


def test_bad_values_are_ignored_with_a_sentence_each() -> None:
    selection, errors = parse(
        [("cells_min", "lots"), ("published_from", "31/12/2024"), ("sort", "random"), ("page", "-2"), ("sex", " ")]
    )
    assert selection == Selection()
    assert len(errors) == 4
    assert any("whole number" in e and "'lots'" in e for e in errors)
    assert any("YYYY-MM-DD" in e for e in errors)
    assert any("random" in e and "title" in e for e in errors)
    assert any("Page" in e for e in errors)


def test_reversed_ranges_are_swapped_and_said_so() -> None:
    selection, errors = parse(
        [("cells_min", "5,000"), ("cells_max", "10"), ("published_from", "2025-01-01"), ("published_to", "2020-01-01")]
    )
    assert (selection.cells_min, selection.cells_max) == (10, 5000)
    assert selection.published_from == date(2020, 1, 1)
    assert len(errors) == 2
