"""The chain the pipeline runs: a generated upload, its labelled view from the real labeller, then every format."""

from __future__ import annotations

from pathlib import Path

import anndata as ad
import h5py
import loompy
import numpy as np
import pandas as pd
import pytest
from rds2py import parse_rds

from cellportal.demo.generator import generate_dataset
from cellportal.formats.conversion import ConversionContext, ConversionStatus
from cellportal.formats.explorer_store import ExplorerStoreReader
from cellportal.formats.registry import conversion_order
from cellportal.schema.labeller import write_labelled_view, write_labels

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def upload(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_dataset(tmp_path_factory.mktemp("upload") / "upload.h5ad", n_cells=400, n_genes=150, seed=5)


def test_the_view_links_the_matrices_and_reads_as_the_labelled_copy(upload: Path, tmp_path: Path) -> None:
    view, copy = tmp_path / "view.h5ad", tmp_path / "copy.h5ad"
    write_labelled_view(upload, view)
    write_labels(upload, copy)
    with h5py.File(view) as f:
        for name in ("X", "obsm", "raw/X"):
            link = f.get(name, getlink=True)
            assert isinstance(link, h5py.ExternalLink) and Path(link.filename) == upload.resolve(), name
        assert isinstance(f.get("obs", getlink=True), h5py.HardLink)
    assert view.stat().st_size < upload.stat().st_size / 5
    through_view, labelled = ad.read_h5ad(view), ad.read_h5ad(copy)
    pd.testing.assert_frame_equal(through_view.obs, labelled.obs)
    pd.testing.assert_frame_equal(through_view.var, labelled.var)
    pd.testing.assert_frame_equal(through_view.raw.var, labelled.raw.var)
    assert (through_view.X != labelled.X).nnz == 0 and (through_view.raw.X != labelled.raw.X).nnz == 0
    assert through_view.uns.keys() == labelled.uns.keys()


def test_generated_upload_through_every_converter(upload: Path, tmp_path: Path, ctx: ConversionContext) -> None:
    view = tmp_path / "view.h5ad"
    write_labelled_view(upload, view)
    outputs: dict[str, Path] = {}
    for converter in conversion_order():
        dest = tmp_path / f"{ctx.dataset_version_id}.{converter.extension}"
        result = converter.convert(view, dest, ctx)
        assert result.status == ConversionStatus.CONVERTED, (converter.artifact_type, result.reason)
        outputs[converter.artifact_type] = dest

    # The labelled download holds exactly the labeller's output (a full labelled copy) plus the citation.
    write_labels(upload, tmp_path / "labels.h5ad")
    labelled, expected = ad.read_h5ad(outputs["h5ad"]), ad.read_h5ad(tmp_path / "labels.h5ad")
    original = ad.read_h5ad(upload)
    assert {"cell_type", "assay", "tissue", "observation_joinid"} <= set(labelled.obs.columns)
    pd.testing.assert_frame_equal(labelled.obs, expected.obs)
    pd.testing.assert_frame_equal(labelled.var, expected.var)
    pd.testing.assert_frame_equal(labelled.raw.var, expected.raw.var)
    assert labelled.uns.pop("citation") == ctx.citation("h5ad")
    assert labelled.uns.keys() == expected.uns.keys()
    for key in expected.uns:
        np.testing.assert_equal(labelled.uns[key], expected.uns[key])
    for key in expected.obsm:
        np.testing.assert_array_equal(labelled.obsm[key], expected.obsm[key])
    assert (labelled.X != original.X).nnz == 0 and (labelled.raw.X != original.raw.X).nnz == 0

    with loompy.connect(str(outputs["loom"]), mode="r") as ds:
        assert list(ds.ra.Gene) == list(labelled.var["feature_name"].astype(str))
        assert list(ds.ca.cell_type) == list(labelled.obs["cell_type"].astype(str))

    seurat = parse_rds(str(outputs["rds"]))
    meta = seurat["attributes"]["meta.data"]
    assert "cell_type" in meta["attributes"]["names"]["data"]

    with ExplorerStoreReader(outputs["explorer"]) as store:
        gene = int(np.argmax(np.diff(labelled.X.tocsc().indptr)))
        np.testing.assert_array_equal(store.gene_expression(gene), labelled.X[:, gene].toarray().ravel())
        assert store.obs_column("cell_type").categories == list(labelled.obs["cell_type"].cat.categories)
