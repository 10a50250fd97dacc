"""Realistic, schema-valid (CELLxGENE 7.1.0) ``.h5ad`` datasets of any size, for the demo, tests and benches.

    generate_dataset("pbmc.h5ad", n_cells=20_000, preset="human_blood", seed=1)

writes named cell populations with their marker genes (real Ensembl ids), donors and conditions with
real ontology terms, raw integer counts in ``raw.X``, log1p(CP10k) in ``X`` with the same sparsity, and
``X_pca``/``X_umap`` embeddings in which the populations form clusters. Rows are produced and written in
blocks, so memory stays bounded at millions of cells. Everything is a function of the arguments: the same
seed gives the same file content.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cellportal.demo import h5ad_stream
from cellportal.demo.embedding import build_embedding_model, pca_rows, umap_rows
from cellportal.demo.expression import (
    CountRows,
    ExpressionModel,
    build_model,
    count_keys,
    library_sizes,
    normalize,
    row_fingerprints,
    sample_keys,
)
from cellportal.demo.genes import GenePanel, build_panel
from cellportal.demo.presets import Preset, get_preset

# The bincount of one block spans rows * genes slots; this bounds it (~64 MB of int64).
_BLOCK_SLOTS = 8_000_000
_MAX_BLOCK_ROWS = 8192

# A qualitative palette (matplotlib's tab20, reordered so neighbours contrast).
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
    "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7",
    "#dbdb8d", "#9edae5",
)  # fmt: skip


@dataclass(frozen=True)
class CellPlan:
    """Who each cell is, decided up front (a few bytes per cell): population, sample and its parts."""

    population: np.ndarray  # int16, index into preset.populations
    sample: np.ndarray  # int16, index into samples
    donor_of_sample: np.ndarray  # donor index of each sample
    condition_of_sample: np.ndarray  # condition index of each sample

    @property
    def donor(self) -> np.ndarray:
        return self.donor_of_sample[self.sample]

    @property
    def condition(self) -> np.ndarray:
        return self.condition_of_sample[self.sample]


def generate_dataset(
    path: str | os.PathLike[str],
    *,
    n_cells: int,
    n_genes: int = 2000,
    preset: str | Preset = "human_blood",
    seed: int = 0,
    density: float = 0.075,
    include_raw: bool = True,
    dense_x: bool = False,
    n_pcs: int = 50,
    n_donors: int | None = None,
    title: str | None = None,
    compression: str | None = None,
) -> Path:
    """Write a valid dataset to `path` (atomically) and return it.

    density: target fraction of non-zero entries (the usual 7–8 % by default).
    include_raw: counts in ``raw.X`` and normalized values in ``X``; when False, ``X`` holds the counts.
    dense_x: store ``X`` as a dense array (the schema then requires it to be at most half zeros, so
        raise `density` too).
    n_donors: use only the first donors of the preset.
    """
    if n_cells < 1:
        raise ValueError("n_cells must be at least 1")
    chosen = get_preset(preset) if isinstance(preset, str) else preset
    if n_donors is not None:
        chosen = _with_donors(chosen, n_donors)
    rng = np.random.default_rng([seed, 0])
    panel = build_panel(chosen.organism_ontology_term_id, chosen.marker_symbols(), n_genes, rng)
    model = build_model(chosen, panel, density, rng)
    embedding = build_embedding_model(chosen, n_pcs, rng)
    plan = plan_cells(chosen, n_cells, rng)

    target = Path(path)
    partial = target.with_name(target.name + ".tmp")
    block_rows = max(1, min(_MAX_BLOCK_ROWS, _BLOCK_SLOTS // len(panel)))
    totals = np.zeros(n_cells, dtype=np.float32)
    detected = np.zeros(n_cells, dtype=np.int32)
    seen: set[int] = set()
    with h5ad_stream.start_file(str(partial)) as handle:
        shape = (n_cells, len(panel))
        raw = h5ad_stream.raw_group(handle) if include_raw else None
        counts_out = h5ad_stream.CsrAppender(raw if raw is not None else handle, "X", shape, compression)
        if raw is None:
            normalized_out = None
        elif dense_x:
            normalized_out = h5ad_stream.DenseAppender(handle, "X", shape, compression)
        else:
            normalized_out = h5ad_stream.CsrAppender(handle, "X", shape, compression)
        obsm = h5ad_stream.dict_group(handle, "obsm")
        pca_out = h5ad_stream.DenseAppender(obsm, "X_pca", (n_cells, n_pcs), compression) if n_pcs else None
        umap_out = h5ad_stream.DenseAppender(obsm, "X_umap", (n_cells, 2), compression)

        for block, start in enumerate(range(0, n_cells, block_rows)):
            stop = min(n_cells, start + block_rows)
            block_rng = np.random.default_rng([seed, 1, block])
            population = plan.population[start:stop]
            condition = plan.condition[start:stop]
            counts = _unique_count_rows(model, model.profile_of(population, condition), seen, block_rng)
            counts_out.append(counts.indptr, counts.indices, counts.data)
            if normalized_out is not None:
                values = normalize(counts)
                if isinstance(normalized_out, h5ad_stream.DenseAppender):
                    normalized_out.append(_densify(counts, values, len(panel)))
                else:
                    normalized_out.append(counts.indptr, counts.indices, values)
            totals[start:stop] = np.add.reduceat(counts.data, counts.indptr[:-1])
            detected[start:stop] = np.diff(counts.indptr)
            if pca_out is not None:
                pca_out.append(pca_rows(embedding, population, condition, block_rng))
            umap_out.append(umap_rows(embedding, population, condition, block_rng))

        obs, colors = build_obs(chosen, plan, totals, detected, seed)
        var = pd.DataFrame({"feature_is_filtered": np.zeros(len(panel), dtype=bool)}, index=list(panel.ids))
        h5ad_stream.write_elements(handle, {"obs": obs, "var": var})
        if raw is not None:
            h5ad_stream.write_elements(raw, {"var": pd.DataFrame(index=list(panel.ids)), "varm": {}})
        uns = {
            "title": title or chosen.title,
            "organism_ontology_term_id": chosen.organism_ontology_term_id,
            "default_embedding": "X_umap",
            "batch_condition": np.array(["donor_id", "condition"], dtype=object),
            "author_cell_type_colors": np.array(colors, dtype=object),
        }
        h5ad_stream.write_elements(handle, {"uns": uns, "layers": {}, "obsp": {}, "varm": {}, "varp": {}})
    os.replace(partial, target)
    return target


def plan_cells(preset: Preset, n_cells: int, rng: np.random.Generator) -> CellPlan:
    """Split cells into samples (donor x condition, contiguous as in a real study) and populations."""
    samples = [(d, c) for d in range(len(preset.donors)) for c in range(len(preset.conditions))]
    per_sample = np.full(len(samples), n_cells // len(samples))
    per_sample[: n_cells % len(samples)] += 1
    shares = np.array([p.share for p in preset.populations])
    shares /= shares.sum()
    population_parts = []
    for size in per_sample:
        # Each sample has its own composition around the study-wide shares, as real donors do.
        composition = rng.dirichlet(shares * 60.0)
        population_parts.append(rng.choice(len(shares), size=int(size), p=composition).astype(np.int16))
    return CellPlan(
        population=np.concatenate(population_parts),
        sample=np.repeat(np.arange(len(samples), dtype=np.int16), per_sample),
        donor_of_sample=np.array([d for d, _ in samples], dtype=np.int16),
        condition_of_sample=np.array([c for _, c in samples], dtype=np.int16),
    )


def _unique_count_rows(
    model: ExpressionModel, profiles: np.ndarray, seen: set[int], rng: np.random.Generator
) -> CountRows:
    """Sample a block of count rows, then add molecules to any row equal to an earlier one.

    The schema forbids duplicated cells (identical raw rows). With thousands of genes a repeat is
    vanishingly rare, but small panels and shallow cells make it likely, so it is checked and fixed.
    """
    n_rows, n_genes = len(profiles), model.cumulative.shape[1]
    keys = sample_keys(model, profiles, library_sizes(model, profiles, rng), rng)
    while True:
        block = count_keys(keys, n_rows, n_genes)
        fingerprints = row_fingerprints(block)
        _, first = np.unique(fingerprints, return_index=True)
        repeated = np.ones(n_rows, dtype=bool)
        repeated[first] = False
        repeated |= np.fromiter((int(f) in seen for f in fingerprints), dtype=bool, count=n_rows)
        if not repeated.any():
            seen.update(fingerprints.tolist())
            return block
        rows = np.flatnonzero(repeated).astype(np.int64)
        keys = np.concatenate([keys, rows * n_genes + rng.integers(0, n_genes, rows.size)])


def _densify(block: CountRows, values: np.ndarray, n_genes: int) -> np.ndarray:
    dense = np.zeros((len(block.indptr) - 1, n_genes), dtype=np.float32)
    rows = np.repeat(np.arange(len(block.indptr) - 1), np.diff(block.indptr))
    dense[rows, block.indices] = values
    return dense


def build_obs(
    preset: Preset, plan: CellPlan, totals: np.ndarray, detected: np.ndarray, seed: int
) -> tuple[pd.DataFrame, list[str]]:
    """The obs table (categoricals with only the values in use) and the author_cell_type colours."""
    donors, populations = preset.donors, preset.populations
    donor, condition = plan.donor, plan.condition

    def by(codes: np.ndarray, values: list[str]) -> pd.Categorical:
        return pd.Categorical.from_codes(codes, categories=pd.Index(values).unique()).remove_unused_categories()

    def per(items: list[str], codes: np.ndarray) -> pd.Categorical:
        unique = list(dict.fromkeys(items))
        return by(np.array([unique.index(item) for item in items], dtype=np.int16)[codes], unique)

    assays = preset.assay_ontology_term_ids
    obs = pd.DataFrame(
        {
            "assay_ontology_term_id": per([assays[d % len(assays)] for d in range(len(donors))], donor),
            "cell_type_ontology_term_id": per([p.cell_type_ontology_term_id for p in populations], plan.population),
            "development_stage_ontology_term_id": per([d.development_stage_ontology_term_id for d in donors], donor),
            "disease_ontology_term_id": per([d.disease_ontology_term_id for d in donors], donor),
            "donor_id": per([d.donor_id for d in donors], donor),
            "is_primary_data": np.ones(len(donor), dtype=bool),
            "self_reported_ethnicity_ontology_term_id": per(
                [d.self_reported_ethnicity_ontology_term_id for d in donors], donor
            ),
            "sex_ontology_term_id": per([d.sex_ontology_term_id for d in donors], donor),
            "suspension_type": per([preset.suspension_type], np.zeros(len(donor), dtype=np.int16)),
            "tissue_type": per([preset.tissue_type], np.zeros(len(donor), dtype=np.int16)),
            "tissue_ontology_term_id": per([preset.tissue_ontology_term_id], np.zeros(len(donor), dtype=np.int16)),
            "author_cell_type": per([p.name for p in populations], plan.population),
            "condition": per([c.name for c in preset.conditions], condition),
            "sample_id": per(
                [
                    f"{donors[d].donor_id}_{preset.conditions[c].name}"
                    for d, c in zip(plan.donor_of_sample, plan.condition_of_sample, strict=True)
                ],
                plan.sample,
            ),
            "n_counts": totals,
            "n_genes": detected,
        },
        index=cell_barcodes(plan.sample, seed),
    )
    colors = [PALETTE[i % len(PALETTE)] for i, _ in enumerate(obs["author_cell_type"].cat.categories)]
    return obs, colors


_BASES = np.array(list("ACGT"))


def cell_barcodes(sample: np.ndarray, seed: int) -> pd.Index:
    """10x-style barcodes ``ACGT…-<sample>``, unique: each step is a bijection of the 16-base (32-bit) space."""
    n = len(sample)
    mask = np.uint64(4**16 - 1)
    codes = (np.arange(n, dtype=np.uint64) + np.uint64(seed)) & mask
    for multiplier, shift in ((0x9E3779B1, 15), (0x85EBCA6B, 13), (0xC2B2AE35, 16)):
        codes = (codes * np.uint64(multiplier)) & mask  # odd multiplier: invertible modulo 2**32
        codes ^= codes >> np.uint64(shift)  # xor with a right shift: invertible too
    digits = (codes[:, None] >> (np.arange(15, -1, -1, dtype=np.uint64) * np.uint64(2))) & np.uint64(3)
    letters = _BASES[digits.astype(np.int64)].view("<U16").ravel() if n else np.array([], dtype="<U16")
    suffix = (sample.astype(np.int64) + 1).astype(str)
    return pd.Index(np.char.add(np.char.add(letters, "-"), suffix), name=None)


def _with_donors(preset: Preset, n_donors: int) -> Preset:
    from dataclasses import replace

    if not 1 <= n_donors <= len(preset.donors):
        raise ValueError(f"preset {preset.name!r} has {len(preset.donors)} donors")
    return replace(preset, donors=preset.donors[:n_donors])


def panel_of(path: str | os.PathLike[str]) -> GenePanel:
    """The gene ids and symbols of a generated file (symbols looked up in the reference table)."""
    import h5py

    from cellportal.schema.reference_files import gene_table

    with h5py.File(path, "r") as handle:
        ids = [value.decode() for value in handle["var"]["_index"][:]]
        organism = handle["uns"]["organism_ontology_term_id"][()].decode()
    table = gene_table(organism)
    return GenePanel(tuple(ids), tuple(table.gene_name[table.row(gene)] for gene in ids))
