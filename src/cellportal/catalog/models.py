"""ORM tables of the catalog.

Canonical rows (`Collection`, `Dataset`) carry the permanent ids and point at their latest published
version; version rows (`CollectionVersion`, `DatasetVersion`) are immutable once published. A dataset
version can belong to several collection versions (a revision that does not touch a dataset keeps its
version id), hence the ordered association table. Artifacts are the files of one dataset version, one
row per type, each pointing at a content-addressed blob (sha256).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from cellportal.catalog.statuses import (
    ConversionStatus,
    JobState,
    ProcessingStatus,
    UploadStatus,
    ValidationStatus,
)

# Named constraints so Alembic batch migrations on SQLite can drop and recreate them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC; gives back aware datetimes on SQLite too (it drops tzinfo)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the catalog; use datetime.now(UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class Collection(Base):
    __tablename__ = "collections"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    owner_id: Mapped[str | None] = mapped_column(String(64), index=True)
    # The version the canonical id resolves to; None until first published.
    published_version_id: Mapped[str | None] = mapped_column(
        ForeignKey("collection_versions.id", use_alter=True, name="fk_collections_published_version")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    originally_published_at: Mapped[datetime | None]
    revised_at: Mapped[datetime | None]
    tombstoned_at: Mapped[datetime | None]
    tombstone_reason: Mapped[str | None] = mapped_column(Text)

    versions: Mapped[list[CollectionVersion]] = relationship(
        back_populates="collection",
        foreign_keys="CollectionVersion.collection_id",
        order_by="CollectionVersion.created_at",
    )
    published_version: Mapped[CollectionVersion | None] = relationship(
        foreign_keys=[published_version_id], post_update=True
    )


class CollectionVersion(Base):
    __tablename__ = "collection_versions"
    # At most one open (unpublished) version per collection, enforced by the database too, so two
    # concurrent "start a revision" calls on PostgreSQL cannot both succeed.
    __table_args__ = (
        Index(
            "uq_collection_versions_one_open",
            "collection_id",
            unique=True,
            sqlite_where=text("published_at IS NULL"),
            postgresql_where=text("published_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    collection_id: Mapped[str] = mapped_column(ForeignKey("collections.id"), index=True)
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    contact_name: Mapped[str] = mapped_column(Text, default="")
    contact_email: Mapped[str] = mapped_column(Text, default="")
    # [{"link_type": "DOI|RAW_DATA|PROTOCOL|LAB_WEBSITE|OTHER|DATA_SOURCE", "link_name": str|None, "link_url": str}]
    links: Mapped[list[Any]] = mapped_column(default=list)
    consortia: Mapped[list[Any]] = mapped_column(default=list)
    # Filled from a DOI lookup (authors, journal, published_year/month/day, is_preprint).
    publisher_metadata: Mapped[dict[str, Any] | None]
    curator_name: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]  # None: private (first version) or an open revision
    schema_version: Mapped[str | None] = mapped_column(String(16))

    collection: Mapped[Collection] = relationship(back_populates="versions", foreign_keys=[collection_id])
    dataset_links: Mapped[list[CollectionVersionDataset]] = relationship(
        back_populates="collection_version",
        order_by="CollectionVersionDataset.position",
        cascade="all, delete-orphan",
    )

    @property
    def doi(self) -> str | None:
        return next((link["link_url"] for link in self.links if link.get("link_type") == "DOI"), None)

    @property
    def dataset_versions(self) -> list[DatasetVersion]:
        return [link.dataset_version for link in self.dataset_links]


class CollectionVersionDataset(Base):
    """Which dataset versions a collection version holds, in order."""

    __tablename__ = "collection_version_datasets"

    collection_version_id: Mapped[str] = mapped_column(ForeignKey("collection_versions.id"), primary_key=True)
    dataset_version_id: Mapped[str] = mapped_column(ForeignKey("dataset_versions.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    collection_version: Mapped[CollectionVersion] = relationship(back_populates="dataset_links")
    dataset_version: Mapped[DatasetVersion] = relationship()


class Dataset(Base):
    __tablename__ = "datasets"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    collection_id: Mapped[str] = mapped_column(ForeignKey("collections.id"), index=True)
    published_version_id: Mapped[str | None] = mapped_column(
        ForeignKey("dataset_versions.id", use_alter=True, name="fk_datasets_published_version")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]
    revised_at: Mapped[datetime | None]
    tombstoned_at: Mapped[datetime | None]
    tombstone_reason: Mapped[str | None] = mapped_column(Text)

    versions: Mapped[list[DatasetVersion]] = relationship(
        back_populates="dataset", foreign_keys="DatasetVersion.dataset_id", order_by="DatasetVersion.created_at"
    )
    published_version: Mapped[DatasetVersion | None] = relationship(
        foreign_keys=[published_version_id], post_update=True
    )


class DatasetVersion(Base):
    __tablename__ = "dataset_versions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]  # first collection-version publish that included it
    original_filename: Mapped[str | None] = mapped_column(Text)
    source_uri: Mapped[str | None] = mapped_column(Text)  # where an upload-by-URL came from
    processing_status: Mapped[str] = mapped_column(String(16), default=ProcessingStatus.INITIALIZED)
    upload_status: Mapped[str] = mapped_column(String(16), default=UploadStatus.WAITING)
    validation_status: Mapped[str] = mapped_column(String(16), default=ValidationStatus.NA)
    # The validator's report items: [{"code", "message", "location", ...}]
    validation_errors: Mapped[list[Any]] = mapped_column(default=list)
    validation_warnings: Mapped[list[Any]] = mapped_column(default=list)
    failure_reason: Mapped[str | None] = mapped_column(Text)  # PIPELINE_FAILURE detail
    # Extracted by the labeller (title, organism, tissue, ..., cell_count); see cellportal.schema.
    dataset_metadata: Mapped[dict[str, Any] | None]
    title: Mapped[str | None] = mapped_column(Text)
    schema_version: Mapped[str | None] = mapped_column(String(16))
    citation: Mapped[str | None] = mapped_column(Text)

    dataset: Mapped[Dataset] = relationship(back_populates="versions", foreign_keys=[dataset_id])
    artifacts: Mapped[list[Artifact]] = relationship(
        back_populates="dataset_version", order_by="Artifact.type", cascade="all, delete-orphan"
    )

    def artifact(self, artifact_type: str) -> Artifact | None:
        return next((a for a in self.artifacts if a.type == artifact_type), None)


class Artifact(Base):
    """One file of a dataset version; unique per (version, type) so a retried job cannot double it."""

    __tablename__ = "artifacts"
    __table_args__ = (UniqueConstraint("dataset_version_id", "type", name="uq_artifacts_version_type"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    dataset_version_id: Mapped[str] = mapped_column(ForeignKey("dataset_versions.id"), index=True)
    type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=ConversionStatus.NA)
    status_message: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    size: Mapped[int | None] = mapped_column(BigInteger)
    format_version: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    dataset_version: Mapped[DatasetVersion] = relationship(back_populates="artifacts")


class Job(Base):
    """The source of truth for background work: the queue message carries only the job id."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(64))  # e.g. "dataset.process"
    # SET NULL: deleting an unpublished dataset version (removed, superseded, cancelled) keeps the job's history.
    dataset_version_id: Mapped[str | None] = mapped_column(
        ForeignKey("dataset_versions.id", ondelete="SET NULL"), index=True
    )
    state: Mapped[str] = mapped_column(String(16), default=JobState.QUEUED, index=True)
    step: Mapped[str | None] = mapped_column(String(64))
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


# The accounts and sharing tables (users, API keys, sessions, collaborators, share links) live in
# cellportal.auth but on this metadata: importing them here means every user of Base.metadata (the
# migrations, their drift check, the test fixtures that empty tables) sees them.
import cellportal.auth.models  # noqa: E402

# The browse index (facet terms, search words) lives in cellportal.browse, on this metadata for the same reason.
import cellportal.browse.models  # noqa: E402, F401
