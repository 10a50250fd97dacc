"""Expression matrices: encodings, shapes, and the raw-count rules (computed from streaming scans)."""

from __future__ import annotations

import numpy as np

from cellportal.schema.dataset import Dataset
from cellportal.schema.h5ad import Matrix
from cellportal.schema.issues import Issue, issue
from cellportal.schema.ontology import OntologyIndex
from cellportal.schema.rules.matrix_scan import ScanResult, confirm_duplicates, duplicate_candidates

MAX_DENSE_SPARSITY = 0.5
_SPARSE_FORMAT_HINT = "Please ensure it is either a dense array or one of the supported sparse matrix encodings (csr)"
RNA_ASSAYS_ALL_OF = ("EFO:0010891", "EFO:0008913")  # paired multiome: scATAC and scRNA
NON_RNA_ASSAYS = ("EFO:0007045", "EFO:0008804", "EFO:0000751", "EFO:0008939")  # ATAC and methylation assays
VISIUM, VISIUM_11MM = "EFO:0010961", "EFO:0022860"


def all_matrices(ds: Dataset) -> list[Matrix]:
    found = [m for m in (ds.X, ds.raw_X) if m is not None]
    return found + list(ds.layers.values())


def check_encodings(ds: Dataset, dense_scans: dict[str, ScanResult]) -> list[Issue]:
    """CSR or dense only; dense matrices that are mostly zeros must be CSR."""
    issues: list[Issue] = []
    for matrix in all_matrices(ds):
        if matrix.format == "csr":
            continue
        if matrix.format in {"csc", "coo"}:
            issues.append(
                issue(
                    "matrix.unsupported_encoding",
                    f"Invalid sparse encoding for {matrix.location} with "
                    f"encoding {matrix.format}. Only csr sparse encodings are supported.",
                    matrix.location,
                )
            )
            continue
        if matrix.format == "unknown":
            issues.append(
                issue(
                    "matrix.unknown_encoding",
                    f"Unknown encoding for matrix {matrix.location}. {_SPARSE_FORMAT_HINT}",
                    matrix.location,
                )
            )
            continue
        scan = dense_scans.get(matrix.location)
        if scan is None or matrix.shape is None or scan.error:
            continue
        total = matrix.shape[0] * matrix.shape[1]
        sparsity = 1 - scan.stored_values / total if total else 0.0
        if sparsity > MAX_DENSE_SPARSITY:
            issues.append(
                issue(
                    "matrix.dense_sparse_data",
                    f"Sparsity of '{matrix.location}' is {sparsity} which is "
                    f"greater than {MAX_DENSE_SPARSITY}, and it is not a 'scipy.sparse.csr_matrix'. The "
                    "matrix MUST use this type of matrix for the given sparsity.",
                    matrix.location,
                )
            )
    return issues


def check_shapes(ds: Dataset) -> list[Issue]:
    """X agrees with obs and var; raw.X agrees with X (same cells, same features in the same order)."""
    issues: list[Issue] = []
    if ds.X is not None and ds.X.shape is not None:
        if ds.obs is not None and ds.X.shape[0] != len(ds.obs):
            issues.append(
                issue("matrix.shape_mismatch", f"X has {ds.X.shape[0]} rows but obs has {len(ds.obs)} cells.", "X")
            )
        if ds.var is not None and ds.X.shape[1] != len(ds.var):
            issues.append(
                issue(
                    "matrix.shape_mismatch", f"X has {ds.X.shape[1]} columns but var has {len(ds.var)} features.", "X"
                )
            )
    if ds.raw_X is None or ds.raw_X.shape is None:
        return issues
    n_vars = len(ds.var) if ds.var is not None else (ds.X.shape[1] if ds.X and ds.X.shape else 0)
    raw_vars = len(ds.raw_var) if ds.raw_var is not None else ds.raw_X.shape[1]
    if n_vars != raw_vars:
        issues.append(
            issue(
                "matrix.shape_mismatch",
                f"Number of genes in X ({n_vars}) is different than raw.X ({raw_vars}).",
                "raw.X",
            )
        )
    elif ds.var is not None and ds.raw_var is not None and not np.array_equal(ds.var.index, ds.raw_var.index):
        issues.append(
            issue("matrix.shape_mismatch", "Index of 'raw.var' is not identical to index of 'var'.", "raw.var")
        )
    if ds.raw_X.shape[0] != ds.n_obs:
        issues.append(
            issue(
                "matrix.shape_mismatch",
                f"Number of cells in X ({ds.n_obs}) is different than raw.X ({ds.raw_X.shape[0]}).",
                "raw.X",
            )
        )
    if ds.raw_var is not None and len(ds.raw_var) != ds.raw_X.shape[1]:
        issues.append(
            issue(
                "matrix.shape_mismatch",
                f"raw.X has {ds.raw_X.shape[1]} columns but raw.var has {len(ds.raw_var)} features.",
                "raw.X",
            )
        )
    return issues


def raw_rules_apply(ds: Dataset, index: OntologyIndex) -> bool:
    """Raw counts are required for RNA data: unless every assay is ATAC or methylation (multiome counts as RNA)."""
    if ds.obs is None or "assay_ontology_term_id" not in ds.obs:
        return True
    assays = [a for a in ds.obs.columns["assay_ontology_term_id"].unique_values() if isinstance(a, str)]
    multiome = any(all(index.is_descendant_of(a, t, inclusive=True) for t in RNA_ASSAYS_ALL_OF) for a in assays)
    non_rna = any(any(index.is_descendant_of(a, t, inclusive=True) for t in NON_RNA_ASSAYS) for a in assays)
    return multiome or not non_rna


def raw_matrix(ds: Dataset) -> Matrix | None:
    return ds.raw_X if ds.raw_X is not None else ds.X


def _row_names(ds: Dataset, rows: np.ndarray | None) -> list[str]:
    if rows is None or ds.obs is None:
        return []
    return [str(ds.obs.index[r]) for r in rows if r < len(ds.obs)]


def visium_single(ds: Dataset, index: OntologyIndex) -> tuple[bool, int | None, str]:
    """Whether the dataset is Visium with uns.spatial.is_single True; the raw row count required; the assay."""
    spatial = ds.uns.get("spatial")
    is_single = (
        isinstance(spatial, dict)
        and isinstance(spatial.get("is_single"), bool | np.bool_)
        and bool(spatial["is_single"])
    )
    if ds.obs is None or "assay_ontology_term_id" not in ds.obs or not is_single:
        return False, None, ""
    values = [a for a in ds.obs.columns["assay_ontology_term_id"].unique_values() if isinstance(a, str)]
    if not any(index.is_descendant_of(a, VISIUM) for a in values):
        return False, None, ""
    if any(index.is_descendant_of(a, VISIUM_11MM, inclusive=True) for a in values):
        return True, 14_336, VISIUM_11MM
    return True, 4_992, VISIUM


def check_raw(ds: Dataset, scan: ScanResult | None, index: OntologyIndex) -> list[Issue]:
    """Raw counts: float32, non-negative integers, no empty cells, in raw.X (or X when there is no raw)."""
    matrix = raw_matrix(ds)
    if matrix is None or not raw_rules_apply(ds, index):
        return []
    location = matrix.location
    problems: list[Issue] = []
    if matrix.dtype is None or matrix.dtype != np.float32:
        problems.append(
            issue("raw.dtype", "Raw matrix values must have type numpy.float32.", location, values=[str(matrix.dtype)])
        )
    elif matrix.format == "unknown":
        problems.append(
            issue("matrix.unknown_encoding", f"Unknown encoding for matrix {location}. {_SPARSE_FORMAT_HINT}", location)
        )
    elif scan is not None and scan.error is None:
        problems += _raw_values(ds, matrix, scan, index)
    elif scan is not None and scan.error:
        problems.append(issue("file.missing_element", scan.error, location))
    if scan is not None and scan.non_finite_count:
        problems.append(
            issue(
                "matrix.non_finite",
                f"{location} holds {scan.non_finite_count} NaN or infinite "
                "value(s); raw counts must be finite integers.",
                location,
                count=scan.non_finite_count,
                examples=_row_names(ds, scan.non_finite_rows),
            )
        )
    if problems:
        if location == "raw.X":
            problems.append(
                issue(
                    "raw.missing",
                    "Raw data may be missing: data in 'raw.X' does not meet schema requirements.",
                    location,
                )
            )
        else:
            problems.append(
                issue(
                    "raw.missing", "Raw data is missing: there is only a normalized matrix in X and no raw.X", location
                )
            )
    elif location == "X":
        problems.append(
            issue(
                "raw.only_raw",
                "Only raw data was found, i.e. there is no 'raw.X'. It is STRONGLY "
                "RECOMMENDED that 'final' (normalized) data is provided.",
                location,
            )
        )
    return problems


def _raw_values(ds: Dataset, matrix: Matrix, scan: ScanResult, index: OntologyIndex) -> list[Issue]:
    location = matrix.location
    issues: list[Issue] = []
    is_visium, required_rows, assay = visium_single(ds, index)
    if is_visium and matrix.shape is not None and matrix.shape[0] != required_rows:
        issues.append(
            issue(
                "raw.visium_row_count",
                f"When obs['assay_ontology_term_id'] is {assay} and "
                "uns['spatial']['is_single'] is True, the raw matrix must be the unfiltered "
                f"feature-barcode matrix 'raw_feature_bc_matrix'. It must have exactly {required_rows} "
                f"rows. Raw matrix row count is {matrix.shape[0]}.",
                location,
            )
        )
    in_tissue = ds.obs.columns.get("in_tissue") if ds.obs is not None else None
    row_nonzero = scan.row_nonzero if scan.row_nonzero is not None else np.zeros(0, dtype=np.int64)
    if (
        is_visium
        and in_tissue is not None
        and in_tissue.values is not None
        and (in_tissue.values == 0).any()
        and len(in_tissue.values) == len(row_nonzero)
    ):
        outside = in_tissue.values == 0
        if not (row_nonzero[outside] > 0).any():
            issues.append(
                issue(
                    "raw.in_tissue",
                    "If obs['in_tissue'] contains at least one value 0, then there "
                    "must be at least one row with obs['in_tissue'] == 0 that has a non-zero value in "
                    "the raw matrix.",
                    location,
                )
            )
        empty_inside = (in_tissue.values == 1) & (row_nonzero == 0)
        if empty_inside.any():
            issues.append(
                issue(
                    "raw.in_tissue",
                    "Each observation with obs['in_tissue'] == 1 must have at least one "
                    "non-zero value in its row in the raw matrix.",
                    location,
                    count=int(empty_inside.sum()),
                    examples=_row_names(ds, np.flatnonzero(empty_inside)[:5]),
                )
            )
    else:
        empty = np.flatnonzero(row_nonzero == 0)
        if len(empty):
            issues.append(
                issue(
                    "raw.empty_rows",
                    "Each cell must have at least one non-zero value in its row in the "
                    f"raw matrix. {len(empty)} cell(s) in {location} have none.",
                    location,
                    count=len(empty),
                    examples=_row_names(ds, empty[:5]),
                )
            )
    if scan.invalid_value_count:
        issues.append(
            issue(
                "raw.non_integer",
                "All non-zero values in raw matrix must be positive integers of type "
                f"numpy.float32. {location} holds {scan.invalid_value_count} negative or non-integer "
                "value(s).",
                location,
                count=scan.invalid_value_count,
                examples=_row_names(ds, scan.invalid_value_rows),
            )
        )
    return issues


def check_duplicates(ds: Dataset, scan: ScanResult | None) -> list[Issue]:
    """No two cells (outside Visium spots not in tissue) may have identical raw counts."""
    matrix = raw_matrix(ds)
    if matrix is None or scan is None or scan.row_hashes is None or scan.error:
        return []
    keep = None
    in_tissue = ds.obs.columns.get("in_tissue") if ds.obs is not None else None
    if in_tissue is not None and in_tissue.values is not None and len(in_tissue.values) == len(scan.row_hashes):
        keep = np.asarray(in_tissue.values != 0)
    duplicated = confirm_duplicates(matrix, duplicate_candidates(scan.row_hashes, keep))
    count = len(duplicated)
    if not count:
        return []
    name = "adata.raw.X" if matrix.location == "raw.X" else "adata.X"
    return [
        issue(
            "raw.duplicate_rows",
            f"Found {count} duplicated raw counts in obs {name}.",
            matrix.location,
            count=count,
            examples=_row_names(ds, duplicated[:5]),
        )
    ]


def check_x_values(ds: Dataset, scan: ScanResult | None) -> list[Issue]:
    """Normalized X must hold finite numbers (the reference does not look; NaN in X breaks the explorer)."""
    if scan is None or ds.X is None or ds.raw_X is None or not scan.non_finite_count:
        return []
    return [
        issue(
            "matrix.non_finite",
            f"X holds {scan.non_finite_count} NaN or infinite value(s).",
            "X",
            count=scan.non_finite_count,
            examples=_row_names(ds, scan.non_finite_rows),
        )
    ]
