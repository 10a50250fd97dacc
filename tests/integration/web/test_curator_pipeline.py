"""The workspace over real files run through the real pipeline (in this process, no worker):
the validator's report of an invalid file, grouped; a valid file processed to SUCCESS and published."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from cellportal.app import create_app
from cellportal.auth.principals import StaticTokens
from cellportal.catalog import service
from cellportal.catalog.models import Collection, DatasetVersion
from cellportal.jobs import submit
from cellportal.jobs.runner import run_job, worker_identity
from cellportal.runtime import Runtime
from tests.integration.api.conftest import TOKENS
from tests.integration.web.curator_browser import Browser, make_user

DATA = Path(__file__).resolve().parents[2] / "data"
pytestmark = [pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True), pytest.mark.slow]


@pytest.fixture
def app(runtime: Runtime) -> Iterator[FastAPI]:
    yield create_app(runtime, token_resolver=StaticTokens(TOKENS))


@pytest.fixture
def curator(app: FastAPI, runtime: Runtime) -> Browser:
    user_id, token = make_user(runtime, "ada")
    return Browser(app, user_id, token)


def process(runtime: Runtime, collection_version_id: str, path: Path) -> submit.Submitted:
    """Upload ``path`` into the collection version and run its job here, as `cellportal ingest` does."""
    submitted = submit.upload_dataset(runtime, collection_version_id=collection_version_id, path=path, use_worker=False)
    run_job(runtime, submitted.job_id, owner=worker_identity("test"))
    return submitted


def private_collection(write: Callable, owner_id: str | None) -> tuple[str, str]:
    with write() as session:
        version = service.create_collection(
            session,
            owner_id=owner_id,
            name="Heart atlas",
            description="",
            contact_name="Ada",
            contact_email="ada@example.org",
        )
        return version.collection_id, version.id


def between(text: str, start: str, end: str) -> str:
    return text[text.index(start) : text.index(end, text.index(start))]


def test_the_workspace_shows_every_validation_error_grouped_and_the_warnings_apart(
    curator: Browser, runtime: Runtime, write: Callable
) -> None:
    collection_id, version_id = private_collection(write, curator.user_id)
    submitted = process(runtime, version_id, DATA / "example_invalid_CL.h5ad")

    page = curator.get(f"/collections/{collection_id}/workspace")

    assert page.status_code == 200
    text = re.sub(r"\s+", " ", page.text)
    assert f'data-dataset-version-id="{submitted.dataset_version_id}"' in text
    assert "VALIDATION_FAILURE" in text and "INVALID" in text
    with write() as session:
        stored = session.get(DatasetVersion, submitted.dataset_version_id)
        errors, warnings = list(stored.validation_errors), list(stored.validation_warnings)
    assert errors and warnings
    report = between(text, f'id="report-{submitted.dataset_id}"', "</section>")
    assert f"{len(errors)} errors" in report
    # Every error is on the page, with its location and its examples.
    for error in errors:
        assert error["message"].replace("'", "&#39;") in report, error["code"]
        if error.get("location"):
            assert f"<code>{error['location']}</code>" in report
    assert "CTACTATCATGTGACT-1-H0025_LV-0" in report  # an example cell of the invalid cell type
    # Grouped by rule group, in fixing order, each code once with its count.
    groups = re.findall(r'data-rule-group="([a-z_]+)"', between(report, "<h3>", "<details"))
    assert groups == sorted(set(groups), key=groups.index)  # each group once
    assert groups.index("names") < groups.index("ontology_term") < groups.index("features")
    invalid_terms = sum(e["code"] == "ontology_term.invalid" for e in errors)
    assert invalid_terms >= 2
    assert f"<code>ontology_term.invalid</code> · {invalid_terms} errors" in report
    # Warnings are apart, after the errors.
    warning_part = report[report.index('<details class="warnings"') :]
    for warning in warnings:
        assert warning["code"] in warning_part
    assert "features.filtered" not in report[: report.index('<details class="warnings"')]


def test_a_processed_dataset_is_published_with_its_real_cell_count(
    curator: Browser, runtime: Runtime, write: Callable, app: FastAPI
) -> None:
    collection_id, version_id = private_collection(write, curator.user_id)
    submitted = process(runtime, version_id, DATA / "example_valid.h5ad")
    with write() as session:
        dataset_version = service.resolve_dataset(session, submitted.dataset_version_id)[1]
        assert dataset_version.processing_status == "SUCCESS", dataset_version.failure_reason
        cells = dataset_version.dataset_metadata["cell_count"]
        title = dataset_version.title

    workspace = curator.get(f"/collections/{collection_id}/workspace").text
    assert "SUCCESS" in workspace and title in workspace
    confirm = re.sub(r"\s+", " ", curator.get(f"/collections/{collection_id}/publish").text)
    assert f"1 dataset, {cells:,} cells in all" in confirm and title in confirm

    published = curator.submit(f"/collections/{collection_id}/publish")

    assert "Its links are permanent" in curator.follow(published).text
    with write() as session:
        assert session.get(Collection, collection_id).published_version_id == version_id
    reader = Browser(app).get(f"/collections/{collection_id}")
    assert reader.status_code == 200 and title in reader.text
