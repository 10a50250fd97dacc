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
    """Two-sided Wilcoxon rank-sum (Mann-Whitney U) test of one gene, normal approximation with tie and
    continuity corrections, as scipy.stats.mannwhitneyu(method="asymptotic").

    `nonzero_a` holds group a's non-zero values (its other n_a - len(nonzero_a) cells are 0); the zeros are
    one block of ties and are never materialised. Returns (U of group a, p).
    """
    zeros_a, zeros_b = n_a - len(nonzero_a), n_b - len(nonzero_b)
    n = n_a + n_b
    zeros = zeros_a + zeros_b
    values = np.concatenate([nonzero_a, nonzero_b]).astype(np.float64, copy=False)
    in_a = np.zeros(len(values), dtype=bool)
    in_a[: len(nonzero_a)] = True
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    # Average ranks among the non-zero values, then shift past the zero block those above zero.
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    tie_sizes = np.diff(np.r_[starts, len(sorted_values)])
    average = starts + (tie_sizes + 1) / 2.0
    ranks_sorted = np.repeat(average, tie_sizes)
    ranks_sorted += np.where(sorted_values > 0, zeros, 0)
    negatives = int(np.count_nonzero(sorted_values < 0))
    zero_rank = negatives + (zeros + 1) / 2.0
    rank_sum_a = float(ranks_sorted[in_a[order]].sum()) + zeros_a * zero_rank
    u_a = rank_sum_a - n_a * (n_a + 1) / 2.0
    ties = np.r_[tie_sizes, zeros].astype(np.float64)
    tie_term = float((ties**3 - ties).sum())
    sd = np.sqrt(n_a * n_b / 12.0 * ((n + 1) - tie_term / (n * (n - 1))))
    if sd == 0:
        return u_a, 1.0
    z = (abs(u_a - n_a * n_b / 2.0) - 0.5) / sd
    return u_a, float(min(1.0, 2.0 * special.ndtr(-z)))
