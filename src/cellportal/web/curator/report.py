"""The validator's report of one dataset version, grouped for curators: by rule group, then by code.

Pure: the stored report items (``DatasetVersion.validation_errors`` / ``validation_warnings``, each the
``Issue.to_dict()`` of ``schema/issues.py``) in, plain values out. Every item is kept: a curator fixes a
file from this page, so nothing is summarised away; grouping only puts the 40 "gene not found" items of one
code together, under one explanation, with how many there are.

Items the registry does not know (an older pipeline, the pipeline's own ``unreadable_file``, a bare string)
are kept too, in an "Other" group, so a report never loses an error because its code is new.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cellportal.schema.codes import REGISTRY

# Rule groups are the prefix of a code ("ontology_term.not_allowed" -> "ontology_term"), in the order a
# curator best fixes them: a file that cannot be read hides every other problem.
GROUP_TITLES: dict[str, str] = {
    "file": "The file itself",
    "validator": "The validator",
    "names": "Field and column names",
    "dataframe": "obs and var tables",
    "column": "Column values",
    "ontology_term": "Ontology terms",
    "uns": "Dataset-level metadata (uns)",
    "features": "Features (genes)",
    "matrix": "Expression matrices",
    "raw": "Raw counts",
    "obsm": "Embeddings (obsm)",
    "annotation": "Annotation mappings",
    "perturbation": "Genetic perturbations",
    "spatial": "Spatial data",
}
OTHER = "other"
OTHER_TITLE = "Other problems"


@dataclass(frozen=True)
class ReportItem:
    """One problem as the validator reported it, with where it is and a few examples."""

    message: str
    location: str | None = None
    count: int | None = None  # how many values/cells/features are affected
    values: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()


@dataclass
class CodeGroup:
    code: str
    explanation: str | None  # the registry's line for curators, when the code is known
    items: list[ReportItem] = field(default_factory=list)

    @property
    def locations(self) -> list[str]:
        return sorted({item.location for item in self.items if item.location})


@dataclass
class RuleGroup:
    key: str
    title: str
    codes: list[CodeGroup] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(len(code.items) for code in self.codes)


def rule_group_of(code: str) -> str:
    prefix = code.split(".", 1)[0]
    return prefix if code in REGISTRY and prefix in GROUP_TITLES else OTHER


def _item(raw: Any) -> tuple[str, ReportItem]:
    if not isinstance(raw, Mapping):
        return "", ReportItem(message=str(raw))
    count = raw.get("count")
    return str(raw.get("code") or ""), ReportItem(
        message=str(raw.get("message") or ""),
        location=str(raw["location"]) if raw.get("location") else None,
        count=int(count) if isinstance(count, int | float) and not isinstance(count, bool) else None,
        values=tuple(repr(v) if isinstance(v, str) else str(v) for v in raw.get("values") or ()),
        examples=tuple(str(e) for e in raw.get("examples") or ()),
    )


def group_report(items: Iterable[Any]) -> list[RuleGroup]:
    """Rule groups in fixing order; codes inside a group in the order the validator first reported them."""
    groups: dict[str, RuleGroup] = {}
    for raw in items:
        code, item = _item(raw)
        key = rule_group_of(code)
        group = groups.setdefault(key, RuleGroup(key, GROUP_TITLES.get(key, OTHER_TITLE)))
        known = REGISTRY.get(code)
        code_group = next((c for c in group.codes if c.code == code), None)
        if code_group is None:
            code_group = CodeGroup(code or "unspecified", known.description if known else None)
            group.codes.append(code_group)
        code_group.items.append(item)
    order = [*GROUP_TITLES, OTHER]
    return sorted(groups.values(), key=lambda group: order.index(group.key))
