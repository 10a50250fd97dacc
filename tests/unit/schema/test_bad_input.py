"""Files that are broken as files: never a traceback, always an issue that says what and where."""

from __future__ import annotations

from pathlib import Path

import anndata as ad
import h5py
import numpy as np

from cellportal.schema.validator import validate

from .conftest import VALID_FIXTURE, found, valid_adata


def test_not_hdf5(tmp_path: Path) -> None:
    path = tmp_path / "junk.h5ad"
    path.write_bytes(b"not an hdf5 file at all" * 100)
    report = validate(path)
    assert not report.readable and not report.valid
    assert [i.code for i in report.errors] == ["file.unreadable"]


def test_missing_file(tmp_path: Path) -> None:
    report = validate(tmp_path / "nope.h5ad")
    assert not report.readable
    assert "no such file" in report.errors[0].message


def test_truncated_file(tmp_path: Path) -> None:
    path = tmp_path / "truncated.h5ad"
    data = VALID_FIXTURE.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    report = validate(path)
    assert not report.valid
    assert report.errors and {i.code for i in report.errors} <= {"file.unreadable", "file.corrupt"}


def test_zero_cells(tmp_path: Path) -> None:
    path = tmp_path / "empty.h5ad"
    valid_adata()[:0].copy().write_h5ad(path)
    report = validate(path)
    assert not report.valid
    assert ("file.empty", "obs") in found(report)


def test_missing_groups(tmp_path: Path) -> None:
    path = tmp_path / "no_obs.h5ad"
    valid_adata().write_h5ad(path)
    with h5py.File(path, "a") as handle:
        del handle["obs"]
        del handle["raw"]
        del handle["X"]
    report = validate(path)
    assert ("file.missing_element", "obs") in found(report)
    assert ("file.missing_element", "X") in found(report)


def test_unreadable_matrix_is_reported_where_it_is(tmp_path: Path) -> None:
    path = tmp_path / "odd_x.h5ad"
    valid_adata().write_h5ad(path)
    with h5py.File(path, "a") as handle:
        del handle["X"]
        handle.create_dataset("X", data=np.array(["a", "b"], dtype=object), dtype=h5py.string_dtype())
    report = validate(path)
    assert ("matrix.unknown_encoding", "X") in found(report)


def test_old_encoding_version(tmp_path: Path) -> None:
    path = tmp_path / "old.h5ad"
    valid_adata().write_h5ad(path)
    with h5py.File(path, "a") as handle:
        handle.attrs["encoding-version"] = "0.0.1"
    assert ("file.encoding_version", "/") in found(validate(path))


def test_wrong_dtype_column(tmp_path: Path) -> None:
    adata = valid_adata()
    adata.obs["is_primary_data"] = ["yes"] * adata.n_obs
    path = tmp_path / "strings.h5ad"
    ad.AnnData.write_h5ad(adata, path)
    assert ("column.not_boolean", "obs.is_primary_data") in found(validate(path))
