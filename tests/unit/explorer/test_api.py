"""The explorer page and data API on a generated store, through a real app, catalog and blob store."""

from __future__ import annotations

import gzip
import json
import re
import struct
from pathlib import Path

import numpy as np
import pytest
import zstandard
from fastapi import FastAPI
from fastapi.testclient import TestClient
from scipy import stats

from cellportal.catalog import service
from cellportal.catalog.db import transaction
from cellportal.catalog.models import DatasetVersion
from cellportal.explorer.encoding import unpack_frame
from cellportal.explorer.responses import BodyCache
from cellportal.formats.explorer_store import ExplorerStoreReader
from cellportal.runtime import Runtime
from tests.unit.explorer.conftest import N_CELLS

OWNER_HEADERS = {"Authorization": "Bearer owner-token"}
STRANGER_HEADERS = {"Authorization": "Bearer stranger-token"}


def api(version_id: str, path: str) -> str:
    return f"/e/api/v1/{version_id}/{path}"


def frame(client: TestClient, url: str, **kwargs: object) -> tuple[dict, dict[str, np.ndarray]]:
    response = client.get(url, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/octet-stream"
    return unpack_frame(response.content)


def page_config(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="explorer-config">(.*?)</script>', html, re.S)
    assert match, "the page carries its configuration"
    return json.loads(match.group(1))


def test_page_opens_by_dataset_id_and_by_version_id(client: TestClient, published: tuple[str, str]) -> None:
    dataset_id, version_id = published
    for any_id in (dataset_id, version_id, f"{dataset_id}/"):
        response = client.get(f"/e/{any_id}")
        assert response.status_code == 200
        config = page_config(response.text)
        assert config["api_base"] == f"/e/api/v1/{version_id}"
        facts = config["dataset"]
        assert facts["title"] == "Dataset 1"
        assert facts["collection"]["name"] == "Blood atlas"
        assert facts["cell_count"] == N_CELLS
        assert {d["label"] for d in facts["downloads"]} == {".h5ad", ".rds", ".loom"}
        assert "organism" in facts["metadata"]
        assert "/e/static/explorer.js" in response.text or "make frontend" in response.text


def test_unknown_dataset_page_is_404(client: TestClient) -> None:
    response = client.get("/e/no-such-dataset")
    assert response.status_code == 404
    assert "Not available" in response.text


def test_schema_lists_embeddings_and_colourable_columns(client: TestClient, published: tuple[str, str]) -> None:
    _, version_id = published
    response = client.get(api(version_id, "schema"))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["etag"]
    assert response.headers["vary"] == "Accept-Encoding"
    schema = response.json()
    assert schema["n_cells"] == N_CELLS and schema["n_genes"] == 2000
    assert {e["name"] for e in schema["embeddings"]} == {"X_umap", "X_pca"}
    assert schema["default_embedding"] == "X_umap"
    columns = {c["name"]: c for c in schema["obs"]}
    cell_type = columns["author_cell_type"]
    assert cell_type["kind"] == "categorical"
    assert len(cell_type["colors"]) == len(cell_type["categories"])  # from uns['author_cell_type_colors']
    assert columns["n_counts"]["kind"] == "continuous"
    assert columns["n_counts"]["min"] < columns["n_counts"]["max"]
    assert columns["is_primary_data"]["categories"] == ["False", "True"]


def test_embedding_obs_and_gene_frames_match_the_store(
    client: TestClient, published: tuple[str, str], store_file: Path
) -> None:
    _, version_id = published
    with ExplorerStoreReader(store_file) as store:
        umap = store.embedding("umap")
        cell_type = store.obs_column("author_cell_type")
        n_counts = store.obs_column("n_counts")
        symbols = list(store.var_names())
        ids = list(store.var_ids())
        cd3e = symbols.index("CD3E")
        expected_gene = store.gene_expression(cd3e)

    meta, arrays = frame(client, api(version_id, "embedding/X_umap"))
    assert meta["n_cells"] == N_CELLS
    np.testing.assert_array_equal(arrays["x"], umap[:, 0])
    np.testing.assert_array_equal(arrays["y"], umap[:, 1])

    _, arrays = frame(client, api(version_id, "obs/author_cell_type"))
    assert arrays["codes"].dtype == np.uint8
    missing = len(cell_type.categories or [])
    np.testing.assert_array_equal(arrays["codes"], np.where(cell_type.values < 0, missing, cell_type.values))

    _, arrays = frame(client, api(version_id, "obs/n_counts"))
    np.testing.assert_array_equal(arrays["values"], n_counts.values)

    for key in (str(cd3e), "CD3E", "cd3e", ids[cd3e]):
        meta, arrays = frame(client, api(version_id, f"gene/{key}"))
        assert meta["symbol"] == "CD3E" and meta["id"] == ids[cd3e] and meta["index"] == cd3e
        dense = np.zeros(N_CELLS, np.float32)
        dense[arrays["indices"]] = arrays["values"]
        np.testing.assert_array_equal(dense, expected_gene)
        assert meta["max"] == pytest.approx(float(expected_gene.max()))


@pytest.mark.parametrize(
    ("path", "detail"),
    [("gene/NOT_A_GENE", "No gene"), ("gene/999999", "No gene"), ("obs/nope", "No obs column"),
     ("embedding/X_tsne", "No embedding")],
)  # fmt: skip
def test_unknown_names_are_404_with_a_reason(
    client: TestClient, published: tuple[str, str], path: str, detail: str
) -> None:
    response = client.get(api(published[1], path))
    assert response.status_code == 404
    assert detail in response.json()["detail"]


def test_responses_are_compressed_as_the_client_accepts(client: TestClient, published: tuple[str, str]) -> None:
    url = api(published[1], "embedding/X_umap")
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    with client.stream("GET", url, headers={"Accept-Encoding": "gzip, deflate, br, zstd"}) as response:
        assert response.headers["content-encoding"] == "zstd"
        raw = b"".join(response.iter_raw())
    assert zstandard.ZstdDecompressor().decompress(raw) == plain.content
    with client.stream("GET", url, headers={"Accept-Encoding": "gzip"}) as response:
        assert response.headers["content-encoding"] == "gzip"
        raw = b"".join(response.iter_raw())
    assert gzip.decompress(raw) == plain.content
    assert len(raw) < len(plain.content)


def test_etag_revalidation_answers_304_without_a_body(client: TestClient, published: tuple[str, str]) -> None:
    url = api(published[1], "gene/CD3E")
    first = client.get(url, headers={"Accept-Encoding": "zstd"})
    etag = first.headers["etag"]
    again = client.get(url, headers={"Accept-Encoding": "zstd", "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    other_coding = client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert other_coding.status_code == 200  # a different representation has a different ETag


def test_data_api_is_addressed_by_version_id_only(client: TestClient, published: tuple[str, str]) -> None:
    dataset_id, version_id = published
    response = client.get(api(dataset_id, "schema"))
    assert response.status_code == 404
    assert version_id in response.json()["detail"]


def test_private_dataset_is_explorable_by_its_owner_only(client: TestClient, private: tuple[str, str]) -> None:
    dataset_id, version_id = private
    for headers in ({}, STRANGER_HEADERS):
        assert client.get(f"/e/{dataset_id}", headers=headers).status_code == 404
        assert client.get(api(version_id, "schema"), headers=headers).status_code == 404
        assert client.get(api(version_id, "gene/CD3E"), headers=headers).status_code == 404
    assert client.get(f"/e/{dataset_id}", headers=OWNER_HEADERS).status_code == 200
    response = client.get(api(version_id, "gene/CD3E"), headers=OWNER_HEADERS)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "private, no-cache"


def bitset(mask: np.ndarray) -> bytes:
    return np.packbits(mask.astype(np.uint8), bitorder="little").tobytes()


def diffexp_body(set1: np.ndarray, set2: np.ndarray | None) -> bytes:
    bits1 = bitset(set1)
    bits2 = bitset(set2) if set2 is not None else b""
    return struct.pack("<II", len(bits1), len(bits2)) + bits1 + bits2


def test_diffexp_between_two_cell_types_matches_scipy(
    client: TestClient, published: tuple[str, str], store_file: Path
) -> None:
    _, version_id = published
    with ExplorerStoreReader(store_file) as store:
        labels = store.obs_column("author_cell_type").labels()
        b_cells, t_cells = labels == "B", labels == "CD4 T"
        response = client.post(
            api(version_id, "diffexp") + "?mode=sets&top=20",
            content=diffexp_body(b_cells, t_cells),
            headers={"Content-Type": "application/octet-stream"},
        )
        assert response.status_code == 200, response.text
        result = response.json()
        assert result["mode"] == "sets"
        assert result["n1"] == b_cells.sum() and result["n2"] == t_cells.sum()
        up = [g["symbol"] for g in result["genes"] if g["logfc"] > 0]
        down = [g["symbol"] for g in result["genes"] if g["logfc"] < 0]
        assert "MS4A1" in up[:10] or "CD79A" in up[:10], up  # B cell markers
        assert "CD3E" in down or "IL7R" in down, down  # T cell markers
        for row in result["genes"][:5] + result["genes"][-5:]:
            x = store.gene_expression(row["index"]).astype(np.float64)
            welch = stats.ttest_ind(x[b_cells], x[t_cells], equal_var=False)
            assert row["t"] == pytest.approx(welch.statistic, rel=1e-6)
            assert row["p_t"] == pytest.approx(welch.pvalue, rel=1e-5, abs=1e-300)
            wilcoxon = stats.mannwhitneyu(x[b_cells], x[t_cells], method="asymptotic")
            assert row["p_wilcoxon"] == pytest.approx(wilcoxon.pvalue, rel=1e-6, abs=1e-300)
            assert row["logfc"] == pytest.approx(x[b_cells].mean() - x[t_cells].mean(), abs=1e-6)
            assert row["p_t_adj"] >= row["p_t"]


def test_diffexp_set_versus_rest(client: TestClient, published: tuple[str, str], store_file: Path) -> None:
    with ExplorerStoreReader(store_file) as store:
        labels = store.obs_column("author_cell_type").labels()
        nk = labels == "NK"
        response = client.post(api(published[1], "diffexp") + "?mode=rest", content=diffexp_body(nk, None))
        assert response.status_code == 200, response.text
        result = response.json()
        assert result["n1"] == nk.sum() and result["n2"] == N_CELLS - nk.sum()
        top = result["genes"][0]
        x = store.gene_expression(top["index"]).astype(np.float64)
        assert top["t"] == pytest.approx(stats.ttest_ind(x[nk], x[~nk], equal_var=False).statistic, rel=1e-6)
        assert top["logfc"] > 0


@pytest.mark.parametrize(
    ("body", "status"),
    [(b"", 400), (struct.pack("<II", 3, 0) + b"\x01", 400), (struct.pack("<II", 1, 1) + b"\x01\x01", 400)],
)
def test_diffexp_rejects_malformed_selections(
    client: TestClient, published: tuple[str, str], body: bytes, status: int
) -> None:
    response = client.post(api(published[1], "diffexp"), content=body)
    assert response.status_code == status
    assert response.json()["detail"]


@pytest.mark.s3
@pytest.mark.parametrize("storage_backend", ["s3"], indirect=True)
def test_store_in_s3_is_read_by_ranged_requests(
    client: TestClient, published: tuple[str, str], store_file: Path
) -> None:
    _, version_id = published
    with ExplorerStoreReader(store_file) as store:
        expected = store.gene_expression(list(store.var_names()).index("NKG7"))
    _, arrays = frame(client, api(version_id, "gene/NKG7"))
    dense = np.zeros(N_CELLS, np.float32)
    dense[arrays["indices"]] = arrays["values"]
    np.testing.assert_array_equal(dense, expected)
    assert client.get(api(version_id, "schema")).json()["n_cells"] == N_CELLS


def test_withdrawn_dataset_answers_410_on_the_page_and_once_the_grant_expires_on_the_api(
    client: TestClient, app: FastAPI, runtime: Runtime, published: tuple[str, str]
) -> None:
    dataset_id, version_id = published
    assert client.get(api(version_id, "schema")).status_code == 200  # granted and remembered
    with transaction(runtime.sessions) as session:
        collection_id = session.get(DatasetVersion, version_id).dataset.collection_id
        service.withdraw_collection(session, collection_id=collection_id, reason="Consent was withdrawn.")
    page = client.get(f"/e/{dataset_id}")
    assert page.status_code == 410 and "Consent was withdrawn." in page.text
    app.state.explorer_access.ttl = 0  # the grant expires
    response = client.get(api(version_id, "schema"))
    assert response.status_code == 410
    assert "Consent was withdrawn." in response.text


def test_body_cache_keeps_the_most_recent_bodies_within_its_budget() -> None:
    cache = BodyCache(max_bytes=100)
    for k in range(5):
        cache.put(f"e{k}", bytes(20))
    assert cache.get("e0") == bytes(20)  # now the most recent
    cache.put("e5", bytes(20))
    assert cache.get("e1") is None and cache.get("e0") is not None and cache.get("e5") is not None
    cache.put("huge", bytes(60))  # more than a quarter of the budget: not kept
    assert cache.get("huge") is None


def test_diffexp_of_two_halves_matches_scipy_and_reports_server_time(
    client: TestClient, published: tuple[str, str], store_file: Path
) -> None:
    """Two complementary sets: one is summed (whole blocks), the other taken from the stored totals."""
    first = np.zeros(N_CELLS, bool)
    first[: N_CELLS // 2] = True
    response = client.post(api(published[1], "diffexp") + "?mode=sets&top=5", content=diffexp_body(first, ~first))
    assert response.status_code == 200, response.text
    assert response.headers["server-timing"].startswith("app;dur=")
    result = response.json()
    assert (result["n1"], result["n2"]) == (N_CELLS // 2, N_CELLS - N_CELLS // 2)
    with ExplorerStoreReader(store_file) as store:
        for row in result["genes"]:
            x = store.gene_expression(row["index"]).astype(np.float64)
            welch = stats.ttest_ind(x[first], x[~first], equal_var=False)
            assert row["t"] == pytest.approx(welch.statistic, rel=1e-6)
            wilcoxon = stats.mannwhitneyu(x[first], x[~first], method="asymptotic")
            assert row["p_wilcoxon"] == pytest.approx(wilcoxon.pvalue, rel=1e-6, abs=1e-300)
            assert row["pct1"] == pytest.approx(np.count_nonzero(x[first]) / first.sum())
    assert "server-timing" not in client.get(f"/e/{published[1]}").headers  # the page itself is not timed
