"""browse index: facet terms (with ontology ancestors), search words, sort keys

The tables of cellportal.browse.models. Rows hang off dataset and collection versions and go with them
(ON DELETE CASCADE). They are derived data: after this upgrade, index what the catalog already holds with
``cellportal.browse.index.rebuild`` (the new tables start empty).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _version_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["dataset_version_id"],
        ["dataset_versions.id"],
        name=op.f(f"fk_{table}_dataset_version_id_dataset_versions"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "browse_datasets",
        sa.Column("dataset_version_id", sa.String(length=36), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("title_sort", sa.Text(), nullable=False),
        sa.Column("cell_count", sa.BigInteger(), nullable=True),
        _version_fk("browse_datasets"),
        sa.PrimaryKeyConstraint("dataset_version_id", name=op.f("pk_browse_datasets")),
    )
    op.create_table(
        "browse_terms",
        sa.Column("dataset_version_id", sa.String(length=36), nullable=False),
        sa.Column("facet", sa.String(length=32), nullable=False),
        sa.Column("term", sa.String(length=255), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("direct", sa.Boolean(), nullable=False),
        _version_fk("browse_terms"),
        sa.PrimaryKeyConstraint("dataset_version_id", "facet", "term", name=op.f("pk_browse_terms")),
    )
    op.create_index("ix_browse_terms_facet_term", "browse_terms", ["facet", "term", "dataset_version_id"])
    op.create_table(
        "browse_dataset_tokens",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("dataset_version_id", sa.String(length=36), nullable=False),
        _version_fk("browse_dataset_tokens"),
        sa.PrimaryKeyConstraint("token", "dataset_version_id", name=op.f("pk_browse_dataset_tokens")),
    )
    op.create_index(
        op.f("ix_browse_dataset_tokens_dataset_version_id"), "browse_dataset_tokens", ["dataset_version_id"]
    )
    op.create_index(
        "ix_browse_dataset_tokens_token_pattern",
        "browse_dataset_tokens",
        ["token"],
        postgresql_ops={"token": "text_pattern_ops"},
    )
    op.create_table(
        "browse_collection_tokens",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("collection_version_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_version_id"],
            ["collection_versions.id"],
            name=op.f("fk_browse_collection_tokens_collection_version_id_collection_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token", "collection_version_id", name=op.f("pk_browse_collection_tokens")),
    )
    op.create_index(
        op.f("ix_browse_collection_tokens_collection_version_id"),
        "browse_collection_tokens",
        ["collection_version_id"],
    )
    op.create_index(
        "ix_browse_collection_tokens_token_pattern",
        "browse_collection_tokens",
        ["token"],
        postgresql_ops={"token": "text_pattern_ops"},
    )


def downgrade() -> None:
    op.drop_table("browse_collection_tokens")
    op.drop_table("browse_dataset_tokens")
    op.drop_table("browse_terms")
    op.drop_table("browse_datasets")
