"""Feature ids, feature_is_filtered and the matrix rules (encodings, raw counts, duplicate cells)."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
from scipy import sparse

from .conftest import MOUSE_GENE, Build, found, with_raw_counts


def rename_first_feature(new_id: str):
    def mutate(adata: ad.AnnData) -> ad.AnnData:
        names = list(adata.var_names)
        names[0] = new_id
        adata.var_names = names
        adata.raw = ad.AnnData(X=adata.raw.X, obs=adata.obs, var=pd.DataFrame(index=names))
        return adata

    return mutate


def test_versioned_ids_are_unknown(build: Build) -> None:
    report = build(rename_first_feature("ENSG00000141510.17"))
    issue = next(i for i in report.errors if i.code == "features.unknown_id" and i.location == "var")
    assert issue.values == ["ENSG00000141510.17"]
    assert "unversioned" in issue.message
    assert ("features.unknown_id", "raw.var") in found(report)


def test_genes_from_another_organism(build: Build) -> None:
    report = build(rename_first_feature(MOUSE_GENE))
    issue = next(i for i in report.errors if i.code == "features.wrong_organism" and i.location == "var")
    assert issue.values == ["NCBITaxon:10090"] and issue.examples == [MOUSE_GENE]


def test_spike_ins_are_allowed_in_any_organism(build: Build) -> None:
    assert build(rename_first_feature("ERCC-00002")).valid


def test_feature_is_filtered_without_raw(build: Build) -> None:
    def flagged(adata: ad.AnnData) -> None:
        adata.var["feature_is_filtered"] = [True] + [False] * (adata.n_vars - 1)
        adata.X = adata.raw.X.copy()
        adata.raw = None

    assert ("features.filtered_without_raw", "var.feature_is_filtered") in found(build(flagged))


def test_flagged_features_with_values_in_x_warn(build: Build) -> None:
    def flagged(adata: ad.AnnData) -> None:
        adata.var["feature_is_filtered"] = [True] + [False] * (adata.n_vars - 1)

    report = build(flagged)
    issue = next(i for i in report.issues if i.code == "features.flagged_nonzero")
    assert issue.count == adata_nonzero_in_first_column()
    assert report.valid  # a warning in the reference, though the schema says MUST


def adata_nonzero_in_first_column() -> int:
    from .conftest import valid_adata

    return int(valid_adata().X[:, 0].nnz)


def test_raw_counts_must_be_integers(build: Build) -> None:
    def fractional(adata: ad.AnnData) -> ad.AnnData:
        counts = adata.raw.X.toarray()
        counts[2, 0] = 1.5
        counts[4, 1] = -3
        return with_raw_counts(adata, sparse.csr_matrix(counts))

    report = build(fractional)
    issue = next(i for i in report.errors if i.code == "raw.non_integer")
    assert issue.location == "raw.X" and issue.count == 2 and issue.examples == ["cell_2", "cell_4"]
    assert ("raw.missing", "raw.X") in found(report)


def test_raw_counts_must_be_float32(build: Build) -> None:
    report = build(lambda a: with_raw_counts(a, sparse.csr_matrix(a.raw.X.toarray().astype(np.int32))))
    assert ("raw.dtype", "raw.X") in found(report)


def test_every_cell_needs_counts(build: Build) -> None:
    def empty(adata: ad.AnnData) -> ad.AnnData:
        counts = adata.raw.X.toarray()
        counts[3] = 0
        return with_raw_counts(adata, sparse.csr_matrix(counts))

    issue = next(i for i in build(empty).errors if i.code == "raw.empty_rows")
    assert issue.count == 1 and issue.examples == ["cell_3"]


def test_duplicate_cells(build: Build) -> None:
    def duplicated(adata: ad.AnnData) -> ad.AnnData:
        counts = adata.raw.X.toarray()
        counts[5] = counts[1]
        counts[7] = counts[1]
        return with_raw_counts(adata, sparse.csr_matrix(counts))

    issue = next(i for i in build(duplicated).errors if i.code == "raw.duplicate_rows")
    assert issue.message == "Found 3 duplicated raw counts in obs adata.raw.X."
    assert issue.examples == ["cell_1", "cell_5", "cell_7"]


def test_raw_and_metadata_errors_are_reported_together(build: Build) -> None:
    def both(adata: ad.AnnData) -> ad.AnnData:
        adata.uns["title"] = " bad"
        counts = adata.raw.X.toarray()
        counts[0, 0] = 0.5
        return with_raw_counts(adata, sparse.csr_matrix(counts))

    codes = {i.code for i in build(both).errors}
    assert {"uns.spaces", "raw.non_integer"} <= codes


def test_csc_is_not_supported(build: Build) -> None:
    report = build(lambda a: with_raw_counts(a, sparse.csc_matrix(a.raw.X)))
    assert ("matrix.unsupported_encoding", "raw.X") in found(report)
    assert not any(i.code == "raw.non_integer" for i in report.errors)  # still scanned, counts are fine


def test_mostly_zero_dense_matrix_must_be_csr(build: Build) -> None:
    def dense(adata: ad.AnnData) -> None:
        adata.X = np.zeros(adata.shape, dtype=np.float32)

    assert ("matrix.dense_sparse_data", "X") in found(build(dense))


def test_dense_raw_counts_are_checked_too(build: Build) -> None:
    def dense(adata: ad.AnnData) -> ad.AnnData:
        counts = adata.raw.X.toarray() + 1  # dense and full, so no sparsity error
        counts[0, 0] = 2.5
        return with_raw_counts(adata, counts)

    report = build(dense)
    assert ("raw.non_integer", "raw.X") in found(report)
    assert not any(i.code == "matrix.dense_sparse_data" for i in report.issues)


def test_raw_only_in_x_is_a_warning(build: Build) -> None:
    def raw_in_x(adata: ad.AnnData) -> None:
        adata.X = adata.raw.X.copy()
        adata.raw = None

    report = build(raw_in_x)
    assert report.valid
    assert ("raw.only_raw", "X") in found(report)


def test_normalized_x_without_raw_is_missing_raw(build: Build) -> None:
    def no_raw(adata: ad.AnnData) -> None:
        adata.raw = None

    issues = found(build(no_raw))
    assert ("raw.non_integer", "X") in issues
    assert ("raw.missing", "X") in issues


def test_nan_in_raw_counts(build: Build) -> None:
    def nan(adata: ad.AnnData) -> ad.AnnData:
        counts = adata.raw.X.toarray()
        counts[6, 2] = np.nan
        return with_raw_counts(adata, sparse.csr_matrix(counts))

    issue = next(i for i in build(nan).errors if i.code == "matrix.non_finite")
    assert issue.location == "raw.X" and issue.examples == ["cell_6"]


def test_raw_var_must_match_var(build: Build) -> None:
    def shuffled(adata: ad.AnnData) -> None:
        names = list(adata.var_names)[::-1]
        adata.raw = ad.AnnData(X=adata.raw.X, obs=adata.obs, var=pd.DataFrame(index=names))

    assert ("matrix.shape_mismatch", "raw.var") in found(build(shuffled))


def test_matrix_scan_streams_in_blocks_and_agrees_with_scipy(tmp_path) -> None:
    """Tiny blocks force many chunks; sums, row counts and duplicates must not depend on block edges."""
    import h5py

    from cellportal.schema.h5ad import describe_matrix
    from cellportal.schema.rules import matrix_scan

    rng = np.random.default_rng(3)
    counts = (rng.random((300, 40)) < 0.1) * rng.integers(1, 5, (300, 40))
    counts[10] = counts[250]  # a duplicate pair across blocks
    counts[20] = 0  # an empty row
    matrix = sparse.csr_matrix(counts.astype(np.float32))
    path = tmp_path / "m.h5ad"
    ad.AnnData(X=matrix).write_h5ad(path)
    original = matrix_scan.NNZ_BUDGET
    matrix_scan.NNZ_BUDGET = 37
    try:
        with h5py.File(path) as handle:
            described = describe_matrix(handle["X"], "X")
            request = matrix_scan.ScanRequest(column_sums=True, raw_values=True, row_hashes=True)
            result = matrix_scan.scan(described, request)
            groups = matrix_scan.duplicate_candidates(result.row_hashes)
            duplicates = matrix_scan.confirm_duplicates(described, groups)
    finally:
        matrix_scan.NNZ_BUDGET = original
    assert np.allclose(result.column_sums, counts.sum(axis=0))
    assert np.array_equal(result.row_nonzero, (counts != 0).sum(axis=1))
    seen: dict[bytes, list[int]] = {}
    for row in range(len(counts)):
        seen.setdefault(counts[row].tobytes(), []).append(row)
    expected = {row for rows in seen.values() if len(rows) > 1 for row in rows}
    assert {10, 250} <= expected
    assert set(duplicates.tolist()) == expected
