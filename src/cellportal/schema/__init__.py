"""The CELLxGENE dataset schema (7.1.0): reference data, validator, labeller and metadata extractor.

Public API (imports are lazy so that ``cellportal validate`` starts fast):

- :func:`validate` (path) -> :class:`ValidationReport`
- :func:`add_labels` (path, out) -> None; raises :class:`InvalidDatasetError` if the file is invalid
- :func:`extract_metadata` (path) -> :class:`DatasetMetadata`
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cellportal.schema.labeller import InvalidDatasetError, add_labels
    from cellportal.schema.metadata import DatasetMetadata, extract_metadata
    from cellportal.schema.report import ValidationReport
    from cellportal.schema.validator import validate

__all__ = [
    "DatasetMetadata",
    "InvalidDatasetError",
    "ValidationReport",
    "add_labels",
    "extract_metadata",
    "validate",
]

_HOMES = {
    "validate": "cellportal.schema.validator",
    "ValidationReport": "cellportal.schema.report",
    "add_labels": "cellportal.schema.labeller",
    "InvalidDatasetError": "cellportal.schema.labeller",
    "extract_metadata": "cellportal.schema.metadata",
    "DatasetMetadata": "cellportal.schema.metadata",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'cellportal.schema' has no attribute {name!r}")
