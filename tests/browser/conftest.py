"""A real server (uvicorn on a free port, in a thread) over a real catalog, blob store and a generated store,
and Debian's Chromium driven by Playwright. Skipped with a reason where Chromium is missing (failed under CI)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cellportal.app import create_app
from cellportal.catalog import migrate
from cellportal.catalog.db import transaction
from cellportal.config import Settings
from cellportal.explorer.routes import STATIC_DIR, mount_explorer
from cellportal.runtime import Runtime
from tests.conftest import require
from tests.fixtures.server import serving
from tests.unit.explorer.support import register_explorable, write_labelled_dataset, write_store

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]  # WebGL still works: headless Chromium renders it with SwiftShader (ANGLE on Vulkan, software).
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"


@dataclass(frozen=True)
class ExplorerServer:
    base_url: str
    dataset_id: str
    version_id: str


def serve(settings: Settings, n_cells: int, folder: Path) -> Iterator[ExplorerServer]:
    """Build the data, start uvicorn in a thread, yield its address, stop it."""
    h5ad = write_labelled_dataset(folder / "blood.h5ad", n_cells=n_cells)
    store = write_store(h5ad, folder / "blood.explorer.h5")
    runtime = Runtime(settings)
    migrate.upgrade(runtime.engine)
    with transaction(runtime.sessions) as session:
        version = register_explorable(session, runtime.blobs, store)
        dataset_id, version_id = version.dataset_id, version.id
    app = create_app(runtime)
    if not hasattr(app.state, "explorer_stores"):
        mount_explorer(app, runtime)
    try:
        with serving(app, name="explorer test server") as base_url:
            yield ExplorerServer(base_url, dataset_id, version_id)
    finally:
        runtime.close()


@pytest.fixture(scope="session")
def explorer_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ExplorerServer]:
    require((STATIC_DIR / "explorer.js").exists(), "the explorer's browser bundle (make frontend)")
    folder = tmp_path_factory.mktemp("explorer-server")
    settings = Settings(data_dir=folder / "data", public_url="http://127.0.0.1")
    yield from serve(settings, n_cells=4000, folder=folder)


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
