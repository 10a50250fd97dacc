"""What the pipeline writes to the catalog about one dataset version, each write its own short transaction.

Short transactions keep the SQLite write lock free for the web process, and make each step's outcome
visible to the CLI and the UI while the job runs. Artifacts are upserted by (version, type), so a retried
job overwrites its own rows instead of adding a second set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cellportal.catalog import service
from cellportal.catalog.db import transaction
from cellportal.catalog.models import Artifact, CollectionVersion, CollectionVersionDataset, DatasetVersion
from cellportal.catalog.statuses import ProcessingStatus, UploadStatus, ValidationStatus


@dataclass(frozen=True)
class ArtifactState:
    type: str
    status: str
    sha256: str | None
    size: int | None
    message: str | None = None


@dataclass(frozen=True)
class VersionIdentity:
    """Ids a converter cites; the collection version is the newest one holding this dataset version."""

    dataset_version_id: str
    dataset_id: str
    collection_id: str
    collection_version_id: str
    doi: str | None
    original_filename: str | None
    source_uri: str | None
    validation_status: str


class DatasetRecorder:
    def __init__(self, sessions: sessionmaker[Session], dataset_version_id: str) -> None:
        self._sessions = sessions
        self.dataset_version_id = dataset_version_id

    def _version(self, session: Session) -> DatasetVersion:
        version = session.get(DatasetVersion, self.dataset_version_id)
        if version is None:
            raise LookupError(f"dataset version {self.dataset_version_id} does not exist")
        return version

    def identity(self) -> VersionIdentity:
        with transaction(self._sessions) as session:
            version = self._version(session)
            collection_version = session.scalars(
                select(CollectionVersion)
                .join(CollectionVersionDataset)
                .where(CollectionVersionDataset.dataset_version_id == version.id)
                .order_by(CollectionVersion.created_at.desc())
                .limit(1)
            ).first()
            if collection_version is None:
                raise LookupError(f"dataset version {version.id} belongs to no collection version")
            return VersionIdentity(
                dataset_version_id=version.id,
                dataset_id=version.dataset_id,
                collection_id=collection_version.collection_id,
                collection_version_id=collection_version.id,
                doi=collection_version.doi,
                original_filename=version.original_filename,
                source_uri=version.source_uri,
                validation_status=version.validation_status,
            )

    def artifacts(self) -> dict[str, ArtifactState]:
        with transaction(self._sessions) as session:
            rows = session.scalars(select(Artifact).where(Artifact.dataset_version_id == self.dataset_version_id))
            return {a.type: ArtifactState(a.type, a.status, a.sha256, a.size, a.status_message) for a in rows}

    def artifact(
        self,
        artifact_type: str,
        status: str,
        *,
        sha256: str | None = None,
        size: int | None = None,
        message: str | None = None,
        format_version: str | None = None,
    ) -> None:
        with transaction(self._sessions) as session:
            service.record_artifact(
                session,
                dataset_version_id=self.dataset_version_id,
                type=artifact_type,
                status=status,
                sha256=sha256,
                size=size,
                message=message,
                format_version=format_version,
            )

    def _status(self, **values: Any) -> None:
        with transaction(self._sessions) as session:
            service.set_dataset_status(session, dataset_version_id=self.dataset_version_id, **values)

    def started(self) -> None:
        self._status(processing_status=ProcessingStatus.PENDING)

    def upload(self, status: UploadStatus) -> None:
        self._status(upload_status=status)

    def validating(self) -> None:
        self._status(validation_status=ValidationStatus.VALIDATING)

    def valid(self, warnings: list[Any]) -> None:
        self._status(validation_status=ValidationStatus.VALID, validation_errors=[], validation_warnings=warnings)

    def invalid(self, errors: list[Any], warnings: list[Any]) -> None:
        """VALIDATION_FAILURE: every message is kept for the curator."""
        self._status(
            validation_status=ValidationStatus.INVALID,
            validation_errors=errors,
            validation_warnings=warnings,
            processing_status=ProcessingStatus.FAILURE,
        )

    def metadata(self, metadata: dict[str, Any]) -> None:
        with transaction(self._sessions) as session:
            service.set_dataset_metadata(
                session,
                dataset_version_id=self.dataset_version_id,
                metadata=metadata,
                citation=metadata.get("citation"),
            )

    def succeeded(self) -> None:
        self._status(processing_status=ProcessingStatus.SUCCESS)

    def pipeline_failure(self, reason: str) -> None:
        self._status(processing_status=ProcessingStatus.FAILURE, failure_reason=reason)

    def pipeline_failure_in(self, session: Session, reason: str) -> None:
        """The same, inside the caller's transaction (the reaper fails the job and its dataset together)."""
        service.set_dataset_status(
            session,
            dataset_version_id=self.dataset_version_id,
            processing_status=ProcessingStatus.FAILURE,
            failure_reason=reason,
        )
