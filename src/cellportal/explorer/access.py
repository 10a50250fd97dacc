"""Which explorer store a request may read, decided by the catalog and the portal's policy.

Resolution and the policy are the same as everywhere else (`readable_dataset_version`: canonical or
version id, tombstones answer 410, what the caller may not see is a 404). This module adds what is
particular to the explorer: the version must have a ready `explorer` artifact, the data API is addressed
by version id only (its responses are immutable), and the side panel's facts about the dataset.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from cellportal.api.artifacts import BY_TYPE, is_ready
from cellportal.api.discover.present import metadata_fields
from cellportal.api.discover.queries import first_published_in, readable_dataset_version
from cellportal.api.errors import Problem
from cellportal.api.urls import Urls
from cellportal.auth.policy import Action, Principal
from cellportal.catalog import repository as repo
from cellportal.catalog.models import CollectionVersion, DatasetVersion
from cellportal.catalog.statuses import ArtifactType

# Download links shown in the side panel, in this order (the explorer store itself is not for readers).
PANEL_DOWNLOADS = (ArtifactType.H5AD, ArtifactType.RDS, ArtifactType.LOOM)
PANEL_METADATA = (
    "organism", "tissue", "assay", "disease", "sex", "development_stage", "self_reported_ethnicity",
    "suspension_type", "donor_id", "schema_version",
)  # fmt: skip


@dataclass(frozen=True)
class ExplorableVersion:
    version: DatasetVersion
    store_sha256: str
    public: bool  # published, so responses may be cached by anyone


def explorable_version(session: Session, principal: Principal, any_id: str) -> ExplorableVersion:
    version = readable_dataset_version(session, principal, any_id, Action.DOWNLOAD)
    artifact = version.artifact(ArtifactType.EXPLORER)
    if artifact is None or not is_ready(artifact):
        raise Problem(404, "Not Found", f"Dataset {any_id} has no explorer view (yet).")
    assert artifact.sha256 is not None
    return ExplorableVersion(version, artifact.sha256, public=version.published_at is not None)


@dataclass(frozen=True)
class StoreAccess:
    """What a data API request needs once access is granted: which store, and who may cache it."""

    version_id: str
    store_sha256: str
    public: bool


def store_access(session: Session, principal: Principal, version_id: str) -> StoreAccess:
    """The data API's resolution: a version id, since what it serves must never change under a URL."""
    found = explorable_version(session, principal, version_id)
    if found.version.id != version_id:
        raise Problem(
            404, "Not Found", f"The explorer data API is addressed by dataset version id; use {found.version.id}."
        )
    return StoreAccess(version_id, found.store_sha256, found.public)


class AccessCache:
    """Granted accesses, remembered for `ttl` seconds per (principal, version).

    The data API answers many small requests per view; resolving and authorizing each one costs several
    catalog queries. A grant is reused for a few seconds, so a withdrawal or a revoked access reaches the
    data API within `ttl` (the page itself always checks). Refusals are never cached.
    """

    def __init__(self, ttl: float = 10.0, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._grants: dict[tuple[Principal, str], tuple[float, StoreAccess]] = {}  # -> (granted at, access)
        self._lock = threading.Lock()

    def get(self, session: Session, principal: Principal, version_id: str) -> StoreAccess:
        key = (principal, version_id)
        now = time.monotonic()
        with self._lock:
            hit = self._grants.get(key)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        access = store_access(session, principal, version_id)
        with self._lock:
            if len(self._grants) >= self.max_entries:
                self._grants = {k: v for k, v in self._grants.items() if now - v[0] < self.ttl}
                if len(self._grants) >= self.max_entries:
                    self._grants.clear()
            self._grants[key] = (now, access)
        return access


def panel_facts(session: Session, version: DatasetVersion, urls: Urls) -> dict[str, Any]:
    """Title, collection, citation, metadata and download links of the side panel."""
    fields = metadata_fields(version)
    metadata: dict[str, Any] = {}
    for name in PANEL_METADATA:
        value = fields.get(name)
        if isinstance(value, list):
            labels = [
                item.get("label") or item.get("ontology_term_id") if isinstance(item, dict) else item for item in value
            ]
            value = ", ".join(str(label) for label in labels if label)
        if value:
            metadata[name.replace("_", " ")] = value
    collection_version = _home_collection_version(session, version)
    downloads = []
    for artifact_type in PANEL_DOWNLOADS:
        artifact = version.artifact(artifact_type)
        if artifact is not None and is_ready(artifact):
            extension = BY_TYPE[artifact_type].extension
            downloads.append({"label": f".{extension}", "url": urls.download(version.id, extension)})
    return {
        "title": fields.get("title"),
        "citation": fields.get("citation"),
        "dataset_id": version.dataset_id,
        "dataset_version_id": version.id,
        "published": version.published_at is not None,
        "collection": {
            "name": collection_version.name,
            "url": urls.collection(collection_version.collection_id),
        }
        if collection_version is not None
        else None,
        "metadata": metadata,
        "downloads": downloads,
    }


def _label(item: Any) -> Any:
    return (item.get("label") or item.get("ontology_term_id")) if isinstance(item, dict) else item


def _home_collection_version(session: Session, version: DatasetVersion) -> CollectionVersion | None:
    home = first_published_in(session, [version]).get(version.id)
    return repo.get_collection_version(session, home) if home else None
