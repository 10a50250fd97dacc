"""The labelled .h5ad download: the labeller's output plus `uns.citation`, gzip-compressed, streamed.

The labelled file is copied element by element with h5py; large arrays go through in slices along their
first axis, so memory stays bounded whatever the dataset's size. Every numeric array is rewritten chunked
with gzip (as CELLxGENE's labelled files are); strings and scalars are copied as they are.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import h5py
import numpy as np
from anndata.io import write_elem

from cellportal.formats.conversion import ConversionContext, ConversionError, ConversionResult

FORMAT_VERSION = "anndata-0.1.0+gzip"  # the AnnData on-disk encoding version our copy keeps
GZIP_LEVEL = 4  # h5py's default level; the reference's labelled files are gzip too
SLICE_BYTES = 32 * 1024 * 1024  # bytes copied per slice of a large array
CHUNK_BYTES = 1024 * 1024  # target size of one HDF5 chunk (uncompressed)


def label(source: Path, out: Path) -> None:
    """Add the ontology labels to `source`, writing `out`.

    This does not validate again: the pipeline runs this converter only after its validate step passed, and
    a second validation was the slowest part of the step (``cellportal.schema.add_labels`` is the
    validating entry point for library users).
    """
    from cellportal.schema.labeller import write_labels

    write_labels(source, out)


def convert(source: Path, dest: Path, ctx: ConversionContext) -> ConversionResult:
    """Label `source` (the validated original upload), then write it to `dest` with the citation, gzipped."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".labelled-", suffix=".h5ad", dir=dest.parent)
    os.close(fd)
    labelled = Path(name)
    try:
        try:
            label(source, labelled)
        except ConversionError:
            raise
        except Exception as error:
            raise ConversionError(f"adding ontology labels failed: {error}") from error
        add_citation_and_compress(labelled, dest, ctx.citation("h5ad"))
    finally:
        labelled.unlink(missing_ok=True)
    return ConversionResult.converted()


def add_citation_and_compress(source: Path, dest: Path, citation: str) -> None:
    """Stream-copy `source` into `dest` with gzip on every numeric array and `uns/citation` set."""
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
