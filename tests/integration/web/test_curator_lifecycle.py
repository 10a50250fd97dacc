"""Publish, revise, cancel and withdraw from the browser, and who may do which (one policy, every route)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI

from cellportal.app import create_app
from cellportal.auth import sharing
from cellportal.auth.principals import StaticTokens
from cellportal.catalog import service
from cellportal.catalog.models import Collection, Dataset
from cellportal.catalog.statuses import ProcessingStatus
from cellportal.runtime import Runtime
from cellportal.web.curator.lifecycle import fingerprint
from tests.fixtures.builders import add_ready_dataset, make_collection
from tests.integration.api.conftest import TOKENS
from tests.integration.web.curator_browser import Browser, make_user


@pytest.fixture
def app(runtime: Runtime) -> Iterator[FastAPI]:
    yield create_app(runtime, token_resolver=StaticTokens(TOKENS))


@pytest.fixture
def people(app: FastAPI, runtime: Runtime) -> dict[str, Browser]:
    """owner, editor, viewer, stranger and admin, each signed in in a browser of their own."""
    browsers = {}
    for name in ("owner", "editor", "viewer", "stranger", "admin"):
        user_id, token = make_user(runtime, name, admin=name == "admin")
        browsers[name] = Browser(app, user_id, token)
    return browsers


@pytest.fixture
def private(people: dict[str, Browser], write: Callable) -> str:
    """A private collection of `owner` with two SUCCESS datasets, shared with `editor` and `viewer`."""
    with write() as session:
        version = make_collection(session, owner_id=people["owner"].user_id, published=False, name="Lung atlas")
        for who in ("editor", "viewer"):
            sharing.add_collaborator(session, version.collection_id, who, who, added_by=people["owner"].user_id)
        return version.collection_id


def cells(text: str) -> str:
    return re.sub(r"\s+", " ", text)


# --- who may do what --------------------------------------------------------------------------------------


@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
def test_who_sees_and_changes_a_private_collection(people: dict[str, Browser], private: str) -> None:
    workspace, edit = f"/collections/{private}/workspace", f"/collections/{private}/edit"
    expected = {
        # who: (workspace, edit form, publish page, withdraw page)
        "stranger": (404, 404, 404, 404),
        "viewer": (200, 403, 403, 403),
        "editor": (200, 200, 200, 403),
        "owner": (200, 200, 200, 303),  # withdraw: allowed, but a private collection is deleted instead
        "admin": (200, 200, 200, 303),
    }
    for who, statuses in expected.items():
        got = tuple(
            people[who].get(url).status_code
            for url in (workspace, edit, f"/collections/{private}/publish", f"/collections/{private}/withdraw")
        )
        assert got == statuses, who
    # A viewer sees the datasets but no button that would change them.
    page = people["viewer"].get(workspace).text
    assert "Dataset 1" in page and "Edit metadata" not in page and "/remove" not in page
    assert "Not allowed" in people["viewer"].get(edit).text
    assert "There is no collection" in people["stranger"].get(workspace).text


@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
def test_refused_posts_change_nothing(people: dict[str, Browser], private: str, write: Callable) -> None:
    # The stranger forges a form (a valid CSRF token of their own, from a page they can open).
    stranger = people["stranger"]
    forged = stranger.submit("/collections/new", f"/collections/{private}/edit", data={"name": "Hijacked"})
    assert forged.status_code == 404
    viewer = people["viewer"]
    assert viewer.submit(f"/collections/{private}/workspace", f"/collections/{private}/publish").status_code == 403
    editor = people["editor"]
    assert editor.submit(f"/collections/{private}/workspace", f"/collections/{private}/delete").status_code == 403
    with write() as session:
        version = service.open_revision(session, collection_id=private)
        assert version is not None and version.name == "Lung atlas" and version.published_at is None


# --- publishing -------------------------------------------------------------------------------------------


def test_the_publish_confirmation_says_what_becomes_public_and_permanent(
    people: dict[str, Browser], private: str, write: Callable
) -> None:
    with write() as session:
        datasets = service.open_revision(session, collection_id=private).dataset_versions
        titles_and_ids = [(d.title, d.dataset_id) for d in datasets]

    page = people["editor"].get(f"/collections/{private}/publish")

    assert page.status_code == 200
    text = cells(page.text)
    for title, dataset_id in titles_and_ids:
        assert title in text and dataset_id in text
    assert "2 datasets, 200 cells in all" in text  # the builders' datasets have 100 cells each
    assert f"https://cells.example.org/collections/{private}" in text
    assert "can never be modified or deleted" in text
    assert "Publishing cannot be undone" in text and "withdraw" in text


def test_publish_then_the_canonical_page_is_public(
    people: dict[str, Browser], private: str, write: Callable, app: FastAPI
) -> None:
    editor = people["editor"]
    published = editor.submit(f"/collections/{private}/publish")

    assert "Published &#39;Lung atlas&#39;" in editor.follow(published).text
    with write() as session:
        collection = session.get(Collection, private)
        assert collection.published_version_id is not None
    assert Browser(app).get(f"/collections/{private}").status_code == 200  # anyone, signed in or not


def test_publishing_is_refused_with_every_reason(people: dict[str, Browser], write: Callable) -> None:
    owner = people["owner"]
    with write() as session:
        empty = make_collection(session, owner_id=owner.user_id, published=False, datasets=0)
        failing = make_collection(session, owner_id=owner.user_id, published=False, datasets=1, name="Half done")
        broken = service.create_dataset(session, collection_version_id=failing.id, original_filename="bad.h5ad")
        service.set_dataset_status(session, dataset_version_id=broken.id, processing_status=ProcessingStatus.FAILURE)

    page = owner.get(f"/collections/{empty.collection_id}/publish")
    assert page.status_code == 409
    assert "cannot be published yet" in page.text and "it has no datasets" in page.text
    assert 'name="fingerprint"' not in page.text  # no publish button
    page = owner.get(f"/collections/{failing.collection_id}/publish")
    assert page.status_code == 409 and "is FAILURE, not SUCCESS" in page.text

    # A POST anyway (an old tab) is refused by the catalog's rules, with the reasons.
    with write() as session:
        shown = fingerprint(service.open_revision(session, collection_id=failing.collection_id))
    refused = owner.submit(
        f"/collections/{failing.collection_id}/workspace",
        f"/collections/{failing.collection_id}/publish",
        data={"fingerprint": shown},
    )
    assert "Not published: dataset" in owner.follow(refused).text
    with write() as session:
        assert session.get(Collection, failing.collection_id).published_version_id is None


def _add_a_dataset(session: Any, version: Any) -> None:
    add_ready_dataset(session, version, title="Late addition")


def _rewrite_the_description(session: Any, version: Any) -> None:
    version.description = "Rewritten after the confirmation."


@pytest.mark.parametrize("meanwhile", [_add_a_dataset, _rewrite_the_description])
def test_a_publish_confirmed_before_the_collection_changed_is_not_carried_out(
    people: dict[str, Browser], private: str, write: Callable, meanwhile: Callable
) -> None:
    """An editor changes the collection (in another tab) between the confirmation page and the publish."""
    owner = people["owner"]
    page = owner.get(f"/collections/{private}/publish")
    shown = re.search(r'name="fingerprint" value="([^"]+)"', page.text).group(1)
    with write() as session:
        meanwhile(session, service.open_revision(session, collection_id=private))

    response = owner.submit(
        f"/collections/{private}/workspace", f"/collections/{private}/publish", data={"fingerprint": shown}
    )

    assert response.headers["location"] == f"/collections/{private}/publish"
    assert "changed since the confirmation page" in owner.follow(response).text
    with write() as session:
        assert session.get(Collection, private).published_version_id is None


# --- revisions --------------------------------------------------------------------------------------------


def test_revise_remove_a_dataset_and_publish_shows_what_changes(
    people: dict[str, Browser], write: Callable, app: FastAPI
) -> None:
    owner = people["owner"]
    with write() as session:
        version = make_collection(session, owner_id=owner.user_id, name="Lung atlas")
        collection_id = version.collection_id
        first, second = (d.dataset_id for d in version.dataset_versions)
    workspace = f"/collections/{collection_id}/workspace"

    started = owner.submit(workspace, f"/collections/{collection_id}/revision")
    assert "Started a revision" in owner.follow(started).text
    confirm = owner.get(f"/collections/{collection_id}/datasets/{second}/remove")
    assert "withdrawn" in confirm.text and "410" in confirm.text
    removed = owner.submit(f"/collections/{collection_id}/datasets/{second}/remove")
    assert "Removed &#39;Dataset 2&#39;" in owner.follow(removed).text
    saved = owner.submit(
        f"/collections/{collection_id}/edit",
        data={"name": "Lung atlas, corrected", "contact_name": "Ada", "contact_email": "ada@example.org"},
    )
    assert saved.status_code == 303

    page = cells(owner.get(f"/collections/{collection_id}/publish").text)
    assert "Publish the revision of 'Lung atlas'" in page
    assert "Metadata: Name" in page
    assert f"{second}</code>) is removed" in page and "410 Gone" in page
    assert "unchanged" in page  # the first dataset
    # Readers still see the published version meanwhile.
    assert "Lung atlas, corrected" not in Browser(app).get(f"/collections/{collection_id}").text

    published = owner.submit(f"/collections/{collection_id}/publish")
    assert "Published the revision" in owner.follow(published).text
    with write() as session:
        assert session.get(Dataset, second).tombstoned_at is not None
        assert session.get(Dataset, first).tombstoned_at is None
    assert "Lung atlas, corrected" in Browser(app).get(f"/collections/{collection_id}").text


def test_cancel_a_revision_after_confirming(people: dict[str, Browser], write: Callable) -> None:
    editor, owner = people["editor"], people["owner"]
    with write() as session:
        version = make_collection(session, owner_id=owner.user_id, name="Lung atlas")
        sharing.add_collaborator(session, version.collection_id, "editor", "editor", added_by=owner.user_id)
        revision = service.start_revision(session, collection_id=version.collection_id)
        add_ready_dataset(session, revision, title="Extra dataset")
    collection_id = version.collection_id

    confirm = editor.get(f"/collections/{collection_id}/revision/cancel")
    assert confirm.status_code == 200
    assert "Extra dataset" in confirm.text and "published version stays exactly as it is" in confirm.text
    cancelled = editor.submit(f"/collections/{collection_id}/revision/cancel")
    assert "Cancelled the revision" in editor.follow(cancelled).text
    with write() as session:
        assert service.open_revision(session, collection_id=collection_id) is None
        assert session.get(Collection, collection_id).published_version_id == version.id


# --- withdrawal -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["owner", "admin"])
def test_withdraw_needs_a_reason_then_the_collection_answers_410(
    who: str, people: dict[str, Browser], write: Callable, app: FastAPI
) -> None:
    with write() as session:
        version = make_collection(session, owner_id=people["owner"].user_id, name="Lung atlas")
        sharing.add_collaborator(session, version.collection_id, "editor", "editor", added_by=None)
    collection_id = version.collection_id
    url = f"/collections/{collection_id}/withdraw"
    assert people["editor"].get(url).status_code == 403  # editors publish, only owners (and admins) withdraw

    page = people[who].get(url)
    assert "cannot be undone" in page.text and "Dataset 1" in page.text
    missing = people[who].submit(url, data={"reason": "   "})
    assert missing.status_code == 422 and "Give a reason" in missing.text

    withdrawn = people[who].submit(url, data={"reason": "Consent was withdrawn by two donors"})
    assert "Withdrew &#39;Lung atlas&#39;" in people[who].follow(withdrawn).text
    public = Browser(app).get(f"/collections/{collection_id}")
    assert public.status_code == 410 and "Consent was withdrawn by two donors" in public.text
    assert people[who].get(f"/collections/{collection_id}/workspace").status_code == 410


def test_withdraw_one_dataset(people: dict[str, Browser], write: Callable) -> None:
    owner = people["owner"]
    with write() as session:
        version = make_collection(session, owner_id=owner.user_id, name="Lung atlas")
        dataset_id = version.dataset_versions[1].dataset_id
    url = f"/collections/{version.collection_id}/datasets/{dataset_id}/withdraw"

    assert "publishes a new version of the collection without it" in owner.get(url).text
    withdrawn = owner.submit(url, data={"reason": "Wrong donor labels"})

    assert "Withdrew the dataset" in owner.follow(withdrawn).text
    with write() as session:
        dataset = session.get(Dataset, dataset_id)
        assert dataset.tombstoned_at is not None and dataset.tombstone_reason == "Wrong donor labels"
