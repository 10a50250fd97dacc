"""The curator's journey in a real browser (issue 5): sign up, create a collection, upload a dataset, see the
validator's error, fix the file and upload it again, share the private collection with a viewer (who sees it)
while a stranger does not, create a share link then revoke it, publish, revise, withdraw, see the tombstone.

Every step goes through the pages a curator uses: the forms, the resumable upload widget (tus), the app's
own processing of the upload (the real pipeline, in the portal's process since no worker runs), the sharing
page, the publish/revision/withdraw confirmations. Other people are separate browser contexts (own cookies).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cellportal.web.routes import STATIC as BUNDLE_DIR
from tests.browser.portal_server import GeneratedDataset, PortalServer, running_portal
from tests.conftest import require
from tests.fixtures.accounts import create_user

pytestmark = pytest.mark.browser

TIMEOUT_MS = 60_000  # Playwright's auto-waiting bound for page steps on a loaded machine
PIPELINE_MS = 600_000  # validation + conversions of a few hundred cells under heavy load; seconds when quiet
PASSWORD = "journey-pass-1234"
CURATOR = "curie"
VIEWER = "vera-viewer"
STRANGER = "stan-stranger"
COLLECTION = "Mouse cortex, curated in the browser"
INVALID_TERM = "CL:not-a-term"


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[PortalServer]:
    require((BUNDLE_DIR / "upload.js").exists(), "the upload widget's bundle (make frontend)")
    with running_portal(tmp_path / "portal") as server:
        for username in (VIEWER, STRANGER):
            create_user(server.runtime, username, PASSWORD, email=f"{username}@example.org")
        yield server


@pytest.fixture
def dataset_files(portal: PortalServer, tmp_path: Path) -> tuple[Path, Path]:
    """A valid file and a copy of it with one schema error (cell types that are not CL terms)."""
    import anndata

    good = portal.generate(GeneratedDataset("cortex.h5ad", "mouse_brain", "Cortex of adult mice", seed=31))
    adata = anndata.read_h5ad(good)
    cell_types = adata.obs["cell_type_ontology_term_id"].astype(str).to_numpy().copy()
    cell_types[:10] = INVALID_TERM
    adata.obs["cell_type_ontology_term_id"] = cell_types
    adata.obs["cell_type_ontology_term_id"] = adata.obs["cell_type_ontology_term_id"].astype("category")
    bad = tmp_path / "cortex-broken.h5ad"
    adata.write_h5ad(bad)
    return good, bad


def test_curator_journey_from_sign_up_to_tombstone(
    browser: Any, portal: PortalServer, dataset_files: tuple[Path, Path], artifacts_dir: Path
) -> None:
    from playwright.sync_api import expect

    good, bad = dataset_files
    curator = new_page(browser)
    shot = screenshots(curator, artifacts_dir / "curator")

    # 1. Sign up.
    curator.goto(portal.url("/signup"))
    curator.get_by_label("Username").fill(CURATOR)
    curator.get_by_label("E-mail (optional)").fill("curie@example.org")
    curator.get_by_label("Password", exact=True).fill(PASSWORD)
    curator.get_by_label("Password again").fill(PASSWORD)
    shot("01-sign-up")
    curator.get_by_role("button", name="Create account").click()
    expect(curator).not_to_have_url(re.compile(r"/signup"))

    # 2. Create a private collection.
    curator.goto(portal.url("/my"))
    curator.get_by_role("button", name="New collection").click()
    expect(curator).to_have_url(portal.url("/collections/new"))
    curator.get_by_label("Name", exact=True).fill(COLLECTION)
    curator.get_by_label("Description").fill("Neurons and glia of the adult mouse cortex, uploaded by the journey.")
    curator.get_by_label("Contact name").fill("Marie Curie")
    curator.get_by_label("Contact e-mail").fill("curie@example.org")
    curator.get_by_role("button", name="Create the collection").click()
    expect(curator).to_have_url(re.compile(r"/collections/[^/]+/workspace$"))
    expect(curator.get_by_role("heading", level=1)).to_have_text(COLLECTION)
    expect(curator.locator(".badge", has_text="private")).to_be_visible()
    workspace_url = curator.url
    collection_id = workspace_url.split("/collections/")[1].split("/")[0]
    public_path = f"/collections/{collection_id}"
    shot("02-created")

    # 3. Upload a file with a schema error; the validator's error shows, grouped, on the workspace.
    upload_and_wait(curator, bad, expected="VALIDATION_FAILURE")
    shot("03-uploaded-invalid")
    curator.reload()
    report = curator.locator("section.report")
    expect(report).to_be_visible()
    expect(report).to_contain_text("1 error")
    expect(report).to_contain_text(INVALID_TERM)
    expect(report).to_contain_text("cell_type_ontology_term_id")
    row = curator.locator("table.datasets tr[data-dataset-id]")
    expect(row).to_have_count(1)
    expect(row.locator(".status .badge")).to_have_text("VALIDATION_FAILURE")
    shot("04-validation-error")

    # 4. Fix: replace the dataset with the corrected file; it processes to SUCCESS and the errors are gone.
    dataset_id = row.get_attribute("data-dataset-id")
    row.get_by_role("link", name="Replace").click()
    expect(curator).to_have_url(portal.url(f"/collections/{collection_id}/datasets/{dataset_id}/replace"))
    upload_and_wait(curator, good, expected="SUCCESS")
    shot("05-replaced")
    curator.goto(workspace_url)
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-dataset-id", dataset_id or "")
    expect(row.locator(".status .badge")).to_have_text("SUCCESS")
    # The error report is gone (a valid file may still carry warnings, shown in a report of their own).
    expect(curator.get_by_text("The validator refused this file")).to_have_count(0)
    expect(curator.locator("section.report h3", has_text="error")).to_have_count(0)
    shot("06-fixed")

    # 5. Share with a viewer, who sees the private collection; a stranger gets "not found".
    curator.get_by_role("link", name="Sharing").click()
    expect(curator).to_have_url(portal.url(f"/collections/{collection_id}/sharing"))
    curator.get_by_label("Username or e-mail").fill(VIEWER)
    curator.get_by_label("Role", exact=True).select_option("viewer")
    curator.get_by_role("button", name="Add collaborator").click()
    expect(curator.locator(f"tr[data-testid='collaborator-row'][data-username='{VIEWER}']")).to_be_visible()
    shot("07-shared-with-viewer")

    viewer = signed_in(browser, portal, VIEWER)
    response = viewer.goto(portal.url(public_path))
    assert response is not None and response.status == 200, "the viewer cannot open the shared collection"
    expect(viewer.get_by_role("heading", level=1)).to_contain_text(COLLECTION)
    expect(viewer.locator("table.datasets tbody tr")).to_have_count(1)
    viewer.screenshot(path=str(artifacts_dir / "curator" / "08-viewer-sees-it.png"), full_page=True)

    stranger = signed_in(browser, portal, STRANGER)
    response = stranger.goto(portal.url(public_path))
    assert response is not None and response.status == 404, f"a stranger got {response and response.status}"
    expect(stranger.get_by_text(COLLECTION)).to_have_count(0)
    stranger.goto(portal.url("/collections"))
    expect(stranger.locator("article.collection-card")).to_have_count(0)
    stranger.screenshot(path=str(artifacts_dir / "curator" / "09-stranger-does-not.png"), full_page=True)

    # 6. A share link lets anyone without an account read it, until it is revoked.
    curator.get_by_role("button", name="Create a share link").click()
    new_link = curator.locator("[data-testid='new-share-link'] code")
    expect(new_link).to_be_visible()
    share_url = new_link.inner_text().strip()
    assert "share=" in share_url, f"not a share link: {share_url}"
    shot("10-share-link")
    anonymous = new_page(browser)
    response = anonymous.goto(share_url)
    assert response is not None and response.status == 200, "the share link does not open the collection"
    expect(anonymous.get_by_role("heading", level=1)).to_contain_text(COLLECTION)
    curator.goto(portal.url(f"/collections/{collection_id}/sharing"))
    link_row = curator.locator("tr[data-testid='share-link-row']")
    expect(link_row).to_have_count(1)
    link_row.get_by_role("button", name="Revoke").click()
    expect(link_row).to_contain_text("revoked")
    shot("11-share-link-revoked")
    fresh = new_page(browser)  # a new visitor with the revoked link, and the earlier one coming back
    for visitor in (fresh, anonymous):
        response = visitor.goto(share_url)
        assert response is not None and response.status == 404, "a revoked share link still opens the collection"
        expect(visitor.get_by_text(COLLECTION)).to_have_count(0)

    # 7. Publish: the confirmation says what becomes public and permanent.
    curator.goto(workspace_url)
    curator.get_by_role("link", name="Publish…").click()
    expect(curator.get_by_role("heading", name="What becomes public")).to_be_visible()
    expect(curator.locator(".permanent")).to_contain_text("cannot be undone")
    shot("12-publish-confirmation")
    curator.get_by_role("button", name="Publish", exact=True).click()
    expect(curator).to_have_url(workspace_url)
    expect(curator.locator(".badge", has_text="published")).to_be_visible()
    stranger.goto(portal.url(public_path))
    expect(stranger.get_by_role("heading", level=1)).to_have_text(COLLECTION)
    expect(stranger.locator("ol.versions li")).to_have_count(1)
    shot("13-published")

    # 8. Revise: start a revision, change the description, publish it; readers see the new text and 2 versions.
    revised_text = "Revised: neurons, astrocytes and microglia of the adult mouse cortex."
    curator.get_by_role("button", name="Start a revision").click()
    expect(curator.locator(".badge", has_text="open revision")).to_be_visible()
    curator.get_by_role("link", name="Edit metadata").click()
    curator.get_by_label("Description").fill(revised_text)
    curator.get_by_role("button", name="Save").click()
    expect(curator).to_have_url(workspace_url)
    curator.get_by_role("link", name="Publish this revision…").click()
    expect(curator.locator("ul.changes")).to_contain_text("Metadata: Description")
    shot("14-revision-confirmation")
    curator.get_by_role("button", name="Publish this revision").click()
    expect(curator).to_have_url(workspace_url)
    stranger.goto(portal.url(public_path))
    expect(stranger.locator("p.description")).to_have_text(revised_text)
    expect(stranger.locator("ol.versions li")).to_have_count(2)
    shot("15-revised")

    # 9. Withdraw with a reason; the collection's link answers 410 with a tombstone that says why.
    reason = "Withdrawn by the journey test: the samples were mislabelled."
    curator.goto(workspace_url)
    curator.get_by_role("link", name="Withdraw this collection…").click()
    curator.get_by_label(re.compile(r"^Reason")).fill(reason)
    curator.get_by_role("button", name="Withdraw the collection").click()
    expect(curator).to_have_url(portal.url("/my"))
    response = stranger.goto(portal.url(public_path))
    assert response is not None and response.status == 410, f"the withdrawn collection answered {response.status}"
    tombstone = stranger.locator("section.tombstone")
    expect(tombstone).to_contain_text("was withdrawn")
    expect(tombstone.locator(".reason")).to_have_text(reason)
    expect(tombstone).to_contain_text(COLLECTION)
    stranger.screenshot(path=str(artifacts_dir / "curator" / "16-tombstone.png"), full_page=True)
    for page in (curator, viewer, stranger, anonymous, fresh):
        assert page.errors == [], page.errors


def new_page(browser: Any) -> Any:
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    return page


def signed_in(browser: Any, portal: PortalServer, username: str) -> Any:
    """A new browser (own cookies) signed in through the login form."""
    from playwright.sync_api import expect

    page = new_page(browser)
    page.goto(portal.url("/login"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile(r"^Sign in|^Log in")).click()
    expect(page).not_to_have_url(re.compile(r"/login"))
    return page


def upload_and_wait(page: Any, path: Path, *, expected: str) -> None:
    """Choose the file in the upload widget; wait until the upload finished and processing ended."""
    from playwright.sync_api import expect

    page.locator(".cp-upload .cp-file").set_input_files(str(path))
    expect(page.locator(".cp-percent")).to_have_text("100 %")
    submitted = page.locator(".cp-submitted li")
    expect(submitted).to_have_count(1)
    badge = submitted.locator(".badge")
    expect(badge).to_have_text(re.compile(r"SUCCESS|VALIDATION_FAILURE|PIPELINE_FAILURE"), timeout=PIPELINE_MS)
    assert badge.inner_text() == expected, f"processing ended as {badge.inner_text()}: {submitted.inner_text()}"


def screenshots(page: Any, folder: Path) -> Callable[[str], None]:
    folder.mkdir(parents=True, exist_ok=True)

    def shot(name: str) -> None:
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)

    return shot
