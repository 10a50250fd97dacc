"""Download formats: each dataset version's labelled .h5ad, explorer store, Seurat .rds and loom.

The pipeline looks converters up in `registry.CONVERTERS`; each one reads a file and writes another in
bounded memory and returns a `ConversionResult` or raises `ConversionError`.
"""

from __future__ import annotations

from cellportal.formats.conversion import (
    ConversionContext,
    ConversionError,
    ConversionResult,
    ConversionStatus,
)

__all__ = ["ConversionContext", "ConversionError", "ConversionResult", "ConversionStatus"]
