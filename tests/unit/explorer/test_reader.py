"""Reading expression through h5py (compressed chunks) and through the uncompressed, mapped copy agree."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from cellportal.explorer.diffexp import Comparison, differential_expression
from cellportal.explorer.mapped import MatrixCache
from cellportal.explorer.reader import ExplorerData
from cellportal.formats.explorer_store import ExplorerStoreReader


def mapped_copy(store_file: Path, tmp_path: Path) -> ExplorerData:
    data = ExplorerData(store_file)
    assert not data.raw  # the formats writer compresses X
    ready = threading.Event()
    cache = MatrixCache(tmp_path / "cache")
    cache.build_in_background("abc", lambda: store_file, lambda mapped: (data.use_raw(mapped), ready.set()))
    assert ready.wait(60), "the uncompressed copy was not made"
    assert data.raw
    assert cache.open("abc") is not None  # a later process finds it complete
    return data


@pytest.fixture
def readers(store_file: Path, tmp_path: Path) -> tuple[ExplorerData, ExplorerData]:
    return ExplorerData(store_file), mapped_copy(store_file, tmp_path)


@pytest.mark.parametrize("fraction", [0.002, 0.05, 0.4, 0.9])
def test_selection_moments_agree_with_a_dense_computation(
    readers: tuple[ExplorerData, ExplorerData], store_file: Path, fraction: float
) -> None:
    rng = np.random.default_rng(int(fraction * 1000))
    compressed, mapped = readers
    mask = rng.random(compressed.n_cells) < fraction
    with ExplorerStoreReader(store_file) as store:
        dense = store.cells_expression(np.flatnonzero(mask)).toarray().astype(np.float64)
    for data in (compressed, mapped):
        moments = data.moments(mask)
        assert moments.n == mask.sum()
        np.testing.assert_allclose(moments.sum, dense.sum(axis=0), rtol=1e-9, atol=1e-6)
        np.testing.assert_allclose(moments.sum_squares, (dense**2).sum(axis=0), rtol=1e-9, atol=1e-6)
        np.testing.assert_array_equal(moments.nnz, np.count_nonzero(dense, axis=0))


def test_gene_slices_agree(readers: tuple[ExplorerData, ExplorerData], store_file: Path) -> None:
    compressed, mapped = readers
    with ExplorerStoreReader(store_file) as store:
        for gene in (0, 17, compressed.gene_lookup["CD3E"], compressed.n_genes - 1):
            expected = store.gene_expression(gene)
            for data in (compressed, mapped):
                cells, values = data.gene(gene)
                dense = np.zeros(data.n_cells, np.float32)
                dense[cells] = values
                np.testing.assert_array_equal(dense, expected)


@pytest.mark.parametrize("size", [40, 1200])
def test_diffexp_is_the_same_whichever_way_values_are_read(
    readers: tuple[ExplorerData, ExplorerData], size: int
) -> None:
    # Small sets read the table's values from the selected rows (mapped copy), larger ones from gene columns.
    compressed, mapped = readers
    rng = np.random.default_rng(size)
    chosen = rng.choice(compressed.n_cells, 2 * size, replace=False)
    set1 = np.zeros(compressed.n_cells, bool)
    set2 = np.zeros(compressed.n_cells, bool)
    set1[chosen[:size]], set2[chosen[size:]] = True, True
    comparison = Comparison(set1, set2, "sets")
    a = differential_expression(compressed, comparison, 30)
    b = differential_expression(mapped, comparison, 30)
    assert [g["index"] for g in a["genes"]] == [g["index"] for g in b["genes"]]
    for x, y in zip(a["genes"], b["genes"], strict=True):
        assert x["p_wilcoxon"] == pytest.approx(y["p_wilcoxon"], rel=1e-12, abs=1e-300)
        assert x["t"] == pytest.approx(y["t"], rel=1e-9)
