"""The DE statistics against scipy.stats on small data, including sparse columns and ties."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse, stats

from cellportal.explorer.de import GroupMoments, benjamini_hochberg, rank_sum_test, rank_sum_tests, welch_t_test


def moments(matrix: np.ndarray) -> GroupMoments:
    return GroupMoments(
        n=matrix.shape[0],
        sum=matrix.astype(np.float64).sum(axis=0),
        sum_squares=(matrix.astype(np.float64) ** 2).sum(axis=0),
        nnz=np.count_nonzero(matrix, axis=0).astype(np.int64),
    )


def sparse_log_expression(rng: np.random.Generator, n_cells: int, n_genes: int, density: float) -> np.ndarray:
    counts = sparse.random(
        n_cells, n_genes, density=density, random_state=rng, data_rvs=lambda k: rng.poisson(3, k) + 1
    )
    return np.log1p(counts.toarray()).astype(np.float32)


def test_welch_matches_scipy_on_sparse_data() -> None:
    rng = np.random.default_rng(3)
    a = sparse_log_expression(rng, 300, 40, 0.2)
    b = sparse_log_expression(rng, 120, 40, 0.35)
    ours = welch_t_test(moments(a), moments(b))
    theirs = stats.ttest_ind(a.astype(np.float64), b.astype(np.float64), equal_var=False)
    tested = np.isfinite(theirs.statistic)
    assert tested.sum() > 30
    np.testing.assert_allclose(ours.t[tested], theirs.statistic[tested], rtol=1e-6)
    np.testing.assert_allclose(ours.p[tested], theirs.pvalue[tested], rtol=1e-6, atol=1e-300)


def test_welch_rest_by_subtraction_equals_direct() -> None:
    rng = np.random.default_rng(4)
    x = sparse_log_expression(rng, 500, 25, 0.3)
    chosen = np.zeros(500, dtype=bool)
    chosen[rng.choice(500, 80, replace=False)] = True
    rest = moments(x) - moments(x[chosen])
    direct = moments(x[~chosen])
    np.testing.assert_allclose(rest.sum, direct.sum, rtol=1e-9)
    np.testing.assert_allclose(rest.variance, direct.variance, rtol=1e-6)
    assert rest.n == direct.n
    np.testing.assert_array_equal(rest.nnz, direct.nnz)


def test_welch_constant_genes_do_not_give_nan() -> None:
    a = np.zeros((5, 2), dtype=np.float32)
    b = np.zeros((6, 2), dtype=np.float32)
    b[:, 1] = 2.0
    result = welch_t_test(moments(a), moments(b))
    assert result.t[0] == 0 and result.p[0] == 1
    assert result.t[1] == -np.inf and result.p[1] == 0


def test_benjamini_hochberg_matches_the_definition() -> None:
    rng = np.random.default_rng(5)
    p = rng.uniform(0, 0.2, 50) ** 2
    ours = benjamini_hochberg(p)
    # Definition: adj(i) = min over j with p_j >= p_i of p_j * m / rank_j, capped at 1.
    m = len(p)
    ranks = stats.rankdata(p, method="ordinal")
    expected = np.array([min(1.0, min(p[j] * m / ranks[j] for j in range(m) if p[j] >= p[i])) for i in range(m)])
    np.testing.assert_allclose(ours, expected, rtol=1e-12)
    if hasattr(stats, "false_discovery_control"):
        np.testing.assert_allclose(ours, stats.false_discovery_control(p, method="bh"), rtol=1e-12)


def test_benjamini_hochberg_treats_nan_as_one() -> None:
    assert benjamini_hochberg(np.array([np.nan, 0.01]))[0] == 1.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rank_sum_matches_mannwhitneyu_with_zero_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = np.where(rng.random(200) < 0.6, 0.0, np.round(rng.normal(1.5, 1, 200), 1))  # ties, negatives, zeros
    b = np.where(rng.random(90) < 0.4, 0.0, np.round(rng.normal(1.0, 1, 90), 1))
    u, p = rank_sum_test(a[a != 0], len(a), b[b != 0], len(b))
    theirs = stats.mannwhitneyu(a, b, alternative="two-sided", method="asymptotic", use_continuity=True)
    assert u == pytest.approx(theirs.statistic)
    assert p == pytest.approx(theirs.pvalue, rel=1e-9)


def test_rank_sum_all_zero_gene_is_not_significant() -> None:
    u, p = rank_sum_test(np.array([]), 10, np.array([]), 12)
    assert p == 1.0
    assert u == pytest.approx(60.0)


def test_rank_sum_tests_of_many_genes_match_one_by_one() -> None:
    rng = np.random.default_rng(9)
    n_a, n_b = 150, 70
    genes = []
    for _ in range(12):
        a = np.round(rng.exponential(1.0, rng.integers(0, n_a)), 1) + 0.1
        b = np.round(rng.exponential(1.3, rng.integers(0, n_b)), 1) + 0.1
        genes.append((a, b))
    u, p = rank_sum_tests(genes, n_a, n_b)
    for k, (a, b) in enumerate(genes):
        dense_a = np.concatenate([a, np.zeros(n_a - len(a))])
        dense_b = np.concatenate([b, np.zeros(n_b - len(b))])
        theirs = stats.mannwhitneyu(dense_a, dense_b, alternative="two-sided", method="asymptotic")
        assert u[k] == pytest.approx(theirs.statistic)
        assert p[k] == pytest.approx(theirs.pvalue, rel=1e-9)
