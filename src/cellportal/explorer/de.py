"""Differential expression between two groups of cells, vectorized across genes.

Welch's t-test (what cellxgene does) needs only each group's per-gene count, sum and sum of squares, so
it is computed from moments: for "set vs rest" the rest's moments are the dataset totals minus the set's,
and a set bigger than half the dataset can be summed as its complement. The Wilcoxon rank-sum test needs
the values themselves; it is computed for the genes that reach the result table, from their gene-major
columns, with zeros handled as one tied block (expression matrices are mostly zeros).

p-values are two-sided and adjusted with Benjamini-Hochberg over every gene tested. Expression is taken
as log-normalised (as in CELLxGENE datasets), so the fold change is the difference of mean log expression.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy import special


@dataclass(frozen=True)
class GroupMoments:
    """Per-gene sums over one group of `n` cells."""

    n: int
    sum: np.ndarray  # float64[n_genes]
    sum_squares: np.ndarray  # float64[n_genes]
    nnz: np.ndarray  # int64[n_genes]: cells with a non-zero value

    def __sub__(self, other: GroupMoments) -> GroupMoments:
        """The moments of this group without the cells of `other` (which must be a part of it)."""
        return GroupMoments(
            self.n - other.n, self.sum - other.sum, self.sum_squares - other.sum_squares, self.nnz - other.nnz
        )

    @property
    def mean(self) -> np.ndarray:
        return self.sum / max(self.n, 1)

    @property
    def variance(self) -> np.ndarray:
        """Sample variance (n - 1); cancellation can leave tiny negatives, clipped to 0."""
        if self.n < 2:
            return np.zeros_like(self.sum)
        return np.maximum((self.sum_squares - self.sum * self.mean) / (self.n - 1), 0.0)


@dataclass(frozen=True)
class WelchResult:
    t: np.ndarray
    df: np.ndarray
    p: np.ndarray


def welch_t_test(a: GroupMoments, b: GroupMoments) -> WelchResult:
    """Two-sided Welch's t-test of every gene, as scipy.stats.ttest_ind(equal_var=False).

    Genes constant in both groups get t = 0, p = 1 when the means agree, and t = ±inf, p = 0 when they
    differ (scipy gives NaN there, which a result table cannot sort).
    """
    if a.n < 2 or b.n < 2:
        raise ValueError("each group needs at least two cells")
    va, vb = a.variance / a.n, b.variance / b.n
    se2 = va + vb
    diff = a.mean - b.mean
    with np.errstate(divide="ignore", invalid="ignore"):
        t = diff / np.sqrt(se2)
        df = se2 * se2 / (va * va / (a.n - 1) + vb * vb / (b.n - 1))
        p = 2.0 * special.stdtr(df, -np.abs(t))
    constant = se2 == 0
    t = np.where(constant, np.where(diff == 0, 0.0, np.copysign(np.inf, diff)), t)
    p = np.where(constant, np.where(diff == 0, 1.0, 0.0), p)
    df = np.where(constant, np.nan, df)
    return WelchResult(t, df, np.clip(p, 0.0, 1.0))


def benjamini_hochberg(p: np.ndarray, n_tests: int | None = None) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (as statsmodels' fdr_bh); NaN counts as 1.

    `n_tests` larger than len(p) adjusts a subset as if the other tests had larger p-values, which makes
    the result conservative when they did not.
    """
    p = np.where(np.isnan(p), 1.0, np.asarray(p, dtype=np.float64))
    m = len(p) if n_tests is None else n_tests
    if len(p) == 0:
        return p
    order = np.argsort(p, kind="stable")
    ranked = p[order] * m / np.arange(1, len(p) + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty_like(ranked)
    out[order] = np.minimum(ranked, 1.0)
    return out


def rank_sum_test(nonzero_a: np.ndarray, n_a: int, nonzero_b: np.ndarray, n_b: int) -> tuple[float, float]:
    """Two-sided Wilcoxon rank-sum (Mann-Whitney U) test of one gene; see `rank_sum_tests`."""
    u, p = rank_sum_tests([(nonzero_a, nonzero_b)], n_a, n_b)
    return float(u[0]), float(p[0])


def rank_sum_tests(genes: Iterable[tuple[np.ndarray, np.ndarray]], n_a: int, n_b: int) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided Wilcoxon rank-sum (Mann-Whitney U) tests of several genes, normal approximation with tie and
    continuity corrections, as scipy.stats.mannwhitneyu(method="asymptotic").

    Each gene is given as (group a's non-zero values, group b's non-zero values); the other cells of each
    group are zeros, ranked as one block of ties and never materialised, so a gene costs one sort of its
    non-zero values. Returns (U of group a, p) per gene. `genes` may be a generator, so that only one gene's
    values are held at a time (a hundred genes of a million cells are tens of MB).
    """
    n = n_a + n_b
    per_gene = [_rank_sum_u(np.asarray(a), n_a, np.asarray(b), n_b) for a, b in genes]
    u_a = np.array([u for u, _ in per_gene], dtype=np.float64)
    tie_terms = np.array([t for _, t in per_gene], dtype=np.float64)
    sd = np.sqrt(n_a * n_b / 12.0 * ((n + 1) - tie_terms / (n * (n - 1))))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (np.abs(u_a - n_a * n_b / 2.0) - 0.5) / sd
        p = np.minimum(1.0, 2.0 * special.ndtr(-z))
    return u_a, np.where(sd > 0, p, 1.0)


def _rank_sum_u(nonzero_a: np.ndarray, n_a: int, nonzero_b: np.ndarray, n_b: int) -> tuple[float, float]:
    """U of group a and the tie term sum(t^3 - t) of one gene."""
    zeros_a, zeros_b = n_a - len(nonzero_a), n_b - len(nonzero_b)
    zeros = zeros_a + zeros_b
    # Sorted needles: searchsorted then walks the haystack in order (unsorted ones were 30x slower). Values
    # are compared in their own precision (float32 from the store: half the bytes to sort, same order).
    kind = np.result_type(np.asarray(nonzero_a).dtype, np.asarray(nonzero_b).dtype, np.float32)
    a = np.sort(np.asarray(nonzero_a, dtype=kind))
    everything = np.sort(np.concatenate([a, np.asarray(nonzero_b, dtype=kind)]))
    # Among the non-zero values, a value's average rank is (# smaller) + (# equal + 1) / 2; values above
    # zero then move past the block of zeros, which itself sits after the negative values.
    below = np.searchsorted(everything, a, side="left")
    upto = np.searchsorted(everything, a, side="right")
    ranks = below + (upto - below + 1) / 2.0 + np.where(a > 0, zeros, 0)  # float64
    negatives = int(np.searchsorted(everything, 0.0, side="left"))
    rank_sum_a = float(ranks.sum()) + zeros_a * (negatives + (zeros + 1) / 2.0)
    starts = np.flatnonzero(np.concatenate(([True], everything[1:] != everything[:-1])))
    sizes = np.diff(np.append(starts, len(everything))).astype(np.float64)
    tie_term = float((sizes**3 - sizes).sum()) + float(zeros) ** 3 - zeros
    return rank_sum_a - n_a * (n_a + 1) / 2.0, tie_term
