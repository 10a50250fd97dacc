"""The workspace's dataset rows, the replace page (the upload widget) and removing a dataset."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI

from cellportal.app import create_app
from cellportal.auth.principals import StaticTokens
from cellportal.catalog import service
from cellportal.catalog.models import Dataset
from cellportal.catalog.statuses import ArtifactType, ConversionStatus, ProcessingStatus, UploadStatus
from cellportal.runtime import Runtime
from tests.fixtures.builders import make_collection
from tests.integration.api.conftest import TOKENS
from tests.integration.web.curator_browser import Browser, make_user

pytestmark = pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)


@pytest.fixture
def app(runtime: Runtime) -> Iterator[FastAPI]:
    yield create_app(runtime, token_resolver=StaticTokens(TOKENS))


@pytest.fixture
def curator(app: FastAPI, runtime: Runtime) -> Browser:
    user_id, token = make_user(runtime, "ada")
    return Browser(app, user_id, token)


def test_rows_show_each_stage_and_carry_what_the_live_status_script_needs(curator: Browser, write: Callable) -> None:
    with write() as session:
        version = make_collection(session, owner_id=curator.user_id, published=False, datasets=1)
        ready = version.dataset_versions[0]
        busy = service.create_dataset(session, collection_version_id=version.id, original_filename="pbmc.h5ad")
        service.set_dataset_status(
            session, dataset_version_id=busy.id, upload_status=UploadStatus.UPLOADED, processing_status="PENDING"
        )
        service.record_artifact(
            session,
            dataset_version_id=ready.id,
            type=ArtifactType.LOOM,
            status=ConversionStatus.FAILED,
            message="loom writer ran out of disk",
        )

    page = curator.get(f"/collections/{version.collection_id}/workspace").text

    for dataset_version in (ready, busy):
        row = page[page.index(f'data-dataset-version-id="{dataset_version.id}"') :]
        row = row[: row.index("</tr>")]
        assert 'class="status"' in row and 'class="progress"' in row
    busy_row = page[page.index(f'data-dataset-version-id="{busy.id}"') :]
    busy_row = busy_row[: busy_row.index("</tr>")]
    assert "pbmc.h5ad" in busy_row and "PENDING" in busy_row
    assert "/replace" not in busy_row  # not while it is processing
    ready_row = page[page.index(f'data-dataset-version-id="{ready.id}"') :]
    ready_row = ready_row[: ready_row.index("</tr>")]
    assert "Dataset 1" in ready_row and "<td>100</td>" in ready_row
    assert "loom" in ready_row and "FAILED" in ready_row and "loom writer ran out of disk" in ready_row
    assert "2 datasets: 1 ready, 1 processing" in page
    assert 'class="cp-upload"' in page  # the upload widget, to add a dataset


def test_the_replace_page_holds_the_upload_widget_for_that_dataset(curator: Browser, write: Callable) -> None:
    with write() as session:
        version = make_collection(session, owner_id=curator.user_id, published=False, datasets=1)
        dataset_id = version.dataset_versions[0].dataset_id

    page = curator.get(f"/collections/{version.collection_id}/datasets/{dataset_id}/replace")

    assert page.status_code == 200
    assert f'data-replace-dataset-id="{dataset_id}"' in page.text
    assert f'data-collection-version-id="{version.id}"' in page.text


def test_a_dataset_still_processing_cannot_be_replaced(curator: Browser, write: Callable) -> None:
    with write() as session:
        version = make_collection(session, owner_id=curator.user_id, published=False, datasets=0)
        busy = service.create_dataset(session, collection_version_id=version.id, original_filename="x.h5ad")
        service.set_dataset_status(session, dataset_version_id=busy.id, processing_status=ProcessingStatus.PENDING)

    response = curator.get(f"/collections/{version.collection_id}/datasets/{busy.dataset_id}/replace")

    assert response.status_code == 303
    assert "still being uploaded or processed" in curator.follow(response).text


def test_removing_a_private_dataset_asks_first_then_deletes_it(curator: Browser, write: Callable) -> None:
    with write() as session:
        version = make_collection(session, owner_id=curator.user_id, published=False, datasets=2)
        dataset_id = version.dataset_versions[0].dataset_id
    url = f"/collections/{version.collection_id}/datasets/{dataset_id}/remove"

    confirm = curator.get(url)
    assert "never published, so it is deleted" in confirm.text
    removed = curator.submit(url)

    assert "Removed &#39;Dataset 1&#39;" in curator.follow(removed).text
    with write() as session:
        assert session.get(Dataset, dataset_id) is None
        assert len(service.open_revision(session, collection_id=version.collection_id).dataset_links) == 1
