"""An app over a real catalog (sqlite | postgres, built by the migrations) and a real blob store.

API tests run on the local store by default; a module that cares about storage parametrizes
``storage_backend`` (indirect) over ``file`` and ``s3``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cellportal.app import create_app
from cellportal.auth.policy import Principal, Role
from cellportal.auth.principals import StaticTokens
from cellportal.catalog.db import transaction
from cellportal.config import Settings
from cellportal.runtime import Runtime

PUBLIC_URL = "https://cells.example.org"
OWNER = "curator-1"  # the builders' default owner
TOKENS = {
    "owner-token": Principal(user_id=OWNER),
    "stranger-token": Principal(user_id="someone-else"),
    "admin-token": Principal(user_id="root", roles=frozenset({Role.ADMIN})),
}


def as_(who: str) -> dict[str, str]:
    """Request headers for one of TOKENS' callers: as_("owner"), as_("stranger"), as_("admin")."""
    return {"Authorization": f"Bearer {who}-token"}


@pytest.fixture
def storage_backend(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "file"))


@pytest.fixture
def runtime(engine: Engine, storage_settings: dict[str, Any], tmp_path: Path) -> Iterator[Runtime]:
    settings = Settings(data_dir=tmp_path / "data", public_url=PUBLIC_URL, **storage_settings)
    runtime = Runtime(settings, _engine=engine)
    yield runtime


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime, token_resolver=StaticTokens(TOKENS))) as test_client:
        yield test_client


@pytest.fixture
def write(runtime: Runtime) -> Callable[[], AbstractContextManager[Session]]:
    """``with write() as session:`` one committed unit of work, as a request or a job would do it."""

    @contextmanager
    def unit_of_work() -> Iterator[Session]:
        with transaction(runtime.sessions) as session:
            yield session

    return unit_of_work


@pytest.fixture
def put_blob(runtime: Runtime) -> Callable[[bytes], str]:
    """For the builders: really store artifact bytes, so downloads have something to serve."""
    return lambda data: runtime.blobs.put_bytes(data).sha256
