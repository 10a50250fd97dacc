"""The long-lived parts one process needs, built once from the settings and passed in.

The web app, the worker and the CLI each build one ``Runtime``; nothing reads settings at import time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from cellportal.catalog.db import make_engine, make_session_factory
from cellportal.config import Settings

if TYPE_CHECKING:
    from cellportal.storage.base import BlobStore


@dataclass
class Runtime:
    settings: Settings
    _engine: Engine | None = field(default=None, repr=False)

    @cached_property
    def engine(self) -> Engine:
        return self._engine or make_engine(self.settings.resolved_database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)

    @cached_property
    def blobs(self) -> BlobStore:
        from cellportal.storage import open_store

        return open_store(self.settings)

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()
