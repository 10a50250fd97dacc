"""What a publish will do, said before it is done: the confirmation page's content. Pure.

The dataset comparison is the catalog's own (``rules.plan_publish``), so the page cannot promise something
other than what ``service.publish`` then does; the refusal reasons are ``rules.publish_problems``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cellportal.catalog import rules

NEW, REPLACED, UNCHANGED, REMOVED = "new", "replaced", "unchanged", "removed"

# Metadata a revision can change, with the words the page uses for them.
METADATA_FIELDS: tuple[tuple[str, str], ...] = (
    ("name", "Name"),
    ("description", "Description"),
    ("contact_name", "Contact name"),
    ("contact_email", "Contact e-mail"),
    ("links", "Links"),
    ("consortia", "Consortia"),
)


@dataclass(frozen=True)
class DatasetChange:
    dataset_id: str
    dataset_version_id: str
    title: str
    cell_count: int | None
    change: str  # NEW | REPLACED | UNCHANGED | REMOVED


@dataclass(frozen=True)
class PublishPreview:
    first_publication: bool
    datasets: tuple[DatasetChange, ...]  # what the published version will hold, in order
    removed: tuple[DatasetChange, ...]  # in the current published version, gone after: tombstoned
    metadata_changes: tuple[str, ...]  # the words of METADATA_FIELDS that differ from the published version
    problems: tuple[str, ...]  # why it cannot be published now; empty when it can

    @property
    def total_cells(self) -> int:
        return sum(d.cell_count or 0 for d in self.datasets)

    @property
    def changes_anything(self) -> bool:
        return self.first_publication or bool(
            self.removed or self.metadata_changes or any(d.change != UNCHANGED for d in self.datasets)
        )


def _title(version: Any) -> str:
    metadata = version.dataset_metadata or {}
    return str(version.title or metadata.get("title") or version.original_filename or version.id)


def _cells(version: Any) -> int | None:
    count = (version.dataset_metadata or {}).get("cell_count")
    return count if isinstance(count, int) else None


def _snapshot(version: Any) -> rules.DatasetSnapshot:
    return rules.DatasetSnapshot(
        dataset_id=version.dataset_id,
        version_id=version.id,
        processing_status=version.processing_status,
        schema_version=version.schema_version,
        title=version.title,
    )


def metadata_changes(published: Any, candidate: Any) -> tuple[str, ...]:
    def value(version: Any, name: str) -> Any:
        found = getattr(version, name)
        return list(found or []) if name in ("links", "consortia") else (found or "")

    return tuple(label for name, label in METADATA_FIELDS if value(published, name) != value(candidate, name))


def preview(candidate: Any, published: Any | None) -> PublishPreview:
    """``candidate``: the unpublished ``CollectionVersion``; ``published``: the current published one, if any."""
    new_versions: Sequence[Any] = candidate.dataset_versions
    before: Mapping[str, str] | None = (
        {v.dataset_id: v.id for v in published.dataset_versions} if published is not None else None
    )
    plan = rules.plan_publish(before, {v.dataset_id: v.id for v in new_versions})
    previous = dict(before or {})
    datasets = tuple(
        DatasetChange(
            v.dataset_id,
            v.id,
            _title(v),
            _cells(v),
            NEW if v.dataset_id not in previous else (REPLACED if previous[v.dataset_id] != v.id else UNCHANGED),
        )
        for v in new_versions
    )
    removed = tuple(
        DatasetChange(v.dataset_id, v.id, _title(v), _cells(v), REMOVED)
        for v in (published.dataset_versions if published is not None else [])
        if v.dataset_id in plan.removed_dataset_ids
    )
    return PublishPreview(
        first_publication=plan.first_publication,
        datasets=datasets,
        removed=removed,
        metadata_changes=metadata_changes(published, candidate) if published is not None else (),
        problems=tuple(rules.publish_problems([_snapshot(v) for v in new_versions])),
    )
