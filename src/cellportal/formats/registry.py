"""The registry of download formats: one converter per artifact type, looked up by the pipeline.

Each converter is `convert(source, dest, ctx) -> ConversionResult`. The `h5ad` step reads the original
upload; every other step reads the labelled `.h5ad` the `h5ad` step produced (`INPUT_OF`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cellportal.formats import explorer_store, h5ad, loom, rds
from cellportal.formats.conversion import ConversionContext, ConversionResult

ConvertFunction = Callable[[Path, Path, ConversionContext], ConversionResult]

# Every artifact a dataset version can have. `raw_h5ad` is the upload as received (kept by the upload
# step, not converted), the others are made by the converters below.
ARTIFACT_TYPES = ("raw_h5ad", "h5ad", "explorer", "rds", "loom")


@dataclass(frozen=True)
class Converter:
    artifact_type: str
    extension: str
    format_version: str
    convert: ConvertFunction
    # The artifact this step reads: the original upload for `h5ad`, the labelled h5ad for the others.
    input_artifact: str
    media_type: str


CONVERTERS: dict[str, Converter] = {
    c.artifact_type: c
    for c in (
        Converter("h5ad", "h5ad", h5ad.FORMAT_VERSION, h5ad.convert, "raw_h5ad", "application/x-hdf5"),
        Converter(
            "explorer",
            "explorer.h5",
            explorer_store.FORMAT_VERSION,
            explorer_store.convert,
            "h5ad",
            "application/x-hdf5",
        ),
        Converter("rds", "rds", rds.FORMAT_VERSION, rds.convert, "h5ad", "application/octet-stream"),
        Converter("loom", "loom", loom.FORMAT_VERSION, loom.convert, "h5ad", "application/vnd.loom"),
    )
}


def get_converter(artifact_type: str) -> Converter:
    try:
        return CONVERTERS[artifact_type]
    except KeyError:
        raise KeyError(f"no converter for artifact type {artifact_type!r}; known: {sorted(CONVERTERS)}") from None


def conversion_order() -> list[Converter]:
    """Steps in an order that respects inputs: `h5ad` first, then the rest (independent of each other)."""
    first = [c for c in CONVERTERS.values() if c.input_artifact == "raw_h5ad"]
    rest = [c for c in CONVERTERS.values() if c.input_artifact != "raw_h5ad"]
    return first + rest
