"""Domain errors of the catalog, written for curators; the API layer maps each class to one HTTP status.

Suggested mapping: NotFound 404, Gone 410, Conflict 409, ImmutableVersion 409 (or 405),
InvalidState 409 (PublishRefused included, with its list of problems), InvalidInput 400/422.
"""

from __future__ import annotations

from datetime import datetime

__all__ = [
    "CatalogError",
    "Conflict",
    "Gone",
    "ImmutableVersion",
    "InvalidInput",
    "InvalidState",
    "NotFound",
    "PublishRefused",
]


class CatalogError(Exception):
    """Base class: ``str(error)`` is a sentence a curator can act on."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(CatalogError):
    """No collection, dataset or version has this id (never used for something that was published)."""


class Gone(CatalogError):
    """The thing was published and has been withdrawn or removed: it stays answerable with 410 and why."""

    def __init__(self, message: str, *, reason: str, tombstoned_at: datetime) -> None:
        super().__init__(message)
        self.reason = reason
        self.tombstoned_at = tombstoned_at


class Conflict(CatalogError):
    """The request clashes with current state that may change (an open revision, a running job)."""


class ImmutableVersion(CatalogError):
    """A published version, its metadata or its files were asked to change: they never do."""


class InvalidState(CatalogError):
    """The operation does not apply to the thing in its current state (e.g. cancel a never-published collection)."""


class PublishRefused(InvalidState):
    """Publishing was refused; ``problems`` lists every reason so a curator can fix them all at once."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("This collection version cannot be published: " + "; ".join(problems))
        self.problems = problems


class InvalidInput(CatalogError):
    """A value given by the caller is not acceptable (empty name, unknown link type, ...)."""
