"""Embeddings synthesized from population centroids: fast at any size, deterministic, clearly clustered.

Running PCA and UMAP on millions of synthetic cells would cost minutes and teach nothing, so each
population gets a centroid (in PCA space with a decaying variance per component, and on the UMAP plane
at the place its preset gives it), and each cell lands near its centroid, nudged by its condition.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cellportal.demo.presets import Preset


@dataclass(frozen=True)
class EmbeddingModel:
    pca_centroids: np.ndarray  # (n_populations, n_pcs)
    pca_spread: np.ndarray  # (n_pcs,)
    pca_condition_shift: np.ndarray  # (n_conditions, n_pcs)
    umap_centers: np.ndarray  # (n_populations, 2)
    umap_shapes: np.ndarray  # (n_populations, 2, 2): each cluster's own elongation and tilt
    umap_condition_shift: np.ndarray  # (n_conditions, 2)


def build_embedding_model(preset: Preset, n_pcs: int, rng: np.random.Generator) -> EmbeddingModel:
    scale = 12.0 * (np.arange(1, n_pcs + 1) ** -0.7)
    centroids = rng.normal(0.0, 1.0, (len(preset.populations), n_pcs)) * scale
    condition_shift = rng.normal(0.0, 1.0, (len(preset.conditions), n_pcs)) * scale * 0.15
    condition_shift[0] = 0.0

    shapes = []
    for population in preset.populations:
        size = 0.55 + 2.2 * np.sqrt(population.share)
        angle = rng.uniform(0, np.pi)
        rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        shapes.append(rotation @ np.diag([size * rng.uniform(1.0, 1.6), size * rng.uniform(0.5, 0.9)]))
    angles = np.linspace(0, 2 * np.pi, len(preset.conditions), endpoint=False)
    umap_condition_shift = 0.9 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    umap_condition_shift[0] = 0.0
    return EmbeddingModel(
        pca_centroids=centroids,
        pca_spread=scale * 0.3,
        pca_condition_shift=condition_shift,
        umap_centers=np.array([p.umap_center for p in preset.populations], dtype=float),
        umap_shapes=np.array(shapes),
        umap_condition_shift=umap_condition_shift,
    )


def pca_rows(
    model: EmbeddingModel, population: np.ndarray, condition: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    noise = rng.standard_normal((len(population), model.pca_spread.size)) * model.pca_spread
    rows = model.pca_centroids[population] + model.pca_condition_shift[condition] + noise
    return rows.astype(np.float32)


def umap_rows(
    model: EmbeddingModel, population: np.ndarray, condition: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    # Student-t noise (df=5): compact cores with a few stragglers, as a real UMAP shows.
    noise = rng.standard_t(5, (len(population), 2)) * 0.45
    spread = np.einsum("nij,nj->ni", model.umap_shapes[population], noise)
    rows = model.umap_centers[population] + model.umap_condition_shift[condition] + spread
    return rows.astype(np.float32)
