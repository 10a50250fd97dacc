"""An app with the explorer mounted, over a real catalog (SQLite, built by the migrations), a real blob
store (local by default; `storage_backend` parametrized indirectly for S3) and a generated store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cellportal.app import create_app
from cellportal.auth.policy import Principal
from cellportal.auth.principals import StaticTokens
from cellportal.catalog.db import transaction
from cellportal.config import Settings
from cellportal.explorer.routes import mount_explorer
from cellportal.runtime import Runtime
from tests.unit.explorer.support import register_explorable, write_labelled_dataset, write_store

N_CELLS = 3000
OWNER = "curator-1"
TOKENS = {"owner-token": Principal(user_id=OWNER), "stranger-token": Principal(user_id="someone-else")}


@pytest.fixture
def db_backend() -> str:
    return "sqlite"


@pytest.fixture
def storage_backend(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "file"))


@pytest.fixture(scope="session")
def store_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("explorer-store")
    h5ad = write_labelled_dataset(folder / "blood.h5ad", n_cells=N_CELLS)
    return write_store(h5ad, folder / "blood.explorer.h5")


@pytest.fixture
def runtime(engine: Engine, storage_settings: dict[str, Any], tmp_path: Path) -> Runtime:
    settings = Settings(data_dir=tmp_path / "data", public_url="https://cells.example.org", **storage_settings)
    return Runtime(settings, _engine=engine)


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    app = create_app(runtime, token_resolver=StaticTokens(TOKENS))
    if not hasattr(app.state, "explorer_stores"):  # until app.py mounts the explorer itself
        mount_explorer(app, runtime)
    return app


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def published(runtime: Runtime, store_file: Path) -> tuple[str, str]:
    """(dataset_id, dataset_version_id) of a published dataset with an explorer store."""
    with transaction(runtime.sessions) as session:
        version = register_explorable(session, runtime.blobs, store_file)
        return version.dataset_id, version.id


@pytest.fixture
def private(runtime: Runtime, store_file: Path) -> tuple[str, str]:
    """(dataset_id, dataset_version_id) of a private dataset owned by OWNER."""
    with transaction(runtime.sessions) as session:
        version = register_explorable(session, runtime.blobs, store_file, published=False, owner_id=OWNER)
        return version.dataset_id, version.id
