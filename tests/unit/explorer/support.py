"""Explorable datasets for the explorer's tests (API, browser) and its benchmark.

A generated dataset (cellportal.demo) with gene symbols in ``var.feature_name``, as the labeller would add
them, converted to an explorer store by the formats writer, and registered in a real catalog through the
catalog service, the explorer store stored in the real blob store.
"""

from __future__ import annotations

from pathlib import Path

import anndata as ad
import numpy as np
from sqlalchemy.orm import Session

from cellportal.catalog import service
from cellportal.catalog.models import DatasetVersion
from cellportal.catalog.statuses import ArtifactType, ConversionStatus
from cellportal.demo.generator import generate_dataset
from cellportal.formats._explorer_store_writer import write_explorer_store
from cellportal.formats.conversion import ConversionContext
from cellportal.formats.explorer_store import FORMAT_VERSION
from cellportal.schema.reference_files import gene_table
from cellportal.storage.base import BlobStore
from tests.fixtures.builders import DEFAULT_ARTIFACTS, make_collection

HUMAN = "NCBITaxon:9606"


def write_labelled_dataset(path: Path, *, n_cells: int, seed: int = 7, n_genes: int = 2000) -> Path:
    generate_dataset(path, n_cells=n_cells, n_genes=n_genes, seed=seed)
    adata = ad.read_h5ad(path)
    table = gene_table(HUMAN)
    adata.var["feature_name"] = [table.gene_name[table.row(gene_id)] for gene_id in adata.var_names]
    adata.write_h5ad(path)
    return path


def write_store(h5ad: Path, dest: Path, *, version_id: str = "test-version") -> Path:
    ctx = ConversionContext(version_id, "test-dataset", "test-collection", "test-cv", "http://x", "cellportal")
    write_explorer_store(h5ad, dest, ctx)
    return dest


def register_explorable(
    session: Session,
    blobs: BlobStore,
    store: Path,
    *,
    published: bool = True,
    owner_id: str = "curator-1",
    name: str = "Blood atlas",
) -> DatasetVersion:
    """One collection with one dataset whose explorer artifact is `store` (stored in `blobs`)."""
    others = tuple(t for t in DEFAULT_ARTIFACTS if t != ArtifactType.EXPLORER)
    collection_version = make_collection(
        session,
        datasets=1,
        published=False,
        owner_id=owner_id,
        name=name,
        artifacts=others,
        put_blob=lambda data: blobs.put_bytes(data).sha256,
    )
    version = collection_version.dataset_versions[0]
    info = blobs.put_file(store)
    service.record_artifact(
        session,
        dataset_version_id=version.id,
        type=ArtifactType.EXPLORER,
        status=ConversionStatus.CONVERTED,
        sha256=info.sha256,
        size=info.size,
        format_version=FORMAT_VERSION,
    )
    if published:
        service.publish(session, collection_version_id=collection_version.id)
    return version


def marker_genes_of(
    store_symbols: np.ndarray, wanted: tuple[str, ...] = ("CD3E", "MS4A1", "CD14", "NKG7")
) -> list[str]:
    present = set(map(str, store_symbols))
    return [g for g in wanted if g in present]


def as_format_1_0(store: Path, dest: Path) -> Path:
    """The same store in the 1.0 layout: X's indices and data gzip-chunked (what the 1.0 writer made)."""
    import h5py

    with h5py.File(store, "r") as source, h5py.File(dest, "w", libver="latest") as out:
        for key, value in source.attrs.items():
            out.attrs[key] = value
        out.attrs["format_version"] = "1.0.0"
        for name in source:
            if name != "X":
                source.copy(source[name], out, name=name)
        for axis in ("cell_major", "gene_major"):
            group = out.create_group(f"X/{axis}")
            group.create_dataset("indptr", data=source[f"X/{axis}/indptr"][()])
            for array in ("indices", "data"):
                values = source[f"X/{axis}/{array}"][()]
                group.create_dataset(
                    array,
                    data=values,
                    chunks=(min(65536, max(1, values.size)),),
                    compression="gzip",
                    compression_opts=1,
                    shuffle=True,
                    maxshape=(None,),
                )
    return dest
