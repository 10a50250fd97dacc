"""Differential expression of two cell sets (or one set and the rest) over an open explorer store.

Welch's t-test runs on every gene from per-gene moments (see `de.py`). The result table holds the `top`
genes most up and the `top` most down by t; for those genes the Wilcoxon rank-sum test is computed too,
from the rows of small selections (read once, for the sums as well) or else from the genes' gene-major
columns. Its Benjamini-Hochberg adjustment counts every gene of the dataset as
tested and ranks the table's genes among themselves, which can only overstate the adjusted p-values
(conservative), never understate them.
"""

from __future__ import annotations

import ctypes
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from cellportal.explorer.de import benjamini_hochberg, rank_sum_tests, welch_t_test
from cellportal.explorer.reader import ExplorerData

MAX_TOP = 500
# A selection whose rows hold at most this many non-zeros is read into memory once (8 bytes each).
ROWS_IN_MEMORY = 16_000_000


class SelectionError(ValueError):
    """The sets sent cannot be compared (wrong size, too few cells); the message says which."""


@dataclass(frozen=True)
class Comparison:
    set1: np.ndarray  # bool[n_cells]
    set2: np.ndarray  # bool[n_cells]
    mode: str  # "sets" | "rest"


def comparison_from_bitsets(n_cells: int, bits1: bytes, bits2: bytes | None) -> Comparison:
    """Two little-endian bitsets (bit i of byte i // 8 is cell i), or one and None for "set vs rest"."""
    set1 = _unpack(bits1, n_cells, "set 1")
    if bits2 is None:
        set2, mode = ~set1, "rest"
    else:
        set2, mode = _unpack(bits2, n_cells, "set 2"), "sets"
    for label, mask in (("set 1", set1), ("set 2" if mode == "sets" else "the rest", set2)):
        if np.count_nonzero(mask) < 2:
            raise SelectionError(f"{label} needs at least two cells")
    return Comparison(set1, set2, mode)


def _unpack(bits: bytes, n_cells: int, label: str) -> np.ndarray:
    expected = (n_cells + 7) // 8
    if len(bits) != expected:
        raise SelectionError(f"{label} has {len(bits)} bytes; a dataset of {n_cells} cells needs {expected}")
    return np.unpackbits(np.frombuffer(bits, dtype=np.uint8), count=n_cells, bitorder="little").astype(bool)


def differential_expression(data: ExplorerData, comparison: Comparison, top: int = 50) -> dict[str, Any]:
    started = time.perf_counter()
    top = max(1, min(top, MAX_TOP))
    set1, set2 = comparison.set1, comparison.set2
    complementary = comparison.mode == "rest" or (not np.any(set1 & set2) and bool(np.all(set1 | set2)))
    rows1 = _small_selection_rows(data, set1)
    moments1 = data.moments_of_rows(rows1, int(set1.sum())) if rows1 is not None else data.moments(set1)
    rows2 = None if complementary else _small_selection_rows(data, set2)
    if complementary:
        moments2 = data.totals - moments1
    elif rows2 is not None:
        moments2 = data.moments_of_rows(rows2, int(set2.sum()))
    else:
        moments2 = data.moments(set2)
    welch = welch_t_test(moments1, moments2)
    p_t_adj = benjamini_hochberg(welch.p)
    logfc = moments1.mean - moments2.mean

    order = np.argsort(-welch.t, kind="stable")
    up = [int(g) for g in order[:top] if welch.t[g] > 0]
    down = [int(g) for g in order[::-1][:top] if welch.t[g] < 0]
    chosen = up + down

    n1, n2 = moments1.n, moments2.n
    table_values: Iterable[tuple[np.ndarray, np.ndarray]]
    if rows1 is not None and rows2 is not None:
        values1 = data.values_of_genes(rows1, chosen, data.n_genes)
        values2 = data.values_of_genes(rows2, chosen, data.n_genes)
        table_values = zip(values1, values2, strict=True)
    else:
        table_values = _column_values(data, comparison, chosen)
    _, wilcoxon_p = rank_sum_tests(table_values, n1, n2)
    wilcoxon_adj = benjamini_hochberg(wilcoxon_p, n_tests=data.n_genes)

    genes = []
    for k, gene in enumerate(chosen):
        genes.append(
            {
                "index": gene,
                "symbol": data.gene_symbols[gene],
                "id": data.gene_ids[gene],
                "logfc": _number(logfc[gene]),
                "t": _number(welch.t[gene]),
                "p_t": _number(welch.p[gene]),
                "p_t_adj": _number(p_t_adj[gene]),
                "p_wilcoxon": _number(wilcoxon_p[k]),
                "p_wilcoxon_adj": _number(wilcoxon_adj[k]),
                "mean1": _number(moments1.mean[gene]),
                "mean2": _number(moments2.mean[gene]),
                "pct1": _number(moments1.nnz[gene] / max(moments1.n, 1)),
                "pct2": _number(moments2.nnz[gene] / max(moments2.n, 1)),
            }
        )
    _give_back_freed_memory()
    return {
        "mode": comparison.mode,
        "n1": moments1.n,
        "n2": moments2.n,
        "n_genes": data.n_genes,
        "top": top,
        "genes": genes,
        "elapsed_ms": (time.perf_counter() - started) * 1000,
    }


def _small_selection_rows(data: ExplorerData, mask: np.ndarray) -> tuple[np.ndarray, ...] | None:
    """A small selection's rows, read once for both its sums and the table's Wilcoxon values.

    Only from uncompressed rows (scattered reads of compressed chunks would decompress most of them)."""
    if not data.raw or int(data.row_nnz[mask].sum()) > ROWS_IN_MEMORY:
        return None
    return data.selected_rows(mask)


def _column_values(
    data: ExplorerData, comparison: Comparison, genes: list[int]
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Each gene's non-zero values in set 1 and set 2, from its gene-major column, one gene at a time."""
    for gene in genes:
        cells, values = data.genes.slice(gene)
        yield values[comparison.set1[cells]], values[comparison.set2[cells]]


def _give_back_freed_memory() -> None:
    """A large comparison frees hundreds of MB of temporaries; glibc keeps freed heap memory in the process
    unless asked to return it, which would leave the server's resident size at its peak."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to do
        return
    libc.malloc_trim(0)


def _number(value: float) -> float | None:
    """JSON has no infinities: ±inf (a gene constant in both sets) is sent as ±1e308, NaN as null."""
    value = float(value)
    if np.isnan(value):
        return None
    if np.isinf(value):
        return float(np.copysign(1e308, value))
    return value
