"""Permanence rules of the catalog: plain values in, a decision (or a domain error) out.

Nothing here touches a session, a file or a request, so every rule is tested without a database
(tests/unit/catalog). The service (service.py) gathers the values from the rows and calls these.

The promises, in one place:
- a canonical id resolves to its latest published version (a never-published one to its private version);
- a version id always names the same version, and a published version, its metadata and its files never change;
- a collection has at most one open (unpublished) revision; publishing it is atomic;
- publishing needs at least one dataset, every dataset in SUCCESS, and one schema version across them;
- a dataset dropped by a revision, or a withdrawn collection, leaves a tombstone (reason + date): 410, never 404;
- replacing a dataset makes a new version with the same dataset_id, never while the previous one is processing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cellportal.catalog.errors import (
    Conflict,
    Gone,
    ImmutableVersion,
    InvalidInput,
    InvalidState,
    NotFound,
    PublishRefused,
)
from cellportal.catalog.statuses import CollectionLinkType, ProcessingStatus, UploadStatus

# --- immutability and tombstones -------------------------------------------------------------------------


def ensure_mutable(kind: str, version_id: str, published_at: datetime | None) -> None:
    """Every change to a published version (its metadata, its datasets, its files) is refused."""
    if published_at is not None:
        raise ImmutableVersion(
            f"{kind} version {version_id} was published on {published_at:%Y-%m-%d} and can no longer change; "
            "start a revision to publish a new version instead."
        )


def ensure_not_tombstoned(kind: str, id_: str, tombstoned_at: datetime | None, reason: str | None) -> None:
    if tombstoned_at is not None:
        why = reason or "no reason was recorded"
        raise Gone(
            f"{kind} {id_} was withdrawn on {tombstoned_at:%Y-%m-%d}: {why}",
            reason=why,
            tombstoned_at=tombstoned_at,
        )


def removal_reason(collection_id: str) -> str:
    """The tombstone text of a dataset that a published revision no longer contains."""
    return f"removed by its curators from collection {collection_id} in a published revision"


def withdrawal_reason(collection_id: str, reason: str) -> str:
    """The tombstone text of a dataset of a withdrawn collection."""
    return f"collection {collection_id} was withdrawn: {reason}"


# --- resolution ------------------------------------------------------------------------------------------


def pick_collection_version(
    collection_id: str, published_version_id: str | None, unpublished_version_ids: Sequence[str]
) -> str:
    """Which version a canonical collection id means: the latest published, else its private version.

    An open revision of a published collection is reachable by its own version id only, so a permalink
    keeps showing what was published while curators work on the next version.
    """
    if published_version_id is not None:
        return published_version_id
    if unpublished_version_ids:
        return unpublished_version_ids[0]
    raise NotFound(f"collection {collection_id} has no version")


# --- revisions -------------------------------------------------------------------------------------------


def ensure_can_start_revision(
    collection_id: str, published_version_id: str | None, open_version_id: str | None
) -> None:
    if published_version_id is None:
        raise InvalidState(f"collection {collection_id} has never been published; edit its private version directly.")
    if open_version_id is not None:
        raise Conflict(
            f"collection {collection_id} already has an open revision ({open_version_id}); "
            "publish or cancel it before starting another."
        )


def ensure_can_cancel_revision(version_id: str, published_at: datetime | None, collection_published: bool) -> None:
    ensure_mutable("collection", version_id, published_at)
    if not collection_published:
        raise InvalidState(
            f"collection version {version_id} is the only version of a never-published collection; "
            "delete the private collection instead of cancelling."
        )


def ensure_can_delete_private(collection_id: str, published_version_id: str | None) -> None:
    if published_version_id is not None:
        raise ImmutableVersion(
            f"collection {collection_id} has been published and cannot be deleted; it can only be withdrawn, "
            "which leaves a tombstone at its permanent links."
        )


def ensure_can_withdraw(collection_id: str, published_version_id: str | None, reason: str) -> None:
    if published_version_id is None:
        raise InvalidState(f"collection {collection_id} was never published; delete the private collection instead.")
    if not reason.strip():
        raise InvalidInput("withdrawing a collection needs a reason; it is shown at its permanent links.")


def ensure_can_withdraw_dataset(
    dataset_id: str, published: bool, open_version_id: str | None, datasets_left: int, reason: str
) -> None:
    """Withdrawing one dataset publishes a revision without it, so that revision must be possible."""
    if not published:
        raise InvalidState(f"dataset {dataset_id} was never published; remove it from its private collection instead.")
    if open_version_id is not None:
        raise Conflict(
            f"the collection of dataset {dataset_id} has an open revision ({open_version_id}); "
            "remove the dataset there and publish it, or cancel it first."
        )
    if datasets_left == 0:
        raise InvalidState(
            f"dataset {dataset_id} is the only dataset of its collection; withdraw the collection instead."
        )
    if not reason.strip():
        raise InvalidInput("withdrawing a dataset needs a reason; it is shown at its permanent links.")


# --- datasets inside a version ---------------------------------------------------------------------------


def is_processing(processing_status: str, upload_status: str) -> bool:
    """True while a file is arriving or the pipeline works on it."""
    return processing_status == ProcessingStatus.PENDING or upload_status == UploadStatus.UPLOADING


def ensure_can_replace(dataset_id: str, version_id: str, processing_status: str, upload_status: str) -> None:
    if is_processing(processing_status, upload_status):
        raise Conflict(
            f"dataset {dataset_id} cannot be replaced while its previous version {version_id} is still "
            "being uploaded or processed; wait until it succeeds or fails."
        )


def ensure_dataset_in_version(dataset_id: str, dataset_ids: Iterable[str], collection_version_id: str) -> None:
    if dataset_id not in set(dataset_ids):
        raise NotFound(f"dataset {dataset_id} is not part of collection version {collection_version_id}")


# --- publishing ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetSnapshot:
    """What publishing needs to know about one dataset version of the collection version."""

    dataset_id: str
    version_id: str
    processing_status: str
    schema_version: str | None
    title: str | None = None

    @property
    def label(self) -> str:
        return f"'{self.title}' ({self.version_id})" if self.title else self.version_id


def publish_problems(datasets: Sequence[DatasetSnapshot]) -> list[str]:
    """Every reason the datasets cannot be published, in a curator's words; empty when they can."""
    if not datasets:
        return ["it has no datasets; add at least one"]
    problems = [
        f"dataset {d.label} is {d.processing_status}, not SUCCESS"
        for d in datasets
        if d.processing_status != ProcessingStatus.SUCCESS
    ]
    problems += [
        f"dataset {d.label} has no schema version recorded; re-process it"
        for d in datasets
        if d.processing_status == ProcessingStatus.SUCCESS and not d.schema_version
    ]
    # Datasets still processing have no schema version yet; they are reported above already.
    versions = {d.schema_version for d in datasets if d.schema_version}
    if len(versions) > 1:
        found = ", ".join(sorted(str(v) for v in versions))
        problems.append(f"its datasets use different schema versions ({found}); re-process them to one version")
    return problems


def ensure_publishable(
    version_id: str, published_at: datetime | None, datasets: Sequence[DatasetSnapshot]
) -> str | None:
    """Refuse or accept a publish; gives back the schema version the published collection version carries."""
    ensure_mutable("collection", version_id, published_at)
    problems = publish_problems(datasets)
    if problems:
        raise PublishRefused(problems)
    return datasets[0].schema_version


@dataclass(frozen=True)
class PublishPlan:
    """What moves when a collection version is published."""

    first_publication: bool
    datasets_changed: bool  # a revision that changes no dataset does not move the collection's revised_at
    removed_dataset_ids: frozenset[str]  # in the previous published version, absent now: tombstoned
    new_or_revised_dataset_ids: frozenset[str]  # their canonical pointer moves to a new version


def plan_publish(previous: Mapping[str, str] | None, new: Mapping[str, str]) -> PublishPlan:
    """Compare the dataset_id -> dataset_version_id maps of the previous published version and the new one."""
    before = dict(previous or {})
    return PublishPlan(
        first_publication=previous is None,
        datasets_changed=before != dict(new),
        removed_dataset_ids=frozenset(before.keys() - new.keys()),
        new_or_revised_dataset_ids=frozenset(d for d, v in new.items() if before.get(d) != v),
    )


# --- collection metadata ---------------------------------------------------------------------------------

_DOI = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:)?(10\.\d{4,9}/\S+)$", re.IGNORECASE)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalize_doi(doi: str) -> str:
    """Accept ``10.x/y``, ``doi:10.x/y`` or a doi.org URL; store the https://doi.org/ URL."""
    match = _DOI.match(doi.strip())
    if not match:
        raise InvalidInput(f"'{doi}' is not a DOI; expected something like 10.1038/s41586-020-2922-4")
    return f"https://doi.org/{match.group(1)}"


def normalize_links(links: Sequence[Mapping[str, Any]], doi: str | None) -> list[dict[str, Any]]:
    """Check each link and put the DOI, when given, as the one DOI link."""
    result: list[dict[str, Any]] = []
    for link in links:
        kind = str(link.get("link_type", "")).upper()
        if kind not in CollectionLinkType.__members__:
            allowed = ", ".join(CollectionLinkType)
            raise InvalidInput(f"link type '{link.get('link_type')}' is not one of {allowed}")
        url = str(link.get("link_url", "")).strip()
        if kind == CollectionLinkType.DOI:
            url = normalize_doi(url)
        elif not url.startswith(("http://", "https://")):
            raise InvalidInput(f"link '{url}' must be an http(s) URL")
        result.append({"link_type": kind, "link_name": link.get("link_name"), "link_url": url})
    if doi is not None:
        result = [link for link in result if link["link_type"] != CollectionLinkType.DOI]
        if doi.strip():
            doi_link = {"link_type": CollectionLinkType.DOI.value, "link_name": None, "link_url": normalize_doi(doi)}
            result.insert(0, doi_link)
    if sum(link["link_type"] == CollectionLinkType.DOI for link in result) > 1:
        raise InvalidInput("a collection has at most one DOI link")
    return result


def check_collection_fields(name: str | None, contact_email: str | None) -> None:
    """Fields every collection needs; None means "not being changed"."""
    if name is not None and not name.strip():
        raise InvalidInput("a collection needs a name")
    if contact_email is not None and contact_email.strip() and not _EMAIL.match(contact_email.strip()):
        raise InvalidInput(f"'{contact_email}' is not an email address")
