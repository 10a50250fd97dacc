"""Pure rules of the browse index: which facet values a dataset has, and how text becomes search tokens.

No session, no ontology files: the ancestor lookup is passed in, so tests can call these with a dict.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# The facets of the reader's browse pages, in the order the pages show them.
ONTOLOGY_FACETS = (
    "organism",
    "tissue",
    "disease",
    "assay",
    "cell_type",
    "sex",
    "development_stage",
    "self_reported_ethnicity",
)
PLAIN_FACETS = ("suspension_type",)
FACETS = (*ONTOLOGY_FACETS, *PLAIN_FACETS)
# Facets where choosing a term also finds its descendants ("brain" finds "cerebral cortex").
ROLLUP_FACETS = frozenset({"tissue", "cell_type"})
FACET_TITLES = {
    "organism": "Organism",
    "tissue": "Tissue",
    "disease": "Disease",
    "assay": "Assay",
    "cell_type": "Cell type",
    "sex": "Sex",
    "development_stage": "Development stage",
    "self_reported_ethnicity": "Self-reported ethnicity",
    "suspension_type": "Suspension type",
}

MAX_TOKEN = 64
_WORD = re.compile(r"[0-9a-z]+")

Ancestors = Callable[[str], Iterable[str]]
Labels = Callable[[str], str | None]


@dataclass(frozen=True)
class FacetValue:
    facet: str
    term: str
    label: str
    direct: bool


def _items(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def facet_values(metadata: Mapping[str, Any] | None, ancestors: Ancestors, label_of: Labels) -> list[FacetValue]:
    """Every (facet, term) of a dataset: annotated terms, plus their ancestors for the roll-up facets.

    An ancestor is kept once per facet, and a term that is both annotated and an ancestor of another
    annotated term counts as annotated (``direct``).
    """
    metadata = metadata or {}
    found: dict[tuple[str, str], FacetValue] = {}
    for facet in FACETS:
        for item in _items(metadata.get(facet)):
            if isinstance(item, Mapping):
                term, label = str(item.get("ontology_term_id") or ""), str(item.get("label") or "")
            else:
                term, label = str(item), str(item)
            term = term.strip()
            if not term:
                continue
            found[(facet, term)] = FacetValue(facet, term, label or term, True)
            if facet in ROLLUP_FACETS:
                for ancestor in ancestors(term):
                    if ancestor != term and (facet, ancestor) not in found:
                        found[(facet, ancestor)] = FacetValue(facet, ancestor, label_of(ancestor) or ancestor, False)
    return list(found.values())


def tokens(*texts: str | None) -> set[str]:
    """Lower-case ASCII words of the texts (accents folded: "Müller" -> "muller"), each at most 64 characters."""
    words: set[str] = set()
    for text in texts:
        if not text:
            continue
        folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
        words.update(word[:MAX_TOKEN] for word in _WORD.findall(folded))
    return words


def query_tokens(query: str | None) -> list[str]:
    """The words of a search box entry, in a stable order (every one must match, each as a word prefix)."""
    return sorted(tokens(query))


def collection_texts(
    name: str, description: str, doi: str | None, consortia: Iterable[Any], publisher_metadata: Mapping[str, Any] | None
) -> list[str]:
    """What a collection version is found by: name, description, DOI, consortia and authors."""
    texts = [name, description, doi or "", *(str(c) for c in consortia or [])]
    for author in (publisher_metadata or {}).get("authors") or []:
        if isinstance(author, Mapping):
            texts.extend(str(author.get(key) or "") for key in ("given", "family", "name"))
        else:
            texts.append(str(author))
    journal = (publisher_metadata or {}).get("journal")
    if journal:
        texts.append(str(journal))
    return texts
