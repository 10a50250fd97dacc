"""ORM tables of accounts and sharing, on the catalog's `Base` (one metadata, one migration chain).

Secrets are never stored: API keys, web sessions and share links keep the sha256 of their secret part, so a
leaked database does not leak working credentials. Passwords are argon2id hashes (`auth/passwords.py`).
Users signed in through OpenID Connect have no password (``password_hash`` is NULL) and are found again by
(``oidc_issuer``, ``oidc_subject``).

`Collection.owner_id` (catalog) holds a `User.id`; collaborators and share links point at the canonical
collection, so they cover every version of it, revisions included.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cellportal.catalog.models import Base, new_id, utcnow


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("oidc_issuer", "oidc_subject", name="uq_users_oidc_identity"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str | None] = mapped_column(Text)  # None: signs in through OpenID Connect only
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[datetime | None]
    oidc_issuer: Mapped[str | None] = mapped_column(Text)
    oidc_subject: Mapped[str | None] = mapped_column(String(255))

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None


class ApiKey(Base):
    """``cp_<prefix>_<secret>``: the prefix finds the row, the secret's sha256 proves the key."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class WebSession(Base):
    """A signed-in browser: the cookie holds a random token, this row its sha256 (revocable, unlike a JWT)."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class Collaborator(Base):
    """A user who may see (viewer) or also curate (editor) a collection, every version of it."""

    __tablename__ = "collaborators"
    __table_args__ = (UniqueConstraint("collection_id", "user_id", name="uq_collaborators_collection_user"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    collection_id: Mapped[str] = mapped_column(ForeignKey("collections.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # policy.CollaboratorRole: viewer | editor
    added_by: Mapped[str | None] = mapped_column(String(64))  # a user id (or "admin" for the operator token)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ShareLink(Base):
    """A secret URL that lets whoever holds it read a private collection until revoked or expired."""

    __tablename__ = "share_links"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    collection_id: Mapped[str] = mapped_column(ForeignKey("collections.id", ondelete="CASCADE"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    def is_live(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
