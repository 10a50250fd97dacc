"""The dataset-level metadata the catalog shows, named like the Curation API's dataset fields.

Read straight from the (validated, unlabelled or labelled) h5ad with h5py: labels come from the ontology
index, counts from one streaming pass over the raw matrix.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cellportal.schema.dataset import Dataset, load_dataset
from cellportal.schema.h5ad import Column, open_h5ad
from cellportal.schema.ontology import OntologyIndex, ontology_index
from cellportal.schema.report import SCHEMA_VERSION
from cellportal.schema.rules.features import locate_features
from cellportal.schema.rules.matrix_scan import ScanRequest, scan

DELIMITER = " || "
ONTOLOGY_FIELDS = (
    ("assay", "assay_ontology_term_id"),
    ("cell_type", "cell_type_ontology_term_id"),
    ("development_stage", "development_stage_ontology_term_id"),
    ("disease", "disease_ontology_term_id"),
    ("self_reported_ethnicity", "self_reported_ethnicity_ontology_term_id"),
    ("sex", "sex_ontology_term_id"),
)


@dataclass
class DatasetMetadata:
    title: str | None = None
    organism: list[dict[str, str]] = field(default_factory=list)
    tissue: list[dict[str, str | None]] = field(default_factory=list)
    assay: list[dict[str, str]] = field(default_factory=list)
    disease: list[dict[str, str]] = field(default_factory=list)
    cell_type: list[dict[str, str]] = field(default_factory=list)
    sex: list[dict[str, str]] = field(default_factory=list)
    development_stage: list[dict[str, str]] = field(default_factory=list)
    self_reported_ethnicity: list[dict[str, str]] = field(default_factory=list)
    suspension_type: list[str] = field(default_factory=list)
    cell_count: int = 0
    primary_cell_count: int = 0
    mean_genes_per_cell: float | None = None
    embeddings: list[str] = field(default_factory=list)
    default_embedding: str | None = None
    raw_data_location: str | None = None
    feature_count: int = 0
    feature_biotype: list[str] = field(default_factory=list)
    feature_reference: list[str] = field(default_factory=list)
    is_primary_data: list[bool] = field(default_factory=list)
    donor_id: list[str] = field(default_factory=list)
    batch_condition: list[str] | None = None
    x_approximate_distribution: str | None = None
    schema_version: str = SCHEMA_VERSION
    spatial: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-safe values (no numpy types)."""
        return _plain(asdict(self))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _label(term: str, index: OntologyIndex) -> str:
    if term in ("unknown", "na"):
        return term
    parts = []
    for part in term.split(DELIMITER):
        lookup, prefix = (part[len("anti-") :], "anti-") if part.startswith("anti-") else (part, "")
        found = index.term(lookup)
        parts.append(prefix + found.label if found is not None else part)
    return DELIMITER.join(parts)


def _elements(column: Column | None, index: OntologyIndex) -> list[dict[str, str]]:
    if column is None:
        return []
    terms = {str(v) for v in column.unique_values() if v is not None}
    elements = [{"label": _label(t, index), "ontology_term_id": t} for t in terms]
    return sorted(elements, key=lambda e: (e["label"], e["ontology_term_id"]))


def _tissues(ds: Dataset, index: OntologyIndex) -> list[dict[str, str | None]]:
    assert ds.obs is not None
    tissue = ds.obs.columns.get("tissue_ontology_term_id")
    if tissue is None:
        return []
    kinds = ds.obs.columns.get("tissue_type")
    kind_values = kinds.row_values() if kinds is not None else np.full(len(ds.obs), None, dtype=object)
    pairs = dict.fromkeys(zip(tissue.row_values().tolist(), kind_values.tolist(), strict=True))
    found = [
        {"label": _label(str(t), index), "ontology_term_id": str(t), "tissue_type": k}
        for t, k in pairs
        if t is not None
    ]
    return sorted(found, key=lambda e: (str(e["label"]), str(e["ontology_term_id"]), str(e["tissue_type"])))


def _strings(column: Column | None) -> list[str]:
    if column is None:
        return []
    return sorted({str(v) for v in column.unique_values() if v is not None})


def _mean_genes_per_cell(ds: Dataset) -> float | None:
    """Stored values per cell in the raw matrix, over gene (not spike-in) columns, as the portal computes it."""
    matrix = ds.raw_X if ds.raw_X is not None else ds.X
    features = ds.raw_var if ds.raw_X is not None and ds.raw_var is not None else ds.var
    if matrix is None or matrix.shape is None or features is None or matrix.shape[0] == 0:
        return None
    genes = np.array([not str(f).startswith("ERCC") for f in features.index], dtype=bool)
    if len(genes) != matrix.shape[1]:
        return None
    result = scan(matrix, ScanRequest(filtered_columns=genes))
    if result.error:
        return None
    return result.filtered_stored_values / matrix.shape[0]


def extract_metadata(path: str | Path) -> DatasetMetadata:
    """Dataset-level metadata of one h5ad file (meant for files that passed validation)."""
    index = ontology_index()
    with open_h5ad(str(path)) as handle:
        ds = load_dataset(str(path), handle)
        meta = DatasetMetadata()
        uns = ds.uns
        meta.title = uns.get("title") if isinstance(uns.get("title"), str) else None
        organism = ds.organism
        if organism:
            meta.organism = [{"label": _label(organism, index), "ontology_term_id": organism}]
        if ds.obs is not None:
            for name, column_name in ONTOLOGY_FIELDS:
                setattr(meta, name, _elements(ds.obs.columns.get(column_name), index))
            meta.tissue = _tissues(ds, index)
            meta.suspension_type = _strings(ds.obs.columns.get("suspension_type"))
            meta.donor_id = _strings(ds.obs.columns.get("donor_id"))
            meta.cell_count = len(ds.obs)
            primary = ds.obs.columns.get("is_primary_data")
            if primary is not None and primary.values is not None:
                flags = np.asarray(primary.values, dtype=bool)
                meta.primary_cell_count = int(flags.sum())
                meta.is_primary_data = sorted({bool(v) for v in flags})
        if ds.var is not None:
            meta.feature_count = len(ds.var)
            hits = locate_features(ds.var.index)
            organisms = {hit.organism for hit in hits.values() if hit is not None}
            meta.feature_reference = sorted(organisms)
            meta.feature_biotype = sorted(
                {"spike-in" if str(f).startswith("ERCC") else "gene" for f in ds.var.index.tolist()}
            )
        meta.embeddings = list(ds.obsm)
        default = uns.get("default_embedding")
        meta.default_embedding = default if isinstance(default, str) else None
        meta.raw_data_location = "raw.X" if ds.raw_X is not None else "X"
        batch = uns.get("batch_condition")
        if isinstance(batch, np.ndarray | list):
            meta.batch_condition = [str(b) for b in np.asarray(batch).ravel().tolist()]
        distribution = uns.get("X_approximate_distribution")
        meta.x_approximate_distribution = distribution.upper() if isinstance(distribution, str) else None
        spatial = uns.get("spatial")
        if isinstance(spatial, dict) and "is_single" in spatial:
            meta.spatial = {"is_single": bool(spatial["is_single"])}
        meta.mean_genes_per_cell = _mean_genes_per_cell(ds)
    return meta
