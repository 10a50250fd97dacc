"""The labelled .h5ad download: the labelled dataset plus `uns.citation`, gzip-compressed, streamed.

The input is the labelled file the pipeline's label step wrote (`cellportal.schema.labeller`; usually its
*view*, whose matrices are external links into the upload). It is copied element by element with h5py, so
the download is one self-contained file and memory stays bounded whatever the dataset's size:

- a numeric array already stored gzip-compressed (as most curators' files are) is copied chunk by chunk as
  stored (HDF5's object copy moves the compressed chunks without decoding them);
- any other numeric array is rewritten chunked with gzip at `GZIP_LEVEL`, in slices along its first axis;
- strings and scalars are copied as they are, and every HDF5 attribute keeps its stored type.
"""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np

from cellportal.formats.conversion import ConversionContext, ConversionError, ConversionResult

FORMAT_VERSION = "anndata-0.1.0+gzip"  # the AnnData on-disk encoding version our copy keeps
# gzip level of the arrays we compress (CELLxGENE's labelled files are gzip too). On 8 M values of the generated
# 100k-cell X here, zlib level 1 compressed the float values 3x faster than level 4 (the indices at about the
# same speed), for output 12-20 % larger (docs/formats.md).
GZIP_LEVEL = 1
SLICE_BYTES = 32 * 1024 * 1024  # bytes copied per slice of a large array
CHUNK_BYTES = 1024 * 1024  # target size of one HDF5 chunk (uncompressed)


def convert(source: Path, dest: Path, ctx: ConversionContext) -> ConversionResult:
    """Write the labelled dataset `source` to `dest` with the citation, gzipped."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with _open(source) as src:
        if "obs" not in src or "var" not in src:
            raise ConversionError("the input is not an AnnData .h5ad: it lacks obs or var")
        if "cell_type" not in src["obs"] or "feature_name" not in src["var"]:
            raise ConversionError(
                "the input carries no ontology labels (obs.cell_type, var.feature_name): the h5ad download is "
                "made from the label step's output, not from the upload"
            )
    add_citation_and_compress(source, dest, ctx.citation("h5ad"))
    return ConversionResult.converted()


def _open(path: Path) -> h5py.File:
    try:
        return h5py.File(path, "r")
    except OSError as error:
        raise ConversionError(f"the labelled file could not be opened as HDF5: {error}") from error


def add_citation_and_compress(source: Path, dest: Path, citation: str) -> None:
    """Stream-copy `source` into `dest` with gzip on every numeric array and `uns/citation` set."""
    from anndata.io import write_elem

    tmp = dest.with_name(f".{dest.name}.partial")
    try:
        with h5py.File(source, "r") as src, h5py.File(tmp, "w") as out:
            _copy_attrs(src, out)
            for name, node in src.items():
                _copy_node(node, out, name)
            uns = out.require_group("uns")
            if "uns" not in src:
                uns.attrs["encoding-type"] = "dict"
                uns.attrs["encoding-version"] = "0.1.0"
            if "citation" in uns:
                del uns["citation"]
            write_elem(uns, "citation", citation)
        os.replace(tmp, dest)
    except OSError as error:
        raise ConversionError(f"writing the labelled .h5ad failed: {error}") from error
    finally:
        tmp.unlink(missing_ok=True)


def _copy_node(node: h5py.Group | h5py.Dataset, parent: h5py.Group, name: str) -> None:
    if isinstance(node, h5py.Group):
        group = parent.create_group(name)
        _copy_attrs(node, group)
        for child_name, child in node.items():
            _copy_node(child, group, child_name)
        return
    _copy_dataset(node, parent, name)


def _copy_dataset(src: h5py.Dataset, parent: h5py.Group, name: str) -> None:
    numeric = src.dtype.kind in "biuf" and src.shape != () and src.size > 0
    if not numeric:
        # Strings, scalars and compound values: small by nature in an h5ad (names, categories, uns).
        out = parent.create_dataset(name, data=src[()], dtype=src.dtype)
        _copy_attrs(src, out)
        return
    if src.compression == "gzip":
        # Already what we would write: HDF5's object copy moves the compressed chunks (and the attributes)
        # without decoding them, which is most of the step's time saved on a gzipped upload.
        parent.copy(src, name)
        return
    row_bytes = max(1, int(np.prod(src.shape[1:], dtype=np.int64)) * src.dtype.itemsize)
    chunk_rows = max(1, min(src.shape[0], CHUNK_BYTES // row_bytes))
    out = parent.create_dataset(
        name,
        shape=src.shape,
        dtype=src.dtype,
        chunks=(chunk_rows, *src.shape[1:]),
        compression="gzip",
        compression_opts=GZIP_LEVEL,
    )
    _copy_attrs(src, out)
    step = max(chunk_rows, SLICE_BYTES // row_bytes // chunk_rows * chunk_rows)
    for start in range(0, src.shape[0], step):
        stop = min(src.shape[0], start + step)
        out[start:stop] = src[start:stop]


def _copy_attrs(src: h5py.HLObject, out: h5py.HLObject) -> None:
    for key, value in src.attrs.items():
        # Keep the stored HDF5 type (vlen strings stay vlen strings, e.g. `column-order`).
        out.attrs.create(key, value, dtype=src.attrs.get_id(key).dtype)
