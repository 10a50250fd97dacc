"""The chain the pipeline runs: a generated upload, labelled by the real labeller, then every other format."""

from __future__ import annotations

from pathlib import Path

import anndata as ad
import loompy
import numpy as np
import pytest
from rds2py import parse_rds

from cellportal.demo.generator import generate_dataset
from cellportal.formats.conversion import ConversionContext, ConversionStatus
from cellportal.formats.explorer_store import ExplorerStoreReader
from cellportal.formats.registry import conversion_order

pytestmark = pytest.mark.slow


def test_generated_upload_through_every_converter(tmp_path: Path, ctx: ConversionContext) -> None:
    upload = generate_dataset(tmp_path / "upload.h5ad", n_cells=400, n_genes=150, seed=5)
    outputs: dict[str, Path] = {"raw_h5ad": upload}
    for converter in conversion_order():
        dest = tmp_path / f"{ctx.dataset_version_id}.{converter.extension}"
        result = converter.convert(outputs[converter.input_artifact], dest, ctx)
        assert result.status == ConversionStatus.CONVERTED, (converter.artifact_type, result.reason)
        outputs[converter.artifact_type] = dest

    labelled = ad.read_h5ad(outputs["h5ad"])
    original = ad.read_h5ad(upload)
    assert {"cell_type", "assay", "tissue", "observation_joinid"} <= set(labelled.obs.columns)
    assert labelled.uns["citation"] == ctx.citation("h5ad")
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
