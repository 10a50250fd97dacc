"""Features: ids against the per-organism gene references, their organism, and ``feature_is_filtered``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from cellportal.schema import reference_files
from cellportal.schema.dataset import Dataset
from cellportal.schema.issues import Issue, issue
from cellportal.schema.ontology import OntologyIndex
from cellportal.schema.rules.matrix_scan import ScanResult

MIN_FEATURES = 20_000


@dataclass(frozen=True)
class FeatureHit:
    organism: str  # NCBITaxon id of the table holding the id
    row: int


def locate_features(feature_ids: Iterable[str]) -> dict[str, FeatureHit | None]:
    """For each id, the first gene table (in the reference's order) that holds it, or None."""
    pending = np.array(sorted({str(f) for f in feature_ids}), dtype=str)
    found: dict[str, FeatureHit | None] = {}
    for organism in reference_files.supported_organisms():
        if not len(pending):
            break
        ids, rows = reference_files.sorted_gene_ids(organism)
        if not len(ids):
            continue
        positions = np.clip(np.searchsorted(ids, pending), 0, len(ids) - 1)
        hit = ids[positions] == pending
        for feature, row in zip(pending[hit].tolist(), rows[positions[hit]].tolist(), strict=True):
            found[feature] = FeatureHit(organism, int(row))
        pending = pending[~hit]
    for feature in pending.tolist():
        found[feature] = None
    return found


def check_feature_ids(
    feature_ids: np.ndarray, location: str, dataset_organism: str | None, index: OntologyIndex
) -> list[Issue]:
    """Every id must be in a gene table, and from the dataset's organism (or an ancestor), ERCC or SARS-CoV-2."""
    hits = locate_features(feature_ids)
    issues: list[Issue] = []
    unknown = [str(f) for f in feature_ids if hits[str(f)] is None]
    if unknown:
        hint = ""
        if any("." in f for f in unknown):
            hint = " Feature ids must be unversioned (e.g. 'ENSG00000141510', not 'ENSG00000141510.17')."
        issues.append(
            issue(
                "features.unknown_id",
                f"Could not infer organism from feature ID '{unknown[0]}' in '{location}', make sure it is a valid ID."
                f" {len(unknown)} feature id(s) in '{location}' are in no gene reference of schema 7.1.0.{hint}",
                location,
                values=unknown,
                count=len(unknown),
                examples=unknown,
            )
        )
    organism_term = index.term(dataset_organism) if dataset_organism else None
    if organism_term is not None and organism_term.ontology == "NCBITaxon":
        foreign: dict[str, list[str]] = {}
        for feature in feature_ids:
            hit = hits[str(feature)]
            if hit is None or hit.organism in reference_files.EXEMPT_ORGANISMS:
                continue
            if not index.is_descendant_of(dataset_organism, hit.organism, inclusive=True):  # type: ignore[arg-type]
                foreign.setdefault(hit.organism, []).append(str(feature))
        if foreign:
            organisms = sorted(foreign)
            examples = [f for organism in organisms for f in foreign[organism]]
            issues.append(
                issue(
                    "features.wrong_organism",
                    f"uns['organism_ontology_term_id'] is '{dataset_organism}' but feature_ids are from {organisms}.",
                    location,
                    values=organisms,
                    count=len(examples),
                    examples=examples,
                )
            )
    return issues


def check_features(ds: Dataset, index: OntologyIndex) -> list[Issue]:
    issues: list[Issue] = []
    organism = ds.organism
    if ds.var is not None:
        if len(ds.var) < MIN_FEATURES:
            issues.append(
                issue(
                    "features.filtered",
                    f"Dataframe 'var' only has {len(ds.var)} rows. Features SHOULD "
                    "NOT be filtered from expression matrix.",
                    "var",
                )
            )
        issues += check_feature_ids(ds.var.index, "var", organism, index)
        if "feature_is_filtered" not in ds.var:
            issues.append(
                issue(
                    "dataframe.missing_column",
                    "Dataframe 'var' is missing column 'feature_is_filtered'.",
                    "var.feature_is_filtered",
                )
            )
    if ds.raw_var is not None:
        issues += check_feature_ids(ds.raw_var.index, "raw.var", organism, index)
    return issues


def filtered_mask(ds: Dataset) -> np.ndarray | None:
    """var['feature_is_filtered'] as booleans, or None when it is missing or not boolean."""
    if ds.var is None:
        return None
    column = ds.var.columns.get("feature_is_filtered")
    if column is None or column.kind != "bool" or column.values is None:
        return None
    return np.asarray(column.values, dtype=bool)


def check_feature_is_filtered(ds: Dataset, x_scan: ScanResult | None, raw_scan: ScanResult | None) -> list[Issue]:
    if ds.var is None or "feature_is_filtered" not in ds.var:
        return []
    column = ds.var.columns["feature_is_filtered"]
    location = "var.feature_is_filtered"
    if column.kind != "bool":
        return [
            issue(
                "column.not_boolean",
                f"Column 'feature_is_filtered' in dataframe 'var' must be boolean, not '{column.dtype_name}'.",
                location,
            )
        ]
    flagged = np.asarray(column.values, dtype=bool)
    if not ds.has_raw:
        if flagged.any():
            names = ds.var.index[flagged]
            return [
                issue(
                    "features.filtered_without_raw",
                    "'feature_is_filtered' must be False for all features if 'adata.raw' is not present.",
                    location,
                    count=int(flagged.sum()),
                    examples=list(names),
                )
            ]
        return []
    issues: list[Issue] = []
    if (
        x_scan is not None
        and raw_scan is not None
        and x_scan.column_sums is not None
        and raw_scan.column_sums is not None
    ):
        x_sums, raw_sums = x_scan.column_sums, raw_scan.column_sums
        if len(raw_sums) < len(x_sums) or len(flagged) < len(x_sums):
            issues.append(
                issue(
                    "features.filtered_size_mismatch",
                    "Could not complete full validation of "
                    "feature_is_filtered because of size differences between var and raw.var.",
                    location,
                )
            )
        else:
            n = len(x_sums)
            zero_not_flagged = (x_sums == 0) & ~flagged[:n] & (raw_sums[:n] != 0)
            if zero_not_flagged.any():
                names = [str(v) for v in ds.var.index[:n][zero_not_flagged]]
                issues.append(
                    issue(
                        "features.zero_not_flagged",
                        f"Genes '{', '.join(names[:20])}' have all-zero "
                        "values in adata.X. Either feature_is_filtered should be set to True or "
                        "adata.raw.X should be set to all-zero values.",
                        location,
                        count=len(names),
                        examples=names,
                    )
                )
    if flagged.any() and x_scan is not None and x_scan.filtered_stored_values > 0:
        issues.append(
            issue(
                "features.flagged_nonzero",
                "Some features are 'True' in 'feature_is_filtered' of "
                f"dataframe 'var', but there are {x_scan.filtered_stored_values} non-zero values in the "
                "corresponding columns of the matrix 'X'. All values for these features must be 0.",
                location,
                count=x_scan.filtered_stored_values,
            )
        )
    return issues
