"""Facet filters on dataset metadata (organism, tissue, disease, ...), by ontology term id or label.

Within one facet the values are alternatives (any may match); across facets all must match. Labels match
case-insensitively. Pure functions over ``dataset_metadata``, so the same rules serve the API and, later,
the web pages' facets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

# Facets whose values are [{label, ontology_term_id}], and those that are plain strings.
ONTOLOGY_FACETS = ("organism", "tissue", "disease", "assay", "cell_type", "sex", "development_stage")
STRING_FACETS = ("suspension_type",)


@dataclass(frozen=True)
class FacetFilter:
    organism: tuple[str, ...] = ()
    tissue: tuple[str, ...] = ()
    disease: tuple[str, ...] = ()
    assay: tuple[str, ...] = ()
    cell_type: tuple[str, ...] = ()
    sex: tuple[str, ...] = ()
    development_stage: tuple[str, ...] = ()
    suspension_type: tuple[str, ...] = ()

    @classmethod
    def of(cls, **values: Sequence[str] | None) -> FacetFilter:
        return cls(**{name: tuple(v.strip() for v in value if v.strip()) for name, value in values.items() if value})

    @property
    def is_empty(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(self))

    def matches(self, metadata: Mapping[str, Any] | None) -> bool:
        metadata = metadata or {}
        for facet in fields(self):
            wanted = getattr(self, facet.name)
            if wanted and not _facet_matches(facet.name, wanted, metadata.get(facet.name)):
                return False
        return True


def _facet_matches(name: str, wanted: tuple[str, ...], present: Any) -> bool:
    wanted_folded = {w.casefold() for w in wanted}
    items = present if isinstance(present, list) else [] if present is None else [present]
    for item in items:
        if name in STRING_FACETS or not isinstance(item, Mapping):
            candidates = {str(item)}
        else:
            candidates = {str(item.get("ontology_term_id", "")), str(item.get("label", ""))}
        if {c.casefold() for c in candidates} & wanted_folded:
            return True
    return False


def schema_version_matches(wanted: str | None, actual: str | None) -> bool:
    """The Curation API's ``schema_version`` filter: X, X.Y or X.Y.Z matches that prefix of the version."""
    if not wanted:
        return True
    if not actual:
        return False
    want_parts, have_parts = wanted.strip().split("."), actual.split(".")
    return have_parts[: len(want_parts)] == want_parts
