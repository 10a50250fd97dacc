"""Synthetic UMI counts: each cell's molecules are drawn from its population's expression profile.

A profile is a probability per gene (a softmax of log-expression). Markers are high in their population
and low elsewhere, housekeeping genes are high everywhere, an induced gene is high under its condition,
and each population has its own random shifts on a few genes (so populations differ beyond markers).
A cell with ``T`` molecules gets ``T`` draws from its profile, counted per gene: sampling scales with the
number of molecules, not with the number of genes, and yields sparse rows directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cellportal.demo.genes import GenePanel
from cellportal.demo.presets import Preset

# Lognormal spread of library sizes around a population's mean (natural log scale).
LIBRARY_SIZE_SIGMA = 0.35
_QUADRATURE = np.exp(LIBRARY_SIZE_SIGMA * np.sqrt(2.0) * np.polynomial.hermite.hermgauss(12)[0])
_QUADRATURE_WEIGHTS = np.polynomial.hermite.hermgauss(12)[1] / np.sqrt(np.pi)


@dataclass(frozen=True)
class ExpressionModel:
    """Cumulative gene probabilities and mean molecule counts per (population, condition) pair."""

    cumulative: np.ndarray  # (n_populations * n_conditions, n_genes), float64, each row ends at 1
    mean_molecules: np.ndarray  # (n_populations * n_conditions,), float64
    n_conditions: int

    def profile_of(self, population: np.ndarray, condition: np.ndarray) -> np.ndarray:
        return population.astype(np.int64) * self.n_conditions + condition


def build_model(preset: Preset, panel: GenePanel, density: float, rng: np.random.Generator) -> ExpressionModel:
    """Expression profiles whose expected fraction of detected genes per cell is about `density`."""
    n_genes = len(panel)
    column = panel.index_of()
    base = rng.normal(-1.0, 1.4, n_genes)
    named = [column[s] for s in preset.marker_symbols() if s in column]
    base[named] = -3.0  # named genes are specific: low unless their population or condition says so
    for symbol in preset.housekeeping:
        if symbol in column:
            base[column[symbol]] = 4.0

    logits = []
    for population in preset.populations:
        specific = base.copy()
        shifted = rng.random(n_genes) < 0.08
        specific[shifted] += rng.normal(0.0, 1.2, shifted.sum())
        for symbol in population.markers:
            if symbol in column:
                specific[column[symbol]] = 3.5 + rng.normal(0.0, 0.3)
        for condition in preset.conditions:
            with_condition = specific.copy()
            for symbol in condition.induced:
                if symbol in column:
                    with_condition[column[symbol]] = 3.0
            logits.append(with_condition)
    logit = np.array(logits)
    probabilities = np.exp(logit - logit.max(axis=1, keepdims=True))
    probabilities /= probabilities.sum(axis=1, keepdims=True)

    target = min(density, 0.97) * n_genes
    mean_molecules = np.array([_molecules_for(p, target) for p in probabilities])
    cumulative = np.cumsum(probabilities, axis=1)
    cumulative[:, -1] = 1.0
    return ExpressionModel(cumulative, mean_molecules, len(preset.conditions))


def _expected_detected(probabilities: np.ndarray, molecules: float) -> float:
    """Expected number of genes with at least one molecule, averaged over the library-size spread."""
    rates = np.outer(_QUADRATURE * molecules, probabilities)
    return float(_QUADRATURE_WEIGHTS @ (1.0 - np.exp(-rates)).sum(axis=1))


def _molecules_for(probabilities: np.ndarray, target_detected: float) -> float:
    """Mean molecules per cell so that about `target_detected` genes are detected (bisection on log)."""
    low, high = 0.0, 25.0  # log molecule counts: 1 to ~7e10
    for _ in range(60):
        middle = (low + high) / 2
        if _expected_detected(probabilities, np.exp(middle)) < target_detected:
            low = middle
        else:
            high = middle
    return float(np.exp(high))


def library_sizes(model: ExpressionModel, profiles: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Molecules per cell: lognormal around its profile's mean, at least 1 (no empty row)."""
    spread = rng.lognormal(0.0, LIBRARY_SIZE_SIGMA, len(profiles))
    return np.maximum(1, np.rint(model.mean_molecules[profiles] * spread)).astype(np.int64)


def sample_keys(
    model: ExpressionModel, profiles: np.ndarray, sizes: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """One ``row * n_genes + gene`` key per molecule, for the rows of one chunk."""
    n_genes = model.cumulative.shape[1]
    keys = []
    for profile in np.unique(profiles):
        rows = np.flatnonzero(profiles == profile)
        draws = sizes[rows]
        genes = np.searchsorted(model.cumulative[profile], rng.random(int(draws.sum())), side="right")
        np.minimum(genes, n_genes - 1, out=genes)
        keys.append(np.repeat(rows.astype(np.int64), draws) * n_genes + genes)
    return np.concatenate(keys) if keys else np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class CountRows:
    """A block of CSR rows of integer counts, stored as float32 (the schema's raw-count dtype)."""

    indptr: np.ndarray  # int64, local to the block, starts at 0
    indices: np.ndarray  # int32, sorted within each row
    data: np.ndarray  # float32, integers >= 1


def count_keys(keys: np.ndarray, n_rows: int, n_genes: int) -> CountRows:
    """Collapse molecule keys into per-(row, gene) counts."""
    counts = np.bincount(keys, minlength=n_rows * n_genes)
    nonzero = np.flatnonzero(counts)
    rows = nonzero // n_genes
    indptr = np.searchsorted(rows, np.arange(n_rows + 1)).astype(np.int64)
    return CountRows(indptr, (nonzero % n_genes).astype(np.int32), counts[nonzero].astype(np.float32))


def row_fingerprints(block: CountRows) -> np.ndarray:
    """A 64-bit hash of each row's (gene, count) pairs: equal rows have equal fingerprints."""
    with np.errstate(over="ignore"):
        mixed = block.indices.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        mixed ^= block.data.astype(np.uint64) * np.uint64(0xBF58476D1CE4E5B9)
        mixed ^= mixed >> np.uint64(31)
        mixed *= np.uint64(0x94D049BB133111EB)
        mixed ^= mixed >> np.uint64(29)
        # Rows are never empty, so reduceat's start offsets are all distinct and in range.
        return np.add.reduceat(mixed, block.indptr[:-1])


def normalize(block: CountRows) -> np.ndarray:
    """log1p of counts per 10,000 molecules of the cell: the usual normalized matrix, same sparsity."""
    totals = np.add.reduceat(block.data.astype(np.float64), block.indptr[:-1])
    per_entry = np.repeat(totals, np.diff(block.indptr))
    return np.log1p(block.data / per_entry * 1e4).astype(np.float32)
