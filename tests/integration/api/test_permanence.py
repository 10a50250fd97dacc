"""End to end: publish, revise (replace, remove, add), publish again, withdraw. Every URL ever published
keeps answering 200 or 410 — never 404 — for an anonymous reader, and answers what it answered before
until a tombstone says otherwise."""

from __future__ import annotations

from fastapi.testclient import TestClient

from cellportal.catalog import service
from cellportal.catalog.models import CollectionVersion, DatasetVersion
from tests.fixtures.builders import add_ready_dataset, make_collection, make_ready

API = "/curation/v1"
EXTENSIONS = ("h5ad", "rds", "loom", "explorer.h5")


def dataset_urls(version: DatasetVersion) -> list[str]:
    return [
        f"{API}/dataset_versions/{version.id}",
        f"{API}/dataset_versions/{version.dataset_id}",
        f"{API}/datasets/{version.dataset_id}/versions",
        *(f"/datasets/{version.id}.{ext}" for ext in EXTENSIONS),
        *(f"/datasets/{version.dataset_id}.{ext}" for ext in EXTENSIONS),
    ]


def collection_urls(version: CollectionVersion) -> list[str]:
    urls = [
        f"{API}/collections/{version.collection_id}",
        f"{API}/collections/{version.id}",
        f"{API}/collections/{version.collection_id}/versions",
        f"{API}/collection_versions/{version.id}",
    ]
    for dataset_version in version.dataset_versions:
        urls.append(f"{API}/collections/{version.collection_id}/datasets/{dataset_version.dataset_id}")
        urls += dataset_urls(dataset_version)
    return urls


def answers(client: TestClient, urls: list[str]) -> dict[str, int]:
    return {url: client.get(url).status_code for url in urls}


def test_published_urls_never_answer_404(client: TestClient, write, put_blob) -> None:
    published: list[str] = []

    # 1. first publication: three datasets
    with write() as session:
        first = make_collection(session, datasets=3, put_blob=put_blob)
        a1, b1, c1 = first.dataset_versions
        published += collection_urls(first)
    assert set(answers(client, published).values()) == {200}

    # 2. a revision replaces A, removes B, adds D; while it is open, the published answers do not change
    with write() as session:
        revision = service.start_revision(session, collection_id=first.collection_id)
        a2 = service.replace_dataset(session, collection_version_id=revision.id, dataset_id=a1.dataset_id)
        make_ready(session, a2, title="Dataset 1, corrected", put_blob=put_blob)
        service.remove_dataset(session, collection_version_id=revision.id, dataset_id=b1.dataset_id)
        add_ready_dataset(session, revision, title="Dataset 4", put_blob=put_blob)
    assert client.get(f"{API}/collections/{revision.id}").status_code == 404  # private until published
    assert client.get(f"/datasets/{a2.id}.h5ad").status_code == 404
    assert set(answers(client, published).values()) == {200}

    with write() as session:
        second = service.publish(session, collection_version_id=revision.id)
        published += collection_urls(second)
    after_revision = answers(client, published)
    assert 404 not in after_revision.values()
    removed = {url for url in published if b1.dataset_id in url or b1.id in url}
    assert {after_revision[url] for url in removed} == {410}
    assert {status for url, status in after_revision.items() if url not in removed} == {200}
    assert (
        client.get(f"/datasets/{a1.dataset_id}.h5ad", follow_redirects=False)
        .headers["location"]
        .endswith(f"/datasets/{a2.id}.h5ad")
    )
    assert client.get(f"{API}/collection_versions/{first.id}").json()["name"] == "A lung atlas"

    # 3. the collection is withdrawn: everything it ever published is 410 with the reason
    with write() as session:
        service.withdraw_collection(session, collection_id=first.collection_id, reason="retracted paper")
    after_withdrawal = answers(client, published)
    assert set(after_withdrawal.values()) == {410}
    assert "retracted paper" in client.get(f"/datasets/{c1.id}.loom").json()["reason"]
