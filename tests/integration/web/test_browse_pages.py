"""The reader's pages through the real app: browse with facets and search in the URL, home counts, the
collection page with its download dialogs, and the tombstones of withdrawn collections and datasets."""

from __future__ import annotations

import hashlib
import re
from html import unescape
from urllib.parse import urlencode

from fastapi.testclient import TestClient

from cellportal.catalog import service
from cellportal.catalog.statuses import ArtifactType, ConversionStatus
from tests.fixtures.builders import artifact_bytes, make_collection
from tests.integration.api.conftest import PUBLIC_URL, as_
from tests.integration.web import browse_data

BRAIN = "UBERON:0000955"


def _dataset_rows(html: str) -> set[str]:
    return set(re.findall(r'<tr id="dataset-([0-9a-f-]{36})"', html))


def test_datasets_page_filters_rolls_up_searches_and_keeps_it_all_in_the_url(client: TestClient, write) -> None:
    with write() as session:
        catalog = browse_data.build(session, collections=4, seed=3)
    page = client.get("/datasets")
    assert page.status_code == 200
    assert f"<strong>{len(catalog.public)}</strong> datasets" in page.text

    brainy = [d for d in catalog.public if BRAIN in browse_data.terms_of(d, "tissue")]
    query = urlencode([("tissue", BRAIN), ("sort", "title")])
    filtered = client.get(f"/datasets?{query}")
    assert filtered.status_code == 200
    assert f"<strong>{len(brainy)}</strong> dataset" in filtered.text
    # The checkbox stays ticked and the chip links to the same page without this filter.
    assert re.search(rf'name="tissue" value="{BRAIN}" checked', filtered.text)
    assert 'href="/datasets?sort=title"' in filtered.text

    word = sorted(catalog.public[0].text)[-1]
    searched = client.get("/datasets", params={"q": word})
    expected = [d for d in catalog.public if browse_data.matches(d, {}, word)]
    assert f"<strong>{len(expected)}</strong> dataset" in searched.text

    collections = client.get("/collections", params={"tissue": BRAIN})
    assert collections.status_code == 200
    assert f"<strong>{len({d.collection_id for d in brainy})}</strong> collection" in collections.text


def test_a_stranger_sees_no_private_data_in_lists_counts_or_search(client: TestClient, write) -> None:
    with write() as session:
        catalog = browse_data.build(session, collections=3, seed=5)
    private = catalog.private[0]
    secret_title = private.metadata["title"]
    for url in ("/", "/datasets", "/collections", f"/datasets?q={secret_title.split()[0]}"):
        stranger = client.get(url, headers=as_("stranger"))
        assert stranger.status_code == 200, url
        for hidden in catalog.private:
            assert hidden.dataset_id not in stranger.text and hidden.dataset_version_id not in stranger.text, url
            assert hidden.metadata["title"] not in stranger.text, url
    home = client.get("/", headers=as_("stranger"))
    total_cells = sum(d.metadata["cell_count"] for d in catalog.public)
    assert f"<strong>{total_cells:,}</strong> cells" in home.text
    owner_home = client.get("/", headers=as_("owner"))
    owner_cells = total_cells + sum(d.metadata["cell_count"] for d in catalog.private)
    assert f"<strong>{owner_cells:,}</strong> cells" in owner_home.text
    owner_list = client.get("/datasets", headers=as_("owner"))
    assert {hidden.dataset_id for hidden in catalog.private} <= _dataset_rows(owner_list.text)


def test_bad_filter_values_say_what_to_fix_and_keep_the_rest(client: TestClient, write) -> None:
    with write() as session:
        make_collection(session, name="A lung atlas")
    page = client.get("/datasets", params={"cells_min": "many", "tissue": "UBERON:0002048"})
    assert page.status_code == 400
    assert "whole number of cells" in unescape(page.text)
    assert "<strong>2</strong> datasets" in page.text  # the tissue filter still applies


def test_numbers_too_big_for_the_database_are_ignored_not_a_server_error(client: TestClient, write) -> None:
    with write() as session:
        make_collection(session, name="A lung atlas")
    page = client.get("/datasets", params={"cells_min": "9" * 30, "cells_max": str(2**63), "page": "9" * 30})
    assert page.status_code == 400
    text = unescape(page.text)
    assert text.count("cells; it was ignored") + text.count("cells (got") == 2
    assert "showing page 1" in text
    assert "<strong>2</strong> datasets" in page.text


def test_collection_page_download_dialog_lists_formats_with_size_sha256_and_permanent_links(
    client: TestClient, write, put_blob
) -> None:
    with write() as session:
        version = make_collection(
            session,
            name="A lung atlas",
            put_blob=put_blob,
            published=False,
            artifacts=(ArtifactType.RAW_H5AD, ArtifactType.H5AD, ArtifactType.LOOM, ArtifactType.EXPLORER),
        )
        dataset = version.dataset_versions[0]
        # No rds for this collection: the converter skipped the first dataset and failed on the second.
        for dv, status, why in (
            (dataset, ConversionStatus.SKIPPED, "Seurat cannot hold a dataset without raw counts."),
            (version.dataset_versions[1], ConversionStatus.FAILED, "R ran out of memory."),
        ):
            service.record_artifact(
                session, dataset_version_id=dv.id, type=ArtifactType.RDS, status=status, message=why
            )
        service.publish(session, collection_version_id=version.id)
    page = client.get(f"/collections/{version.collection_id}")
    assert page.status_code == 200
    html = unescape(page.text)
    dialog = re.search(rf'<dialog id="download-{dataset.id}".*?</dialog>', html, re.S)
    assert dialog is not None
    body = dialog.group(0)
    for extension, artifact_type in (("h5ad", ArtifactType.H5AD), ("loom", ArtifactType.LOOM)):
        data = artifact_bytes(dataset.id, artifact_type)
        url = f"{PUBLIC_URL}/datasets/{dataset.id}.{extension}"
        assert f'href="{url}"' in body
        assert f"curl -fLO {url}" in body
        assert f"{len(data):,} bytes" in body
        assert hashlib.sha256(data).hexdigest() in body
        # The permanent link really serves these bytes.
        assert client.get(f"/datasets/{dataset.id}.{extension}").content == data
    assert "stay valid forever" in body
    assert "skipped. Seurat cannot hold a dataset without raw counts." in body
    assert "conversion failed. R ran out of memory." in html
    assert f"{PUBLIC_URL}/e/{dataset.id}/" in html  # Explore this version
    assert "10.1000/cellportal.test" in html and "https://doi.org/10.1000/cellportal.test" in html
    assert version.id in html  # listed under published versions, and in the citation


def test_withdrawn_collection_and_dataset_answer_410_saying_what_when_why_and_where_instead(
    client: TestClient, write, put_blob
) -> None:
    with write() as session:
        gone = make_collection(session, name="A retracted atlas", put_blob=put_blob)
        kept = make_collection(session, name="A kidney atlas", datasets=3, put_blob=put_blob)
    with write() as session:
        service.withdraw_collection(session, collection_id=gone.collection_id, reason="Consent was withdrawn")
        dataset_id = kept.dataset_versions[0].dataset_id
        service.withdraw_dataset(session, dataset_id=dataset_id, reason="Wrong donor labels")

    page = client.get(f"/collections/{gone.collection_id}")
    assert page.status_code == 410
    assert "A retracted atlas" in unescape(page.text) and page.text.count("Consent was withdrawn") == 1

    page = client.get(f"/datasets/{dataset_id}/")
    assert page.status_code == 410
    html = unescape(page.text)
    assert "This dataset was withdrawn" in html and "Wrong donor labels" in html and "Dataset 1" in html
    assert f'href="/collections/{kept.collection_id}"' in html  # where to go instead
    # The live dataset's page is its row on the collection page; the withdrawn one is gone from it.
    live = kept.dataset_versions[1].dataset_id
    response = client.get(f"/datasets/{live}/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith(f"/collections/{kept.collection_id}")
    collection = client.get(f"/collections/{kept.collection_id}").text
    assert f'id="dataset-{live}"' in collection and f'id="dataset-{dataset_id}"' not in collection
    # ... and from browse and home.
    assert "A retracted atlas" not in client.get("/").text
    assert dataset_id not in client.get("/datasets").text


def test_collection_cards_name_the_organisms_and_tissues_of_their_listed_datasets(write) -> None:
    from cellportal.auth.policy import Principal
    from cellportal.browse import queries
    from cellportal.browse.selection import Selection
    from cellportal.web.listing import collection_cards

    with write() as session:
        catalog = browse_data.build(session, collections=4, seed=11)
    expected: dict[str, dict[str, set[str]]] = {}
    for listed in catalog.visible(owner=True):
        mine = expected.setdefault(listed.collection_id, {"organism": set(), "tissue": set()})
        for facet in mine:
            mine[facet] |= {value["label"] for value in listed.metadata[facet]}
    with write() as session:
        page = queries.collection_page(session, Principal(user_id=browse_data.OWNER), Selection())
        cards = collection_cards(session, page.rows)
    assert {card.id for card in cards} == set(expected)
    for card in cards:
        assert card.organisms == sorted(expected[card.id]["organism"]), card.name
        assert card.tissues == sorted(expected[card.id]["tissue"]), card.name
