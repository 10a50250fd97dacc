"""Helpers for the catalog's integration tests: one committed unit of work per step, as the app does it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import pytest
from sqlalchemy.orm import Session, sessionmaker

from cellportal.catalog.db import transaction

UnitOfWork = Callable[[], AbstractContextManager[Session]]


@pytest.fixture
def uow(session_factory: sessionmaker[Session]) -> UnitOfWork:
    """``with uow() as db:`` runs one transaction, committed at the end, rolled back on error."""

    @contextmanager
    def unit() -> Iterator[Session]:
        with transaction(session_factory) as session:
            yield session

    return unit
