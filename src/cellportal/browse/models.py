"""The browse index: what faceted browse and full-text search read, derived from the catalog.

Rows hang off immutable things (a dataset version's extracted metadata, a collection version's text), so a
published version is indexed once and never goes stale. *Which* versions are listed (the published one, or
a private collection's only version), tombstones and who may see what are read live from the catalog at
query time; the index never decides visibility.

- ``browse_datasets``: one row per indexed dataset version (sort keys: title, cell count).
- ``browse_terms``: the facet values of a dataset version; for roll-up facets (tissue, cell type) also every
  ontology ancestor of each annotated term (``direct`` = false), so "brain" finds datasets annotated with
  "cerebral cortex" by one indexed lookup.
- ``browse_dataset_tokens`` / ``browse_collection_tokens``: normalised words of a dataset's title, and of a
  collection version's name, description, authors, DOI and consortia, for prefix search that runs the same
  on SQLite and PostgreSQL.
- ``browse_generation``: one row whose token database triggers replace, in the writer's transaction, on every
  write to the tables that decide what a listing shows (migration 0005); the facet engine reloads when it
  moved.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from cellportal.catalog.models import Base


class BrowseDataset(Base):
    __tablename__ = "browse_datasets"

    dataset_version_id: Mapped[str] = mapped_column(
        ForeignKey("dataset_versions.id", ondelete="CASCADE"), primary_key=True
    )
    title: Mapped[str] = mapped_column(Text, default="")
    title_sort: Mapped[str] = mapped_column(Text, default="")  # casefolded: the same order on both backends
    cell_count: Mapped[int | None] = mapped_column(BigInteger)


class BrowseTerm(Base):
    __tablename__ = "browse_terms"
    __table_args__ = (
        Index("ix_browse_terms_facet_term", "facet", "term", "dataset_version_id"),
        # The annotated (not only ancestor) rows, so the facet engine reads them from the index alone.
        Index(
            "ix_browse_terms_direct",
            "facet",
            "term",
            "dataset_version_id",
            sqlite_where=text("direct = 1"),
            postgresql_where=text("direct"),
        ),
    )

    dataset_version_id: Mapped[str] = mapped_column(
        ForeignKey("dataset_versions.id", ondelete="CASCADE"), primary_key=True
    )
    facet: Mapped[str] = mapped_column(String(32), primary_key=True)
    term: Mapped[str] = mapped_column(String(255), primary_key=True)  # ontology term id, or the plain value
    label: Mapped[str] = mapped_column(Text, default="")
    direct: Mapped[bool] = mapped_column(Boolean, default=True)  # false: present only as an ancestor


# Prefix search on PostgreSQL is LIKE 'word%', which uses a btree index only with text_pattern_ops (under
# any collation but C). On SQLite the primary key serves the range query and this index is a plain copy.
def _pattern_index(table: str) -> Index:
    return Index(f"ix_{table}_token_pattern", "token", postgresql_ops={"token": "text_pattern_ops"})


class BrowseDatasetToken(Base):
    __tablename__ = "browse_dataset_tokens"
    __table_args__ = (_pattern_index("browse_dataset_tokens"),)

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    dataset_version_id: Mapped[str] = mapped_column(
        ForeignKey("dataset_versions.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class BrowseCollectionToken(Base):
    __tablename__ = "browse_collection_tokens"
    __table_args__ = (_pattern_index("browse_collection_tokens"),)

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    collection_version_id: Mapped[str] = mapped_column(
        ForeignKey("collection_versions.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class BrowseGeneration(Base):
    """A single row (id 1): a fresh random token per change to what listings may show, never reused."""

    __tablename__ = "browse_generation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    token: Mapped[str] = mapped_column(String(32))
