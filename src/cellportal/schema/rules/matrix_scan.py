"""One streaming pass over a matrix that gathers everything the matrix rules need.

The matrix is read in blocks of about a million stored values (CSR rows, dense rows or CSC columns), so
memory stays flat whatever the number of cells; only a few bytes per cell (non-zero counts, a 64-bit row
hash) and per feature (column sums) are kept.

Duplicate cells are found by hashing each row's non-zero (column, value) pairs: every pair is mixed into a
64-bit value and the row's hash is their sum, so equal rows always get equal hashes. Rows that share a
hash are then compared value by value (:func:`confirm_duplicates`), so a hash collision can never be
reported as a duplicate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cellportal.schema.h5ad import Matrix

_MIX_1 = np.uint32(0x9E3779B1)
_MIX_2 = np.uint32(0x85EBCA77)
NNZ_BUDGET = 1_000_000


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
    """A 32-bit hash of each (column, value) pair, in as few passes as possible.

    32 bits per pair are enough: rows sum them into 64 bits, and rows sharing a hash are compared exactly
    afterwards, so a collision costs a re-read, never a wrong answer.
    """
    if values.dtype.itemsize == 4:
        bits = values.view(np.uint32)
    else:
        as64 = np.ascontiguousarray(values, dtype=np.float64).view(np.uint64)
        bits = (as64 ^ (as64 >> np.uint64(32))).astype(np.uint32)
    x = columns.view(np.uint32) if columns.dtype == np.int32 else columns.astype(np.uint32)
    x = x * _MIX_1
    x ^= bits
    x *= _MIX_2
    x ^= x >> np.uint32(15)
    return x


def _remember_rows(rows: np.ndarray, already: np.ndarray | None, limit: int = 5) -> np.ndarray:
    rows = np.unique(rows)[:limit]
    if already is None:
        return rows
    return np.unique(np.concatenate([already, rows]))[:limit]


def _invalid_counts(data: np.ndarray) -> np.ndarray | None:
    """Values that are not non-negative integers, or None when there are none (the common case, tested
    with two cheap passes). As in the reference, NaN passes this test (it is reported separately as
    non-finite) and -inf fails it."""
    if data.dtype.kind != "f":
        return data < 0 if data.size and data.min() < 0 else None
    if data.min() >= 0 and (np.trunc(data) == data).all():
        return None
    invalid = ((data < 0) | (np.trunc(data) != data)) & ~np.isnan(data)
    return invalid if invalid.any() else None


def _rows_of(positions: np.ndarray, indptr: np.ndarray, start: int) -> np.ndarray:
    """Row numbers of stored-value positions within a CSR block."""
    return np.searchsorted(indptr, positions, side="right") - 1 + start


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
            for data, rows, columns in matrix.column_chunks(NNZ_BUDGET):
                _consume_csc(result, request, np.asarray(data), np.asarray(rows), columns, n_cols)
        else:
            for start, _stop, data, indices, indptr in matrix.row_chunks(NNZ_BUDGET):
                _consume_csr(result, request, np.asarray(data), np.asarray(indices), indptr, start, n_cols)
    except (OSError, ValueError, IndexError, KeyError, TypeError) as error:
        result.error = f"{matrix.location} could not be read: {error}"
    return result


def _check_columns(indices: np.ndarray, n_cols: int) -> None:
    if indices.size and (int(indices.max()) >= n_cols or int(indices.min()) < 0):
        raise IndexError(f"a column index is outside 0..{n_cols - 1}")


def _consume_csr(result: ScanResult, request: ScanRequest, data: np.ndarray, indices: np.ndarray,
                 indptr: np.ndarray, start: int, n_cols: int) -> None:  # fmt: skip
    result.stored_values += int(data.size)
    if not data.size:
        return
    _check_columns(indices, n_cols)
    is_float = data.dtype.kind == "f"
    block_sums = np.bincount(indices, weights=data, minlength=n_cols) if result.column_sums is not None else None
    if block_sums is not None:
        assert result.column_sums is not None
        result.column_sums += block_sums
    # One reduction tells whether any value is NaN or infinite; the per-value test runs only if so.
    total = block_sums.sum() if block_sums is not None else data.sum(dtype=np.float64)
    if is_float and not np.isfinite(total):
        bad = np.flatnonzero(~np.isfinite(data))
        if bad.size:
            result.non_finite_count += int(bad.size)
            result.non_finite_rows = _remember_rows(_rows_of(bad, indptr, start), result.non_finite_rows)
    if request.filtered_columns is not None:
        result.filtered_stored_values += int(np.count_nonzero(request.filtered_columns[indices]))
    if result.row_nonzero is None and result.row_hashes is None and not request.raw_values:
        return
    nonzero = data != 0
    every_value_nonzero = bool(nonzero.all())
    n_block = len(indptr) - 1
    if every_value_nonzero:
        kept_indptr = indptr
        kept_columns, kept_values = indices, data
    else:
        cumulative = np.concatenate([[0], np.cumsum(nonzero, dtype=np.int64)])
        kept_indptr = cumulative[indptr]
        kept_columns, kept_values = indices[nonzero], data[nonzero]
    row_counts = np.diff(kept_indptr)
    if result.row_nonzero is not None:
        result.row_nonzero[start : start + n_block] += row_counts
    if request.raw_values:
        invalid = _invalid_counts(data)
        if invalid is not None:
            positions = np.flatnonzero(invalid)
            result.invalid_value_count += int(positions.size)
            result.invalid_value_rows = _remember_rows(_rows_of(positions, indptr, start), result.invalid_value_rows)
    if result.row_hashes is not None and kept_values.size:
        mixed = _mix(kept_columns, kept_values)
        filled = row_counts > 0
        sums = np.add.reduceat(mixed, kept_indptr[:-1][filled], dtype=np.uint64) if filled.any() else 0
        block = np.zeros(n_block, dtype=np.uint64)
        block[filled] = sums
        result.row_hashes[start : start + n_block] = block


def _consume_csc(result: ScanResult, request: ScanRequest, data: np.ndarray, rows: np.ndarray,
                 columns: np.ndarray, n_cols: int) -> None:  # fmt: skip
    result.stored_values += int(data.size)
    if not data.size:
        return
    if result.row_nonzero is not None and rows.size and int(rows.max()) >= len(result.row_nonzero):
        raise IndexError("a row index is outside the matrix")
    if data.dtype.kind == "f":
        bad = ~np.isfinite(data)
        if bad.any():
            result.non_finite_count += int(bad.sum())
            result.non_finite_rows = _remember_rows(rows[bad], result.non_finite_rows)
    if result.column_sums is not None:
        result.column_sums += np.bincount(columns, weights=data, minlength=n_cols)
    if request.filtered_columns is not None:
        result.filtered_stored_values += int(np.count_nonzero(request.filtered_columns[columns]))
    nonzero = data != 0
    if result.row_nonzero is not None:
        result.row_nonzero += np.bincount(rows[nonzero], minlength=len(result.row_nonzero))
    if request.raw_values:
        invalid = _invalid_counts(data)
        if invalid is not None:
            result.invalid_value_count += int(invalid.sum())
            result.invalid_value_rows = _remember_rows(rows[invalid], result.invalid_value_rows)


def duplicate_candidates(hashes: np.ndarray, keep: np.ndarray | None = None) -> list[np.ndarray]:
    """Groups of rows (among kept rows) that share a hash, each group sorted."""
    positions = np.arange(len(hashes)) if keep is None else np.flatnonzero(keep)
    values = hashes[positions]
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    if len(sorted_values) < 2:
        return []
    same_as_next = sorted_values[1:] == sorted_values[:-1]
    if not same_as_next.any():
        return []
    in_group = np.zeros(len(sorted_values), dtype=bool)
    in_group[:-1] |= same_as_next
    in_group[1:] |= same_as_next
    members, member_values = positions[order][in_group], sorted_values[in_group]
    boundaries = np.flatnonzero(member_values[1:] != member_values[:-1]) + 1
    return [np.sort(group) for group in np.split(members, boundaries)]


def _row_content(matrix: Matrix, row: int) -> bytes:
    """The exact non-zero content of one row, for comparing candidate duplicates."""
    if matrix.format == "csr":
        lo, hi = (int(v) for v in matrix.node["indptr"][row : row + 2])
        data = np.asarray(matrix.node["data"][lo:hi])
        columns = np.asarray(matrix.node["indices"][lo:hi], dtype=np.int64)
    else:
        values = np.asarray(matrix.node[row]).ravel()
        columns = np.flatnonzero(values)
        data = values[columns]
    keep = data != 0
    order = np.argsort(columns[keep], kind="stable")
    return columns[keep][order].tobytes() + b"|" + np.ascontiguousarray(data[keep][order]).tobytes()


def confirm_duplicates(matrix: Matrix, groups: list[np.ndarray]) -> np.ndarray:
    """Rows whose content another row repeats exactly (all members of each confirmed group)."""
    confirmed: list[int] = []
    for group in groups:
        by_content: dict[bytes, list[int]] = {}
        for row in group.tolist():
            by_content.setdefault(_row_content(matrix, row), []).append(row)
        for rows in by_content.values():
            if len(rows) > 1:
                confirmed.extend(rows)
    return np.array(sorted(confirmed), dtype=np.int64)
