"""Files that are broken as files: never a traceback, always an issue that says what and where."""

from __future__ import annotations

from pathlib import Path

import anndata as ad
import h5py
import numpy as np
import pytest

from cellportal.schema.h5ad import outside_references
from cellportal.schema.labeller import write_labelled_view
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


# Values no valid dataset holds, so their bytes in a file can only have come from the "server's" file.
SECRET = (31337.0 + np.arange(24, dtype=np.float64) / 8).reshape(12, 2)


def _leak_into_umap(how: str, upload: Path, directory: Path) -> None:
    """Make the upload's obsm['X_umap'] read another file of the server, in one of HDF5's three ways."""
    secret = directory / "server-secret.h5"
    with h5py.File(secret, "w") as handle:
        handle["embedding"] = SECRET
    raw = directory / "server-secret.bin"
    raw.write_bytes(SECRET.tobytes())
    with h5py.File(upload, "a") as handle:
        attrs = dict(handle["obsm/X_umap"].attrs)
        del handle["obsm/X_umap"]
        if how == "external link":
            handle["obsm/X_umap"] = h5py.ExternalLink(str(secret), "/embedding")
        elif how == "external storage":
            handle.create_dataset("obsm/X_umap", SECRET.shape, "<f8", external=[(str(raw), 0, SECRET.nbytes)])
        else:
            layout = h5py.VirtualLayout(SECRET.shape, "<f8")
            layout[:] = h5py.VirtualSource(str(secret), "embedding", shape=SECRET.shape)
            handle.create_virtual_dataset("obsm/X_umap", layout)
        handle["obsm/X_umap"].attrs.update(attrs)


@pytest.mark.parametrize("how", ["external link", "external storage", "virtual dataset"])
def test_data_linked_from_another_file_is_refused_and_never_copied(how: str, tmp_path: Path) -> None:
    upload, server = tmp_path / "upload.h5ad", tmp_path / "server"
    server.mkdir()
    valid_adata().write_h5ad(upload)
    _leak_into_umap(how, upload, server)
    with h5py.File(upload, "r") as handle:  # the link works: reading the upload reads the server's file
        assert np.array_equal(handle["obsm/X_umap"][()], SECRET)

    report = validate(upload)
    assert not report.valid
    assert [(i.code, i.count) for i in report.errors] == [("file.external_data", 1)]
    message = report.errors[0].message
    assert "'obsm/X_umap'" in message and "self-contained" in message
    assert str(server) not in message  # the curator is not told the server's paths

    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ValueError, match="links to data outside itself"):
        write_labelled_view(upload, out / "labelled.h5ad")
    assert list(out.iterdir()) == []
    assert SECRET.tobytes() not in upload.read_bytes()  # the upload itself (the raw_h5ad artifact) holds no data


def test_links_inside_the_file_are_allowed(tmp_path: Path) -> None:
    path = tmp_path / "soft.h5ad"
    valid_adata().write_h5ad(path)
    with h5py.File(path, "a") as handle:
        handle["uns/alias"] = h5py.SoftLink("/uns/title")
    with h5py.File(path, "r") as handle:
        assert outside_references(handle) == []
