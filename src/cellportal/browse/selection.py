"""What a reader chose on a browse page, read from and written back to the URL (shareable, back button works).

Pure: query parameters in, a `Selection` (plus readable errors for values that make no sense) out, and
the URLs of the page with one thing changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from urllib.parse import urlencode

from cellportal.browse.terms import FACETS

SORTS = {
    "published": "Newest first",
    "title": "Title (A-Z)",
    "cells": "Most cells",
}
DEFAULT_SORT = "published"
PAGE_SIZE = 25
MAX_QUERY = 200
MAX_CELLS = 2**62 - 1  # above any real count, and (unlike an unbounded int) fits a 64-bit database integer
MAX_PAGE = 1_000_000


@dataclass(frozen=True)
class Selection:
    terms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # facet -> chosen values (any may match)
    q: str = ""
    cells_min: int | None = None
    cells_max: int | None = None
    published_from: date | None = None
    published_to: date | None = None
    sort: str = DEFAULT_SORT
    page: int = 1

    def chosen(self, facet: str) -> tuple[str, ...]:
        return self.terms.get(facet, ())

    @property
    def filtered(self) -> bool:
        return bool(
            any(self.terms.values())
            or self.q.strip()
            or self.cells_min is not None
            or self.cells_max is not None
            or self.published_from
            or self.published_to
        )

    def params(self) -> list[tuple[str, str]]:
        """The URL parameters that reproduce this selection (defaults left out)."""
        out: list[tuple[str, str]] = []
        for facet in FACETS:
            out.extend((facet, value) for value in self.chosen(facet))
        if self.q:
            out.append(("q", self.q))
        for name in ("cells_min", "cells_max", "published_from", "published_to"):
            value = getattr(self, name)
            if value is not None:
                out.append((name, value.isoformat() if isinstance(value, date) else str(value)))
        if self.sort != DEFAULT_SORT:
            out.append(("sort", self.sort))
        if self.page != 1:
            out.append(("page", str(self.page)))
        return out

    def url(self, path: str, **changes: object) -> str:
        """This selection's URL with some fields changed; any change but ``page`` goes back to page 1."""
        if "page" not in changes:
            changes["page"] = 1
        query = urlencode(replace(self, **changes).params())  # type: ignore[arg-type]
        return f"{path}?{query}" if query else path

    def toggled(self, path: str, facet: str, value: str) -> str:
        """The URL with one facet value switched on or off."""
        current = self.chosen(facet)
        values = tuple(v for v in current if v != value) if value in current else (*current, value)
        return self.url(path, terms={**self.terms, facet: values})


def _int(raw: str, name: str, errors: list[str]) -> int | None:
    raw = raw.strip().replace(",", "").replace("_", "")
    if not raw:
        return None
    if len(raw) > 20:  # longer than any count below MAX_CELLS; int() would refuse beyond 4,300 digits anyway
        errors.append(f"{name} must be at most {MAX_CELLS:,} cells; it was ignored.")
        return None
    try:
        value = int(raw)
    except ValueError:
        errors.append(f"{name} must be a whole number of cells, like 10000 (got {raw!r}); it was ignored.")
        return None
    if value < 0:
        errors.append(f"{name} cannot be negative (got {value}); it was ignored.")
        return None
    if value > MAX_CELLS:
        errors.append(f"{name} must be at most {MAX_CELLS:,} cells (got {raw!r}); it was ignored.")
        return None
    return value


def _date(raw: str, name: str, errors: list[str]) -> date | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors.append(f"{name} must be a date written YYYY-MM-DD, like 2024-05-31 (got {raw!r}); it was ignored.")
        return None


def parse(params: Iterable[tuple[str, str]]) -> tuple[Selection, list[str]]:
    """A selection from URL parameters, and one sentence per value that was ignored and why."""
    errors: list[str] = []
    multi: dict[str, list[str]] = {}
    for key, value in params:
        multi.setdefault(key, []).append(value)

    def one(name: str) -> str:
        return (multi.get(name) or [""])[-1]

    chosen = {facet: tuple(dict.fromkeys(v.strip() for v in multi.get(facet, []) if v.strip())) for facet in FACETS}
    terms = {facet: values for facet, values in chosen.items() if values}
    q = one("q").strip()
    if len(q) > MAX_QUERY:
        errors.append(f"The search text is longer than {MAX_QUERY} characters; only the start was used.")
        q = q[:MAX_QUERY]
    cells_min, cells_max = (
        _int(one("cells_min"), "Minimum cells", errors),
        _int(one("cells_max"), "Maximum cells", errors),
    )
    if cells_min is not None and cells_max is not None and cells_min > cells_max:
        errors.append(f"Minimum cells ({cells_min:,}) is above maximum cells ({cells_max:,}); they were swapped.")
        cells_min, cells_max = cells_max, cells_min
    published_from = _date(one("published_from"), "Published from", errors)
    published_to = _date(one("published_to"), "Published until", errors)
    if published_from and published_to and published_from > published_to:
        errors.append("'Published from' is after 'Published until'; they were swapped.")
        published_from, published_to = published_to, published_from
    sort = one("sort") or DEFAULT_SORT
    if sort not in SORTS:
        errors.append(
            f"Unknown sort {sort!r}; choose one of {', '.join(SORTS)}. Sorted by {SORTS[DEFAULT_SORT].lower()}."
        )
        sort = DEFAULT_SORT
    page_raw = one("page").strip() or "1"
    page = int(page_raw) if page_raw.isascii() and page_raw.isdigit() and len(page_raw) <= 7 else 0
    if not 1 <= page <= MAX_PAGE:
        page = 1
    if page_raw != str(page):
        errors.append(f"Page must be a number from 1 to {MAX_PAGE:,} (got {page_raw!r}); showing page 1.")
    selection = Selection(
        terms=terms,
        q=q,
        cells_min=cells_min,
        cells_max=cells_max,
        published_from=published_from,
        published_to=published_to,
        sort=sort,
        page=page,
    )
    return selection, errors
