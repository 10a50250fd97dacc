"""Creating and editing a collection in the browser: the form, its messages, and nothing typed lost."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI

from cellportal.app import create_app
from cellportal.auth.principals import StaticTokens
from cellportal.catalog import service
from cellportal.catalog.models import Collection
from cellportal.runtime import Runtime
from tests.fixtures.builders import make_collection
from tests.integration.api.conftest import TOKENS
from tests.integration.web.curator_browser import Browser, make_user

pytestmark = pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)

GOOD = {
    "name": "Human lung atlas",
    "description": "Single-cell RNA-seq of 12 donors.",
    "contact_name": "Ada Curator",
    "contact_email": "ada@example.org",
    "consortia": "Human Cell Atlas (HCA)\nLungMAP",
}


@pytest.fixture
def app(runtime: Runtime) -> Iterator[FastAPI]:
    yield create_app(runtime, token_resolver=StaticTokens(TOKENS))


@pytest.fixture
def curator(app: FastAPI, runtime: Runtime) -> Browser:
    user_id, token = make_user(runtime, "ada")
    return Browser(app, user_id, token)


def links(*rows: tuple[str, str, str]) -> list[tuple[str, str]]:
    fields = []
    for kind, name, url in rows:
        fields += [("link_type", kind), ("link_name", name), ("link_url", url)]
    return fields


def test_anonymous_visitors_are_sent_to_sign_in(app: FastAPI) -> None:
    anonymous = Browser(app)
    for url in ("/my", "/collections/new"):
        response = anonymous.get(url)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")


def test_create_a_collection_then_land_in_its_workspace(curator: Browser, write: Callable) -> None:
    data = [
        *GOOD.items(),
        *links(("DOI", "", "doi:10.1038/s41586-020-2922-4"), ("RAW_DATA", "GEO", "https://www.ncbi.nlm.nih.gov/geo/")),
    ]

    created = curator.submit("/collections/new", data=data)

    assert created.status_code == 303
    workspace = curator.follow(created)
    assert workspace.status_code == 200
    assert "Created the private collection &#39;Human lung atlas&#39;" in workspace.text
    with write() as session:
        [collection] = session.query(Collection).all()
        version = service.open_revision(session, collection_id=collection.id)
        assert collection.owner_id == curator.user_id
        assert version is not None and version.name == "Human lung atlas"
        assert version.links[0] == {
            "link_type": "DOI",
            "link_name": None,
            "link_url": "https://doi.org/10.1038/s41586-020-2922-4",
        }
        assert version.links[1]["link_url"] == "https://www.ncbi.nlm.nih.gov/geo/"
        assert version.consortia == ["Human Cell Atlas (HCA)", "LungMAP"]
    assert workspace.url.path == f"/collections/{collection.id}/workspace"


def test_bad_input_is_explained_next_to_each_field_and_nothing_typed_is_lost(curator: Browser, write: Callable) -> None:
    data = [
        ("name", "   "),
        ("description", "Keep this description"),
        ("contact_name", "Ada Curator"),
        ("contact_email", "ada-at-example"),
        ("consortia", "LungMAP"),
        *links(
            ("DOI", "paper", "not a doi"),
            ("PROTOCOL", "protocols.io", "https//protocols.io/x"),
            ("RAW_DATA", "GEO", ""),
        ),
    ]

    page = curator.submit("/collections/new", data=data)

    assert page.status_code == 422
    text = page.text
    assert 'id="error-name"' in text and "needs a name" in text
    assert 'id="error-contact_email"' in text and "is not an email address" in text
    assert 'id="error-links-0-link_url"' in text and "is not a DOI" in text
    assert 'id="error-links-1-link_url"' in text and "is not a web address" in text
    assert 'id="error-links-2-link_url"' in text and "needs a URL" in text
    # Everything typed comes back in the form.
    for typed in (
        "Keep this description",
        "Ada Curator",
        "ada-at-example",
        "LungMAP",
        "not a doi",
        "https//protocols.io/x",
        "protocols.io",
        "GEO",
    ):
        assert f"{typed}" in text, typed
    assert '<option value="PROTOCOL" selected>' in text
    with write() as session:
        assert session.query(Collection).count() == 0  # nothing was saved


def test_two_dois_are_refused(curator: Browser) -> None:
    data = [*GOOD.items(), *links(("DOI", "", "10.1/a"), ("DOI", "", "10.1/b"))]
    page = curator.submit("/collections/new", data=data)
    assert page.status_code == 422
    assert "at most one DOI" in page.text


def test_link_rows_are_added_and_removed_without_saving_or_losing_anything(curator: Browser, write: Callable) -> None:
    data = [
        *GOOD.items(),
        *links(("RAW_DATA", "GEO", "https://example.org/geo"), ("OTHER", "Old", "https://example.org/old")),
    ]

    added = curator.submit("/collections/new", data=[*data, ("form_action", "add_link")])
    assert added.status_code == 200
    assert added.text.count('name="link_url"') == 3  # two typed rows and the new empty one
    removed = curator.submit("/collections/new", data=[*data, ("remove_link", "1")])
    assert removed.status_code == 200
    assert "https://example.org/old" not in removed.text
    assert "https://example.org/geo" in removed.text and "Human lung atlas" in removed.text
    with write() as session:
        assert session.query(Collection).count() == 0


def test_edit_changes_the_private_version_and_refills_the_form_on_error(curator: Browser, write: Callable) -> None:
    with write() as session:
        version = make_collection(session, owner_id=curator.user_id, published=False, datasets=0)
    edit = f"/collections/{version.collection_id}/edit"

    form = curator.get(edit)
    assert form.status_code == 200
    assert 'value="A lung atlas"' in form.text and "https://example.org/geo/GSE1" in form.text

    bad = curator.submit(
        edit, data=[*GOOD.items(), ("name", ""), *links(("LAB_WEBSITE", "Lab", "ftp://lab.example.org"))]
    )
    assert bad.status_code == 422
    assert "needs a name" in bad.text and "ftp://lab.example.org" in bad.text

    saved = curator.submit(edit, data=[*GOOD.items(), *links(("LAB_WEBSITE", "Lab", "https://lab.example.org"))])
    assert "Saved the collection" in curator.follow(saved).text
    with write() as session:
        changed = service.open_revision(session, collection_id=version.collection_id)
        assert changed is not None and changed.name == "Human lung atlas"
        assert changed.links == [
            {"link_type": "LAB_WEBSITE", "link_name": "Lab", "link_url": "https://lab.example.org"}
        ]


def test_a_published_version_is_not_edited_in_place(curator: Browser, write: Callable) -> None:
    with write() as session:
        version = make_collection(session, owner_id=curator.user_id, datasets=1)

    response = curator.get(f"/collections/{version.collection_id}/edit")

    assert response.status_code == 303
    assert "start a revision" in curator.client.get(response.headers["location"]).text


def test_a_post_without_the_csrf_token_is_refused(curator: Browser, write: Callable) -> None:
    response = curator.post_without_csrf("/collections/new", data=GOOD)
    assert response.status_code == 403
    with write() as session:
        assert session.query(Collection).count() == 0


def test_my_collections_lists_private_revisions_and_published(curator: Browser, write: Callable) -> None:
    with write() as session:
        make_collection(session, owner_id=curator.user_id, name="Draft atlas", published=False, datasets=1)
        published = make_collection(session, owner_id=curator.user_id, name="Published atlas", datasets=1)
        revised = make_collection(session, owner_id=curator.user_id, name="Atlas under revision", datasets=2)
        service.start_revision(session, collection_id=revised.collection_id)
        make_collection(session, owner_id="someone-else", name="Not mine", published=False)

    page = curator.get("/my")

    assert page.status_code == 200
    text = page.text
    assert "New collection" in text
    assert "Draft atlas" in text and "Published atlas" in text and "Atlas under revision" in text
    assert "Not mine" not in text
    assert text.index("Draft atlas") < text.index("Atlas under revision") < text.index("Published atlas")
    assert "1 dataset: 1 ready" in text and "2 datasets: 2 ready" in text
    assert f"/collections/{published.collection_id}/workspace" in text
