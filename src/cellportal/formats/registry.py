"""The registry of download formats: one converter per artifact type, looked up by the pipeline.

Each converter is `convert(source, dest, ctx) -> ConversionResult`, and every one reads the same input: the
labelled dataset the pipeline's label step writes (`cellportal.schema.labeller.write_labelled_view`: labelled
obs/var/uns, the upload's matrices by external link). None reads another's output, so they run in parallel.
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
    media_type: str


CONVERTERS: dict[str, Converter] = {
    c.artifact_type: c
    for c in (
        Converter("h5ad", "h5ad", h5ad.FORMAT_VERSION, h5ad.convert, "application/x-hdf5"),
        Converter(
            "explorer",
            "explorer.h5",
            explorer_store.FORMAT_VERSION,
            explorer_store.convert,
            "application/x-hdf5",
        ),
        Converter("rds", "rds", rds.FORMAT_VERSION, rds.convert, "application/octet-stream"),
        Converter("loom", "loom", loom.FORMAT_VERSION, loom.convert, "application/vnd.loom"),
    )
}

# Expected order of the conversions' durations, longest first (not measured with the labelled view): loom,
# rds, explorer as in docs/PERFORMANCE.md's Conversions table at 400k cells (193, 176, 139 s), and h5ad last,
# now one streaming copy (its 298 s there included a validation and labelling through a full copy).
LONGEST_FIRST = ("loom", "rds", "explorer", "h5ad")


def get_converter(artifact_type: str) -> Converter:
    try:
        return CONVERTERS[artifact_type]
    except KeyError:
        raise KeyError(f"no converter for artifact type {artifact_type!r}; known: {sorted(CONVERTERS)}") from None


def conversion_order() -> list[Converter]:
    """Every converter, the longest first: with fewer cores than conversions, starting the long ones first
    keeps one long conversion from starting last and running alone (see `LONGEST_FIRST`)."""
    rank = {t: i for i, t in enumerate(LONGEST_FIRST)}
    return sorted(CONVERTERS.values(), key=lambda c: rank.get(c.artifact_type, len(rank)))
