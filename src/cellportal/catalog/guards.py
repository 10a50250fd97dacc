"""Last line of defence for permanence: a flush that would change a published version is refused.

The service already refuses such changes with clear errors (rules.ensure_mutable); this listener catches
code that writes to the ORM rows directly, whatever module it lives in. It is registered on every
SQLAlchemy Session when the catalog package is imported.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from cellportal.catalog.models import Artifact, CollectionVersion, CollectionVersionDataset, DatasetVersion
from cellportal.catalog.rules import ensure_mutable

_VERSIONS: dict[type, str] = {CollectionVersion: "collection", DatasetVersion: "dataset"}


def _published_before_flush(obj: Any) -> datetime | None:
    """The published_at the row had in the database, ignoring a change pending in this flush."""
    history = inspect(obj).attrs.published_at.history
    if history.deleted:
        return history.deleted[0]
    if history.unchanged:
        return history.unchanged[0]
    return None if history.added else obj.published_at


def _check_version(obj: Any) -> None:
    ensure_mutable(_VERSIONS[type(obj)], obj.id, _published_before_flush(obj))


def _check_child(session: Session, obj: Any) -> None:
    """An artifact of a published dataset version, or a dataset link of a published collection version."""
    # The relationship is set in Python at once; the foreign key column only at flush.
    if isinstance(obj, Artifact):
        parent, model, parent_id = obj.dataset_version, DatasetVersion, obj.dataset_version_id
    else:
        parent, model, parent_id = obj.collection_version, CollectionVersion, obj.collection_version_id
    if parent is None and parent_id is not None:
        parent = session.get(model, parent_id)
    if parent is not None and parent not in session.new:
        _check_version(parent)


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_published_versions(session: Session, _context: Any, _instances: Any) -> None:
    with session.no_autoflush:
        for obj in session.dirty:
            if type(obj) in _VERSIONS and session.is_modified(obj, include_collections=False):
                _check_version(obj)
            elif isinstance(obj, Artifact | CollectionVersionDataset) and session.is_modified(
                obj, include_collections=False
            ):
                _check_child(session, obj)
        for obj in session.deleted:
            if type(obj) in _VERSIONS:
                _check_version(obj)
            elif isinstance(obj, Artifact | CollectionVersionDataset):
                _check_child(session, obj)
        for obj in session.new:
            if isinstance(obj, Artifact | CollectionVersionDataset):
                _check_child(session, obj)
