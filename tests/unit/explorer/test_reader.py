"""Format 1.1 stores are read raw (pread, range GETs) and 1.0 stores through h5py; both give the same answers,
and the same as a dense computation over the store's matrix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cellportal.explorer import reader as reader_module
from cellportal.explorer.diffexp import Comparison, differential_expression
from cellportal.explorer.raw import RemoteBlob
from cellportal.explorer.reader import ExplorerData, column_sums
from cellportal.formats.explorer_store import FORMAT_VERSION, ExplorerStoreReader
from tests.unit.explorer.support import as_format_1_0


@pytest.fixture(scope="module")
def old_store(store_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return as_format_1_0(store_file, tmp_path_factory.mktemp("old") / "blood-1.0.explorer.h5")


@pytest.fixture
def readers(store_file: Path, old_store: Path) -> tuple[ExplorerData, ExplorerData]:
    return ExplorerData(store_file), ExplorerData(old_store)


def test_the_writer_makes_format_1_1_read_raw_and_1_0_stores_still_open(
    readers: tuple[ExplorerData, ExplorerData],
) -> None:
    new, old = readers
    assert FORMAT_VERSION == "1.1.0"
    assert new.store.format_version == "1.1.0" and new.raw
    assert old.store.format_version == "1.0.0" and not old.raw
    assert new.schema()["store_format_version"] == "1.1.0"


@pytest.mark.parametrize("fraction", [0.002, 0.05, 0.4, 0.9])
def test_selection_moments_agree_with_a_dense_computation(
    readers: tuple[ExplorerData, ExplorerData], store_file: Path, fraction: float
) -> None:
    rng = np.random.default_rng(int(fraction * 1000))
    new, old = readers
    mask = rng.random(new.n_cells) < fraction
    with ExplorerStoreReader(store_file) as store:
        dense = store.cells_expression(np.flatnonzero(mask)).toarray().astype(np.float64)
    for data in (new, old):
        moments = data.moments(mask)
        assert moments.n == mask.sum()
        np.testing.assert_allclose(moments.sum, dense.sum(axis=0), rtol=1e-9, atol=1e-6)
        np.testing.assert_allclose(moments.sum_squares, (dense**2).sum(axis=0), rtol=1e-9, atol=1e-6)
        np.testing.assert_array_equal(moments.nnz, np.count_nonzero(dense, axis=0))


def test_sums_are_right_when_blocks_are_tiny(
    readers: tuple[ExplorerData, ExplorerData], store_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many blocks, rows split across workspaces, and both the gathered and the whole-block paths."""
    monkeypatch.setattr(reader_module, "BLOCK_NNZ", 3000)
    monkeypatch.setattr(reader_module, "_workspaces", reader_module.queue.LifoQueue())
    new, old = readers
    rng = np.random.default_rng(5)
    mask = np.zeros(new.n_cells, bool)
    mask[rng.choice(new.n_cells, 200, replace=False)] = True  # sparse: gathered
    mask[1000:1400] = True  # dense: whole blocks, weighted
    with ExplorerStoreReader(store_file) as store:
        dense = store.cells_expression(np.flatnonzero(mask)).toarray().astype(np.float64)
    for data in (new, old):
        moments = data.moments(mask)
        np.testing.assert_allclose(moments.sum, dense.sum(axis=0), rtol=1e-9, atol=1e-6)
        np.testing.assert_array_equal(moments.nnz, np.count_nonzero(dense, axis=0))
    rows = new.selected_rows(mask)
    total, squares, nnz = column_sums(rows[0], rows[1], rows[2], new.n_genes)
    np.testing.assert_allclose(total, dense.sum(axis=0), rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(squares, (dense**2).sum(axis=0), rtol=1e-9, atol=1e-6)
    np.testing.assert_array_equal(nnz, np.count_nonzero(dense, axis=0))


def test_gene_slices_agree(readers: tuple[ExplorerData, ExplorerData], store_file: Path) -> None:
    new, old = readers
    with ExplorerStoreReader(store_file) as store:
        for gene in (0, 17, new.gene_lookup["CD3E"], new.n_genes - 1):
            expected = store.gene_expression(gene)
            for data in (new, old):
                cells, values = data.gene(gene)
                dense = np.zeros(data.n_cells, np.float32)
                dense[cells] = values
                np.testing.assert_array_equal(dense, expected)


def test_remote_reads_coalesce_nearby_runs(store_file: Path) -> None:
    """A remote store reads X with range GETs; scattered rows close together share one request."""
    blob = store_file.read_bytes()
    requests: list[tuple[int, int]] = []

    def read_range(start: int, end: int) -> bytes:
        requests.append((start, end))
        return blob[start:end]

    local = ExplorerData(store_file)
    with open(store_file, "rb") as handle:
        remote = ExplorerData(handle, RemoteBlob(read_range))  # type: ignore[arg-type]
        assert remote.raw
        rows = np.arange(0, local.n_cells, 7)
        requests.clear()
        got = remote.cells.gather(rows)
        expected = local.cells.gather(rows)
        np.testing.assert_array_equal(got[0], expected[0])
        np.testing.assert_array_equal(got[1], expected[1])
        assert len(requests) == 2, "one request per array: the runs are all within the gap"
        cells, values = remote.gene(3)
        np.testing.assert_array_equal(cells, local.gene(3)[0])
        np.testing.assert_array_equal(values, local.gene(3)[1])


@pytest.mark.parametrize("size", [40, 1200])
def test_diffexp_is_the_same_whichever_way_values_are_read(
    readers: tuple[ExplorerData, ExplorerData], size: int
) -> None:
    # Small sets read the table's values from the selected rows (raw store), larger ones from gene columns.
    new, old = readers
    rng = np.random.default_rng(size)
    chosen = rng.choice(new.n_cells, 2 * size, replace=False)
    set1 = np.zeros(new.n_cells, bool)
    set2 = np.zeros(new.n_cells, bool)
    set1[chosen[:size]], set2[chosen[size:]] = True, True
    comparison = Comparison(set1, set2, "sets")
    a = differential_expression(old, comparison, 30)
    b = differential_expression(new, comparison, 30)
    assert [g["index"] for g in a["genes"]] == [g["index"] for g in b["genes"]]
    for x, y in zip(a["genes"], b["genes"], strict=True):
        assert x["p_wilcoxon"] == pytest.approx(y["p_wilcoxon"], rel=1e-12, abs=1e-300)
        assert x["t"] == pytest.approx(y["t"], rel=1e-9)
