"""Realistic dataset metadata for benchmarks and tests of browse: real ontology terms in plausible mixes.

Deterministic for a seed. Terms are real (UBERON, CL, EFO, MONDO, ...) so the roll-up runs over the real
ontologies: "brain" (UBERON:0000955) has several descendants here (cerebral cortex, hippocampal formation,
cerebellum, ...), "T cell" (CL:0000084) has CD4 and CD8 T cells, and so on.
"""

from __future__ import annotations

import random
from typing import Any

# (weight, label, term id)
ORGANISMS = [
    (70, "Homo sapiens", "NCBITaxon:9606"),
    (25, "Mus musculus", "NCBITaxon:10090"),
    (3, "Danio rerio", "NCBITaxon:7955"),
    (2, "Macaca mulatta", "NCBITaxon:9544"),
]
TISSUES = [
    (6, "brain", "UBERON:0000955"),
    (8, "cerebral cortex", "UBERON:0000956"),
    (4, "hippocampal formation", "UBERON:0002421"),
    (3, "cerebellum", "UBERON:0002037"),
    (2, "prefrontal cortex", "UBERON:0000451"),
    (2, "middle temporal gyrus", "UBERON:0002771"),
    (10, "lung", "UBERON:0002048"),
    (7, "blood", "UBERON:0000178"),
    (6, "liver", "UBERON:0002107"),
    (6, "kidney", "UBERON:0002113"),
    (5, "heart left ventricle", "UBERON:0002084"),
    (4, "heart", "UBERON:0000948"),
    (4, "colon", "UBERON:0001155"),
    (3, "small intestine", "UBERON:0002108"),
    (3, "skin of body", "UBERON:0002097"),
    (3, "breast", "UBERON:0000310"),
    (3, "spleen", "UBERON:0002106"),
    (2, "bone marrow", "UBERON:0002371"),
    (2, "pancreas", "UBERON:0001264"),
    (2, "retina", "UBERON:0000966"),
    (2, "lymph node", "UBERON:0000029"),
    (1, "thymus", "UBERON:0002370"),
    (1, "adipose tissue", "UBERON:0001013"),
    (1, "prostate gland", "UBERON:0002367"),
]
BRAIN_TISSUES = {
    "UBERON:0000955",
    "UBERON:0000956",
    "UBERON:0002421",
    "UBERON:0002037",
    "UBERON:0000451",
    "UBERON:0002771",
}
CELL_TYPES = [
    (10, "T cell", "CL:0000084"),
    (6, "CD4-positive, alpha-beta T cell", "CL:0000624"),
    (6, "CD8-positive, alpha-beta T cell", "CL:0000625"),
    (7, "B cell", "CL:0000236"),
    (8, "monocyte", "CL:0000576"),
    (6, "natural killer cell", "CL:0000623"),
    (8, "macrophage", "CL:0000235"),
    (6, "endothelial cell", "CL:0000115"),
    (6, "fibroblast", "CL:0000057"),
    (5, "epithelial cell", "CL:0000066"),
    (7, "neuron", "CL:0000540"),
    (5, "astrocyte", "CL:0000127"),
    (4, "oligodendrocyte", "CL:0000128"),
    (3, "microglial cell", "CL:0000129"),
    (4, "hepatocyte", "CL:0000182"),
    (3, "pulmonary alveolar type 2 cell", "CL:0002063"),
    (3, "cardiac muscle cell", "CL:0000746"),
    (3, "smooth muscle cell", "CL:0000192"),
    (2, "plasma cell", "CL:0000786"),
    (2, "dendritic cell", "CL:0000451"),
    (2, "mast cell", "CL:0000097"),
    (2, "erythrocyte", "CL:0000232"),
    (2, "kidney epithelial cell", "CL:0002518"),
    (1, "enterocyte", "CL:0000584"),
]
ASSAYS = [
    (40, "10x 3' v3", "EFO:0009922"),
    (20, "10x 3' v2", "EFO:0009899"),
    (10, "10x 5' v1", "EFO:0011025"),
    (8, "Smart-seq2", "EFO:0008931"),
    (6, "10x multiome", "EFO:0030059"),
    (4, "Visium Spatial Gene Expression", "EFO:0010961"),
    (3, "Drop-seq", "EFO:0008722"),
    (3, "Slide-seqV2", "EFO:0030062"),
]
DISEASES = [
    (55, "normal", "PATO:0000461"),
    (8, "COVID-19", "MONDO:0100096"),
    (6, "Alzheimer disease", "MONDO:0004975"),
    (5, "type 2 diabetes mellitus", "MONDO:0005148"),
    (5, "lung adenocarcinoma", "MONDO:0005061"),
    (4, "chronic kidney disease", "MONDO:0005300"),
    (4, "breast cancer", "MONDO:0007254"),
    (3, "multiple sclerosis", "MONDO:0005301"),
    (3, "Crohn disease", "MONDO:0005011"),
    (2, "dilated cardiomyopathy", "MONDO:0005021"),
]
SEXES = [(45, "female", "PATO:0000383"), (45, "male", "PATO:0000384"), (10, "unknown", "unknown")]
STAGES_HUMAN = [
    (30, "adult stage", "HsapDv:0000258"),
    (10, "early adulthood stage", "HsapDv:0000088"),
    (10, "late adult stage", "HsapDv:0000227"),
    (5, "fetal stage", "HsapDv:0000037"),
]
STAGES_MOUSE = [(30, "mature stage", "MmusDv:0000110")]
ETHNICITIES = [
    (30, "European ancestry", "HANCESTRO:0005"),
    (10, "African American", "HANCESTRO:0568"),
    (10, "Asian ancestry", "HANCESTRO:0008"),
    (8, "Latin or Admixed American ancestry", "HANCESTRO:0014"),
    (20, "unknown", "unknown"),
]
SUSPENSIONS = [(60, "cell"), (35, "nucleus"), (5, "na")]
WORDS = [
    "atlas",
    "single-cell",
    "transcriptomic",
    "profiling",
    "reveals",
    "heterogeneity",
    "immune",
    "landscape",
    "developmental",
    "trajectory",
    "spatial",
    "multiome",
    "chromatin",
    "accessibility",
    "regulatory",
    "programs",
    "aging",
    "injury",
    "regeneration",
    "tumour",
    "microenvironment",
    "response",
    "infection",
    "inflammation",
    "homeostasis",
    "niche",
    "progenitor",
    "differentiation",
]
SURNAMES = [
    "Smith",
    "Garcia",
    "Müller",
    "Nakamura",
    "Okafor",
    "Rossi",
    "Kowalski",
    "Chen",
    "Dubois",
    "Andersson",
    "Silva",
    "Haddad",
    "Novak",
    "Ivanova",
    "Patel",
    "Kim",
    "Nguyen",
    "Teichmann",
    "Regev",
    "Lindeberg",
    "Sanes",
    "Zhuang",
]
CONSORTIA = ["Human Cell Atlas (HCA)", "BRAIN Initiative", "CZI Single-Cell Biology", "LungMAP", "HuBMAP", "SEA-AD"]


def _pick(rng: random.Random, table: list[tuple[Any, ...]], k: int = 1) -> list[tuple[Any, ...]]:
    chosen: dict[Any, tuple[Any, ...]] = {}
    k = min(k, len(table))
    weights = [row[0] for row in table]
    while len(chosen) < k:
        row = rng.choices(table, weights)[0]
        chosen[row[-1]] = row
    return list(chosen.values())


def _terms(rows: list[tuple[Any, ...]]) -> list[dict[str, str]]:
    return [{"label": row[1], "ontology_term_id": row[2]} for row in rows]


def dataset_metadata(rng: random.Random, title: str) -> dict[str, Any]:
    organism = _pick(rng, ORGANISMS)
    brainy = rng.random() < 0.25
    tissue_table = [t for t in TISSUES if (t[2] in BRAIN_TISSUES) == brainy]
    tissues = _pick(rng, tissue_table, rng.choice((1, 1, 1, 2, 3)))
    cells = _pick(rng, CELL_TYPES, rng.randint(3, 12))
    stages = STAGES_HUMAN if organism[0][2] == "NCBITaxon:9606" else STAGES_MOUSE
    cell_count = int(rng.lognormvariate(9.5, 1.3))
    return {
        "title": title,
        "schema_version": "7.1.0",
        "organism": _terms(organism),
        "tissue": [{**t, "tissue_type": "tissue"} for t in _terms(tissues)],
        "assay": _terms(_pick(rng, ASSAYS, rng.choice((1, 1, 2)))),
        "disease": _terms(_pick(rng, DISEASES, rng.choice((1, 1, 2)))),
        "cell_type": _terms(cells),
        "sex": _terms(_pick(rng, SEXES, rng.choice((1, 2, 2)))),
        "development_stage": _terms(_pick(rng, stages, rng.choice((1, 2)))),
        "self_reported_ethnicity": _terms(_pick(rng, ETHNICITIES, rng.choice((1, 2)))),
        "suspension_type": [row[1] for row in _pick(rng, SUSPENSIONS)],
        "cell_count": max(cell_count, 50),
        "primary_cell_count": max(cell_count, 50),
        "is_primary_data": "PRIMARY",
    }


def title(rng: random.Random) -> str:
    return " ".join(rng.sample(WORDS, rng.randint(3, 7))).capitalize()


def collection_text(rng: random.Random, number: int) -> dict[str, Any]:
    """Name, description, DOI, consortia and publisher metadata (authors) of one synthetic collection."""
    authors = [
        {"family": rng.choice(SURNAMES), "given": rng.choice("ABCDEFGHJKLMNPRS") + "."}
        for _ in range(rng.randint(1, 8))
    ]
    return {
        "name": f"{title(rng)} ({number})",
        "description": " ".join(rng.choices(WORDS, k=rng.randint(20, 60))).capitalize() + ".",
        "doi": f"10.{rng.randint(1000, 9999)}/synthetic.{number}",
        "consortia": rng.sample(CONSORTIA, rng.choice((0, 0, 1, 2))),
        "publisher_metadata": {
            "authors": authors,
            "journal": rng.choice(["Nature", "Cell", "Science", "bioRxiv", "Nat Med"]),
            "published_year": rng.randint(2018, 2026),
        },
    }
