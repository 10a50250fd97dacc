"""The upload widget in a real browser against a real server: a valid .h5ad goes through tus-js-client and the
pipeline to SUCCESS; an upload whose connection drops mid-way still completes, resuming where it stopped.

The page is the widget alone (`upload/_widget.html` on a bare page), so this tests the widget, the tus
server and the pipeline, not the curator pages around it. The browser authenticates with a bearer token
(`extra_http_headers`), which also exempts it from CSRF; the cookie + X-CSRF-Token path is covered by the
protocol tests.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from cellportal.app import create_app
from cellportal.auth.policy import Principal
from cellportal.auth.principals import StaticTokens
from cellportal.catalog import migrate
from cellportal.catalog import service as catalog
from cellportal.catalog.db import transaction
from cellportal.catalog.models import DatasetVersion
from cellportal.catalog.statuses import ArtifactType
from cellportal.config import Settings
from cellportal.jobs import repository as job_rows
from cellportal.runtime import Runtime
from cellportal.web.routes import STATIC as BUNDLE_DIR
from cellportal.web.templating import templates
from tests.conftest import require
from tests.fixtures.server import serving

pytestmark = pytest.mark.browser

OWNER = "curator-1"
PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>upload</title></head><body>
{% include "upload/_widget.html" %}</body></html>"""
CHUNK = 256 * 1024


@dataclass
class UploadServer:
    base_url: str
    runtime: Runtime
    app: FastAPI
    collection_version_id: str

    def wait_for_jobs(self, timeout: float = 300) -> None:
        jobs = getattr(self.app.state, "upload_jobs", None)
        if jobs is not None:
            assert jobs.wait(timeout=timeout), "the pipeline did not finish"


@pytest.fixture
def upload_server(tmp_path: Path) -> Iterator[UploadServer]:
    require((BUNDLE_DIR / "upload.js").exists(), "the upload widget's bundle (make frontend)")
    runtime = Runtime(Settings(data_dir=tmp_path / "data", public_url="http://127.0.0.1"))
    migrate.upgrade(runtime.engine)
    with transaction(runtime.sessions) as session:
        version = catalog.create_collection(
            session,
            owner_id=OWNER,
            name="Uploads",
            description="Uploaded from the browser.",
            contact_name="Ada Curator",
            contact_email="ada@example.org",
        )
        version_id = version.id
    app = create_app(runtime, token_resolver=StaticTokens({"owner-token": Principal(user_id=OWNER)}))

    @app.get("/test/upload", response_class=HTMLResponse)
    def widget_page(request: Request) -> HTMLResponse:
        html = templates.env.from_string(PAGE).render(
            request=request, collection_version_id=version_id, upload_chunk_size=CHUNK
        )
        return HTMLResponse(html)

    try:
        with serving(app, name="upload test server") as base_url:
            result = UploadServer(base_url, runtime, app, version_id)
            try:
                yield result
            finally:
                result.wait_for_jobs()
    finally:
        runtime.close()


def open_widget(browser: Any, server: UploadServer) -> Any:
    context = browser.new_context(extra_http_headers={"Authorization": "Bearer owner-token"})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    page.goto(f"{server.base_url}/test/upload")
    page.wait_for_selector(".cp-upload .cp-file", state="attached")
    return page


def raw_sha256(server: UploadServer, version_id: str) -> str | None:
    with transaction(server.runtime.sessions) as session:
        version = session.get(DatasetVersion, version_id)
        assert version is not None
        return {a.type: a.sha256 for a in version.artifacts}.get(ArtifactType.RAW_H5AD)


def test_a_valid_file_uploads_and_is_processed_to_success(
    browser: Any, upload_server: UploadServer, tmp_path: Path
) -> None:
    from cellportal.demo.generator import generate_dataset

    path = generate_dataset(tmp_path / "blood.h5ad", n_cells=300, n_genes=400, preset="human_blood", seed=3)
    page = open_widget(browser, upload_server)
    assert page.locator(".cp-transfer").is_hidden()  # no empty bar, Pause or Cancel before a file is chosen
    page.set_input_files(".cp-file", str(path))
    page.wait_for_function("document.querySelector('.cp-bar').value === 100", timeout=60_000)
    assert page.locator(".cp-percent").inner_text() == "100 %"
    item = page.locator(".cp-submitted li")
    item.wait_for(timeout=30_000)
    version_id = item.get_attribute("data-dataset-version-id")
    assert version_id
    badge = item.locator(".badge")
    page.wait_for_function(
        "['SUCCESS', 'VALIDATION_FAILURE', 'PIPELINE_FAILURE']"
        ".includes(document.querySelector('.cp-submitted li .badge').textContent)",
        timeout=300_000,
    )
    assert badge.inner_text() == "SUCCESS", item.inner_text()
    assert item.locator(".progress").is_hidden()
    assert raw_sha256(upload_server, version_id) == hashlib.sha256(path.read_bytes()).hexdigest()
    assert page.errors == []


def test_an_upload_interrupted_mid_way_resumes_and_completes(
    browser: Any, upload_server: UploadServer, tmp_path: Path
) -> None:
    content = os.urandom(5 * CHUNK + 1234)  # six chunks; not HDF5, so its processing ends fast
    path = tmp_path / "interrupted.h5ad"
    path.write_bytes(content)
    page = open_widget(browser, upload_server)
    patches: list[str] = []

    def drop_the_third_chunk(route: Any) -> None:
        request = route.request
        if request.method == "PATCH":
            patches.append(request.headers.get("upload-offset", "?"))
            if len(patches) == 3:
                route.abort("connectionreset")  # as a dropped network would
                return
        route.continue_()

    page.route("**/uploads/**", drop_the_third_chunk)
    page.set_input_files(".cp-file", str(path))
    page.wait_for_function("document.querySelector('.cp-bar').value === 100", timeout=60_000)
    item = page.locator(".cp-submitted li")
    item.wait_for(timeout=30_000)
    version_id = item.get_attribute("data-dataset-version-id")
    assert version_id
    # The dropped chunk was sent again from the offset the server confirmed, and nothing else twice.
    assert len(patches) == 7, patches
    assert patches[2] == patches[3] == str(2 * CHUNK)
    assert raw_sha256(upload_server, version_id) == hashlib.sha256(content).hexdigest()
    assert page.locator(".cp-error").is_hidden()
    page.wait_for_function(
        "document.querySelector('.cp-submitted li .badge').textContent === 'VALIDATION_FAILURE'", timeout=120_000
    )
    assert "error" in item.locator(".step").inner_text()
    assert page.errors == []


def test_the_outcome_shows_as_soon_as_it_is_recorded_before_the_job_ends(
    browser: Any, upload_server: UploadServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pipeline records the outcome (with its errors), then ends its job: a poll in between gets a final
    processing_status with `finished` still false. The row must then say the outcome, not the job's last step
    ("validating 5 %") beside the final badge. The job's end is held here so the poll surely lands there."""
    release = threading.Event()
    finish = job_rows.finish

    def finish_when_released(*args: Any, **kwargs: Any) -> Any:
        release.wait(timeout=120)
        return finish(*args, **kwargs)

    monkeypatch.setattr(job_rows, "finish", finish_when_released)
    path = tmp_path / "not-hdf5.h5ad"
    path.write_bytes(os.urandom(2 * CHUNK))  # not HDF5: VALIDATION_FAILURE with one error, quickly
    page = open_widget(browser, upload_server)
    try:
        page.set_input_files(".cp-file", str(path))
        item = page.locator(".cp-submitted li")
        item.wait_for(timeout=60_000)
        page.wait_for_function(
            "document.querySelector('.cp-submitted li .badge').textContent === 'VALIDATION_FAILURE'",
            timeout=120_000,
        )
        status = page.request.get(
            f"{upload_server.base_url}/portal/api/dataset-versions/"
            f"{item.get_attribute('data-dataset-version-id')}/status"
        ).json()
        assert status["processing_status"] == "VALIDATION_FAILURE" and status["finished"] is False, status
        assert item.locator(".step").inner_text() == "1 error"
        assert item.locator(".progress").is_hidden()
    finally:
        release.set()
    page.wait_for_selector(".cp-submitted li .cp-reload", timeout=60_000)  # finished: polling stopped
    assert item.locator(".step").inner_text() == "1 error"
    assert page.errors == []


def test_the_curator_workspace_uploads_with_a_signed_in_session(
    browser: Any, upload_server: UploadServer, tmp_path: Path
) -> None:
    """The widget where curators meet it: on the collection's workspace page, signed in through /login, so the
    session cookie and the page's CSRF token carry the upload (no bearer token)."""
    from tests.fixtures.accounts import create_user

    user = create_user(upload_server.runtime, "olga", "password-1234")
    with transaction(upload_server.runtime.sessions) as session:
        version = catalog.create_collection(
            session,
            owner_id=user.id,
            name="Olga's atlas",
            description="Uploaded through the workspace.",
            contact_name="Olga",
            contact_email="olga@example.org",
        )
        collection_id = version.collection_id
    content = os.urandom(3 * CHUNK)  # not HDF5: the row ends in VALIDATION_FAILURE, quickly
    path = tmp_path / "workspace.h5ad"
    path.write_bytes(content)
    page = browser.new_context().new_page()
    page.goto(f"{upload_server.base_url}/login?next=/collections/{collection_id}/workspace")
    page.fill("input[name=username]", "olga")
    page.fill("input[name=password]", "password-1234")
    page.click("form[action='/login'] button[type=submit], form[action='/login'] input[type=submit]")
    page.wait_for_url(f"**/collections/{collection_id}/workspace", timeout=60_000)
    page.set_input_files(".cp-upload .cp-file", str(path))
    item = page.locator(".cp-submitted li")
    item.wait_for(timeout=60_000)
    version_id = item.get_attribute("data-dataset-version-id")
    assert version_id
    assert raw_sha256(upload_server, version_id) == hashlib.sha256(content).hexdigest()
    page.wait_for_function(
        "document.querySelector('.cp-submitted li .badge').textContent === 'VALIDATION_FAILURE'", timeout=120_000
    )
