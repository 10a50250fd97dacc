"""The reader's journey in a real browser (issue 5): filter the datasets, search the collections, open a
collection, download a file through its download dialog and check its sha256, open the explorer.

The portal is the real app over a real catalog; its datasets were generated and went through the real
pipeline before publication (tests/browser/portal_server.py). A private collection sits beside the published
ones: the search must not show it to an anonymous reader.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cellportal.catalog import service as catalog
from cellportal.catalog.db import transaction
from cellportal.explorer.routes import STATIC_DIR
from tests.browser.portal_server import (
    GeneratedDataset,
    PortalServer,
    PublishedCollection,
    running_portal,
    sha256_of,
)
from tests.conftest import require

pytestmark = pytest.mark.browser

TIMEOUT_MS = 60_000  # a loaded CI machine: Playwright's auto-waiting bounds, not sleeps
EXPLORER_SETTLED = "body[data-ready='1'][data-busy='0']"
MOUSE = "NCBITaxon:10090"
BLOOD_TITLE = "Circulating immune cells of adult donors"
CORTEX_TITLE = "Cortical neurons and glia of adult mice"


class Library:
    def __init__(self, portal: PortalServer, blood: PublishedCollection, cortex: PublishedCollection) -> None:
        self.portal, self.blood, self.cortex = portal, blood, cortex


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Library]:
    with running_portal(tmp_path_factory.mktemp("reader-portal")) as portal:
        blood = portal.publish_generated(
            owner_id="reader-test-owner-1",
            name="Human blood reference",
            description="Peripheral blood of healthy adults, profiled by droplet sequencing.",
            datasets=[GeneratedDataset("blood.h5ad", "human_blood", BLOOD_TITLE, seed=21)],
        )
        cortex = portal.publish_generated(
            owner_id="reader-test-owner-2",
            name="Mouse neocortex census",
            description="A census of the adult mouse neocortex: neurons, astrocytes and microglia.",
            datasets=[GeneratedDataset("cortex.h5ad", "mouse_brain", CORTEX_TITLE, seed=22)],
            consortia=["Brain Initiative Cell Census Network (BICCN)"],
        )
        with transaction(portal.runtime.sessions) as session:
            catalog.create_collection(  # private: never published, so no reader may find it
                session,
                owner_id="reader-test-owner-2",
                name="Unpublished neocortex census draft",
                description="A private draft about the neocortex that readers must not see.",
                contact_name="Hidden Curator",
                contact_email="hidden@example.org",
            )
        yield Library(portal, blood, cortex)


def new_page(browser: Any, downloads: bool = False) -> Any:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=downloads)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    return page


def test_reader_filters_searches_opens_downloads_and_explores(
    browser: Any, library: Library, artifacts_dir: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    require((STATIC_DIR / "explorer.js").exists(), "the explorer's browser bundle (make frontend)")
    portal = library.portal
    page = new_page(browser, downloads=True)
    shot = _screenshots(page, artifacts_dir / "reader")

    # 1. Datasets page, both published datasets; filter by organism through the facet checkbox.
    page.goto(portal.url("/datasets"))
    results = page.locator(".results-bar")
    expect(results).to_contain_text(re.compile(r"\b2\s+datasets\b"))
    rows = page.locator("table.datasets tbody tr")
    expect(rows).to_have_count(2)
    organism = page.locator("fieldset.facet[data-facet='organism']")
    expect(organism).to_contain_text("Mus musculus")
    shot("1-datasets")
    organism.locator(f"input[type=checkbox][value='{MOUSE}']").check()  # portal.js submits the form on change
    expect(page).to_have_url(re.compile(r"[?&]organism=NCBITaxon(%3A|:)10090"))
    expect(results).to_contain_text(re.compile(r"\b1\s+dataset\b"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(CORTEX_TITLE)
    expect(page.locator(f"fieldset.facet[data-facet='organism'] input[value='{MOUSE}']")).to_be_checked()
    shot("2-filtered-by-organism")

    # 2. Collections page: full-text search; the private draft with the same words stays hidden.
    page.goto(portal.url("/collections"))
    cards = page.locator("article.collection-card")
    expect(cards).to_have_count(2)
    page.get_by_role("searchbox").fill("neocortex")
    page.get_by_role("searchbox").press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]q=neocortex"))
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("Mouse neocortex census")
    expect(page.get_by_text("Unpublished neocortex census draft")).to_have_count(0)
    shot("3-searched")

    # 3. Open the collection.
    cards.first.get_by_role("link", name="Mouse neocortex census").click()
    expect(page).to_have_url(portal.url(f"/collections/{library.cortex.collection_id}"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Mouse neocortex census")
    expect(page.locator(".collection-meta")).to_contain_text("Brain Initiative Cell Census Network")
    row = page.locator("table.datasets tbody tr", has_text=CORTEX_TITLE)
    expect(row).to_have_count(1)
    shot("4-collection")

    # 4. The download dialog: size, sha256, permanent link, curl command; download through the link.
    version_id = library.cortex.dataset_version_ids[0]
    row.get_by_role("button", name="Download").click()
    dialog = page.locator(f"dialog#download-{version_id}")
    expect(dialog).to_be_visible()
    h5ad = dialog.locator("section.format[data-format='h5ad']")
    shown_sha256 = h5ad.locator("code.sha256").inner_text().strip()
    assert re.fullmatch(r"[0-9a-f]{64}", shown_sha256), f"the dialog shows no sha256: {shown_sha256!r}"
    permalink = h5ad.locator("a.permalink")
    href = permalink.get_attribute("href") or ""
    assert href.startswith(portal.base_url) and version_id in href, f"not this version's permanent link: {href}"
    expect(h5ad.locator("code.curl")).to_contain_text(href)
    expect(dialog).to_contain_text("valid forever")
    shot("5-download-dialog")
    with page.expect_download() as download_info:
        permalink.click()
    saved = tmp_path / "downloaded.h5ad"
    download_info.value.save_as(saved)
    assert saved.stat().st_size == int(h5ad.locator("dd.size").get_attribute("data-bytes") or -1)
    assert sha256_of(saved) == shown_sha256, "the downloaded file's sha256 differs from the one the dialog shows"
    assert portal.artifact_sha256(version_id, "h5ad") == shown_sha256, "the dialog's sha256 is not the catalog's"
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()

    # 5. The explorer of this dataset version.
    row.get_by_role("link", name="Explore").click()
    expect(page).to_have_url(re.compile(re.escape(f"/e/{version_id}")))
    expect(page.locator(EXPLORER_SETTLED)).to_have_count(1)
    expect(page.locator(".status")).to_contain_text("300 of 300 cells shown")
    shot("6-explorer")
    assert page.errors == [], page.errors


def _screenshots(page: Any, folder: Path) -> Any:
    folder.mkdir(parents=True, exist_ok=True)

    def shot(name: str) -> None:
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)

    return shot
