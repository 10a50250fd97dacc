"""obsm embeddings (and empty arrays in obsm/obsp/varm/varp). Arrays are scanned in row blocks."""

from __future__ import annotations

import re

import h5py
import numpy as np

from cellportal.schema.dataset import Dataset
from cellportal.schema.h5ad import Embedding
from cellportal.schema.issues import Issue, issue

KEY_PATTERN = r"^[a-zA-Z][a-zA-Z0-9_.-]*$"
_BLOCK_VALUES = 4_000_000


def check_annotation_arrays(ds: Dataset) -> list[Issue]:
    issues = []
    for component in ("varm", "varp", "obsm", "obsp"):
        for key, entry in ds.mappings.get(component, {}).items():
            if entry.kind == "array" and entry.shape is not None and int(np.prod(entry.shape)) == 0:
                issues.append(
                    issue(
                        "annotation.empty_array",
                        f"The size of the ndarray stored for a 'adata.{component}['{key}']' MUST NOT be zero.",
                        f"{component}.{key}",
                    )
                )
    return issues


def _value_flags(entry: Embedding) -> tuple[bool, bool, bool]:
    """(any infinite, any NaN, all NaN) of an embedding, read in row blocks."""
    node = entry.node
    assert isinstance(node, h5py.Dataset)
    rows = node.shape[0] if node.ndim else 0
    per_row = int(np.prod(node.shape[1:])) if node.ndim > 1 else 1
    step = max(1, _BLOCK_VALUES // max(1, per_row))
    any_inf = any_nan = False
    all_nan = rows > 0
    for start in range(0, rows, step):
        block = np.asarray(node[start : start + step])
        if block.dtype.kind != "f":
            return False, False, False
        nan = np.isnan(block)
        any_inf |= bool(np.isinf(block).any())
        any_nan |= bool(nan.any())
        all_nan &= bool(nan.all())
    return any_inf, any_nan, all_nan


def check_obsm(ds: Dataset, is_spatial_assay: bool, is_single: bool | None) -> list[Issue]:
    obsm = ds.obsm
    if not obsm:
        return [issue("obsm.missing", "No embeddings found in 'adata.obsm'.", "obsm")]
    issues: list[Issue] = []
    with_x_prefix = 0
    for key, entry in obsm.items():
        location = f"obsm.{key}"
        is_spatial = key.lower() == "spatial"
        other = False
        if key.startswith("X_"):
            with_x_prefix += 1
            if key.lower() == "x_spatial":
                issues.append(
                    issue("obsm.invalid_key", f"Embedding key in 'adata.obsm' {key} cannot be used.", location)
                )
            elif not re.match(KEY_PATTERN, key[2:]):
                issues.append(
                    issue(
                        "obsm.invalid_key",
                        f"Suffix for embedding key in 'adata.obsm' {key} does not "
                        f"match the regex pattern {KEY_PATTERN}.",
                        location,
                    )
                )
        elif not is_spatial:
            if not re.match(KEY_PATTERN, key):
                issues.append(
                    issue(
                        "obsm.invalid_key",
                        f"Embedding key in 'adata.obsm' {key} does not match the regex pattern {KEY_PATTERN}.",
                        location,
                    )
                )
            issues.append(
                issue(
                    "obsm.unknown_key",
                    f"Embedding key in 'adata.obsm' {key} is not 'spatial' nor does "
                    "it start with 'X_'. Thus, it will not be available in Explorer",
                    location,
                )
            )
            other = True
        if entry.kind != "array" or entry.shape is None:
            issues.append(
                issue(
                    "obsm.not_array",
                    "All embeddings have to be of 'numpy.ndarray' type, "
                    f"'adata.obsm['{key}']' is stored as '{entry.kind}'.",
                    location,
                )
            )
            continue
        shape = entry.shape
        if len(shape) < 2:
            issues.append(
                issue(
                    "obsm.shape",
                    f"All embeddings must at least two dimensions. 'adata.obsm['{key}']' "
                    f"has a shape length of '{len(shape)}'.",
                    location,
                )
            )
        else:
            if shape[0] != ds.n_obs:
                issues.append(
                    issue(
                        "obsm.shape",
                        f"All embeddings must have as many rows as cells. 'adata.obsm['{key}']' has rows='{shape[0]}'.",
                        location,
                    )
                )
            if other and shape[1] < 1:
                issues.append(
                    issue(
                        "obsm.shape",
                        f"All unspecified embeddings must have at least one column. "
                        f"'adata.obsm['{key}']' has columns='{shape[1]}'.",
                        location,
                    )
                )
            if not other and shape[1] < 2:
                issues.append(
                    issue(
                        "obsm.shape",
                        f"All 'X_' and 'spatial' embeddings must have at least two "
                        f"columns. 'adata.obsm['{key}']' has columns='{shape[1]}'.",
                        location,
                    )
                )
        dtype = entry.dtype
        value_code = "obsm.other_values" if other else None
        if dtype is None or dtype.kind not in "iuf":
            issues.append(
                issue(
                    value_code or "obsm.dtype",
                    f"adata.obsm['{key}'] has an invalid data type. It "
                    "should be float, integer, or unsigned integer of any precision (8, 16, 32, or 64 "
                    "bits).",
                    location,
                )
            )
            continue
        any_inf, any_nan, all_nan = _value_flags(entry)
        if any_inf:
            issues.append(
                issue(
                    value_code or "obsm.non_finite",
                    f"adata.obsm['{key}'] contains positive infinity or negative infinity values.",
                    location,
                )
            )
        if is_spatial and any_nan:
            issues.append(
                issue(
                    value_code or "obsm.non_finite", "adata.obsm['spatial'] contains at least one NaN value.", location
                )
            )
        elif all_nan:
            issues.append(
                issue(value_code or "obsm.non_finite", f"adata.obsm['{key}'] contains all NaN values.", location)
            )
    if not is_spatial_assay and with_x_prefix == 0:
        issues.append(
            issue(
                "obsm.no_x_embedding", "At least one embedding in 'obsm' has to have a key with an 'X_' prefix.", "obsm"
            )
        )
    if is_single and "spatial" not in obsm:
        issues.append(
            issue(
                "obsm.spatial_embedding",
                "'spatial' embedding is required in 'adata.obsm' if adata.uns['spatial']['is_single'] is True.",
                "obsm",
            )
        )
    elif is_single is None and "spatial" in obsm:
        issues.append(
            issue(
                "obsm.spatial_embedding",
                "'spatial' embedding is forbidden in 'adata.obsm' if adata.uns['spatial']['is_single'] is not set.",
                "obsm.spatial",
            )
        )
    return issues
