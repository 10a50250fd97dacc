"""One streaming pass over a matrix that gathers everything the matrix rules need.

The matrix is read in blocks of about two million stored values (CSR rows, dense rows or CSC columns), so
memory stays flat whatever the number of cells; only a few bytes per cell (non-zero counts, a 64-bit row
hash) and per feature (column sums) are kept.

Duplicate cells are found by hashing each row's non-zero (column, value) pairs: every pair is mixed into a
64-bit value and the row's hash is their sum, so equal rows always get equal hashes and different rows
collide with probability about 2^-64 per pair of rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cellportal.schema.h5ad import Matrix

_MIX_1 = np.uint64(0x9E3779B97F4A7C15)
_MIX_2 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_3 = np.uint64(0x94D049BB133111EB)


@dataclass
class ScanRequest:
    column_sums: bool = False
    filtered_columns: np.ndarray | None = None  # bool mask: count stored values in these columns
    raw_values: bool = False  # integers >= 0, empty rows
    row_hashes: bool = False


@dataclass
class ScanResult:
    location: str
    stored_values: int = 0  # stored entries (sparse) or non-zero entries (dense)
    column_sums: np.ndarray | None = None
    filtered_stored_values: int = 0
    row_nonzero: np.ndarray | None = None  # per row: how many non-zero values
    invalid_value_count: int = 0  # non-integer or negative values
    invalid_value_rows: np.ndarray | None = None  # first rows holding one
    non_finite_count: int = 0
    non_finite_rows: np.ndarray | None = None
    row_hashes: np.ndarray | None = None
    error: str | None = None  # why the matrix could not be read


def _mix(columns: np.ndarray, values: np.ndarray) -> np.ndarray:
    """A well-spread 64-bit hash of each (column, value) pair (splitmix64 finaliser)."""
    bits = np.ascontiguousarray(values, dtype=np.float64).view(np.uint64)
    x = columns.astype(np.uint64) * _MIX_1 ^ bits
    x ^= x >> np.uint64(30)
    x *= _MIX_2
    x ^= x >> np.uint64(27)
    x *= _MIX_3
    x ^= x >> np.uint64(31)
    return x


def _first_rows(mask_rows: np.ndarray, already: np.ndarray | None, limit: int = 5) -> np.ndarray:
    rows = np.unique(mask_rows)[:limit]
    if already is None:
        return rows
    return np.unique(np.concatenate([already, rows]))[:limit]


def scan(matrix: Matrix, request: ScanRequest) -> ScanResult:
    result = ScanResult(matrix.location)
    if matrix.shape is None or matrix.format not in {"csr", "csc", "dense"}:
        result.error = f"{matrix.location} is not a readable matrix ({matrix.format})"
        return result
    n_rows, n_cols = matrix.shape
    if request.column_sums:
        result.column_sums = np.zeros(n_cols, dtype=np.float64)
    if request.raw_values or request.row_hashes:
        result.row_nonzero = np.zeros(n_rows, dtype=np.int64)
    if request.row_hashes and matrix.format != "csc":
        result.row_hashes = np.zeros(n_rows, dtype=np.uint64)
    try:
        if matrix.format == "csc":
            for data, rows, columns in matrix.column_chunks():
                _consume(
                    result,
                    request,
                    np.asarray(data),
                    np.asarray(rows, dtype=np.int64),
                    np.asarray(columns, dtype=np.int64),
                    None,
                    0,
                )
        else:
            for start, stop, data, indices, indptr in matrix.row_chunks():
                data = np.asarray(data)
                lengths = np.diff(indptr)
                rows = np.repeat(np.arange(start, stop, dtype=np.int64), lengths)
                _consume(result, request, data, rows, np.asarray(indices, dtype=np.int64), indptr, start)
    except (OSError, ValueError, IndexError, KeyError, TypeError) as error:
        result.error = f"{matrix.location} could not be read: {error}"
    return result


def _consume(
    result: ScanResult,
    request: ScanRequest,
    data: np.ndarray,
    rows: np.ndarray,
    columns: np.ndarray,
    indptr: np.ndarray | None,
    start: int,
) -> None:
    result.stored_values += int(data.size)
    if data.size and (columns.min() < 0 or columns.max() >= _n_cols(result, request, columns)):
        raise IndexError("column index out of range")
    if data.dtype.kind == "f":
        finite = np.isfinite(data)
        if not finite.all():
            bad = ~finite
            result.non_finite_count += int(bad.sum())
            result.non_finite_rows = _first_rows(rows[bad], result.non_finite_rows)
    if result.column_sums is not None and data.size:
        result.column_sums += np.bincount(columns, weights=data.astype(np.float64), minlength=len(result.column_sums))
    if request.filtered_columns is not None and data.size:
        result.filtered_stored_values += int(request.filtered_columns[columns].sum())
    nonzero = data != 0
    if result.row_nonzero is not None and data.size:
        if indptr is None:  # CSC block: rows come in any order
            result.row_nonzero += np.bincount(rows[nonzero], minlength=len(result.row_nonzero))
        else:
            _add_row_counts(result.row_nonzero, nonzero, indptr, start)
    if request.raw_values and data.size:
        if data.dtype.kind == "f":
            with np.errstate(invalid="ignore"):
                invalid = (np.mod(data, 1) > 0) | (data < 0)
        else:
            invalid = data < 0
        if invalid.any():
            result.invalid_value_count += int(invalid.sum())
            result.invalid_value_rows = _first_rows(rows[invalid], result.invalid_value_rows)
    if result.row_hashes is not None and indptr is not None and data.size:
        mixed = _mix(columns[nonzero], data[nonzero])
        kept_rows = rows[nonzero] - start
        block = np.zeros(len(indptr) - 1, dtype=np.uint64)
        if len(kept_rows):
            _segment_sum(block, kept_rows, mixed)
        result.row_hashes[start : start + len(block)] = block


def _n_cols(result: ScanResult, request: ScanRequest, columns: np.ndarray) -> int:
    if result.column_sums is not None:
        return len(result.column_sums)
    if request.filtered_columns is not None:
        return len(request.filtered_columns)
    return int(columns.max()) + 1


def _add_row_counts(counts: np.ndarray, nonzero: np.ndarray, indptr: np.ndarray, start: int) -> None:
    cumulative = np.concatenate([[0], np.cumsum(nonzero, dtype=np.int64)])
    counts[start : start + len(indptr) - 1] += cumulative[indptr[1:]] - cumulative[indptr[:-1]]


def _segment_sum(block: np.ndarray, rows: np.ndarray, values: np.ndarray) -> None:
    """Sum uint64 values per (sorted) row with wrap-around, faster than np.add.at for big blocks."""
    boundaries = np.flatnonzero(np.diff(rows)) + 1
    starts = np.concatenate([[0], boundaries])
    sums = np.add.reduceat(values, starts)
    block[rows[starts]] = sums


def duplicate_rows(hashes: np.ndarray, keep: np.ndarray | None = None) -> np.ndarray:
    """Boolean mask of rows whose hash another kept row shares (all members of each duplicate group)."""
    positions = np.arange(len(hashes)) if keep is None else np.flatnonzero(keep)
    values = hashes[positions]
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    same_as_next = sorted_values[1:] == sorted_values[:-1]
    in_group = np.zeros(len(values), dtype=bool)
    in_group[:-1] |= same_as_next
    in_group[1:] |= same_as_next
    mask = np.zeros(len(hashes), dtype=bool)
    mask[positions[order[in_group]]] = True
    return mask
