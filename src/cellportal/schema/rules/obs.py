"""obs (and the shared dataframe rules): required columns, types, categories and the enumerated columns."""

from __future__ import annotations

from typing import Any

import numpy as np

from cellportal.schema.dataset import Dataset, examples_where, missing_values_issue
from cellportal.schema.h5ad import Column, Frame
from cellportal.schema.issues import Issue, issue
from cellportal.schema.ontology import OntologyIndex

REQUIRED_OBS_COLUMNS = (
    "cell_type_ontology_term_id",
    "assay_ontology_term_id",
    "disease_ontology_term_id",
    "sex_ontology_term_id",
    "tissue_ontology_term_id",
    "self_reported_ethnicity_ontology_term_id",
    "development_stage_ontology_term_id",
    "is_primary_data",
    "donor_id",
    "suspension_type",
    "tissue_type",
)
TISSUE_TYPES = ["primary cell culture", "organoid", "tissue", "cell line"]
SUSPENSION_TYPES = ["cell", "nucleus", "na"]
PERTURBATION_STRATEGIES = [
    "no perturbations",
    "control",
    "CRISPR activation screen",
    "CRISPR interference screen",
    "CRISPR knockout mutant",
    "CRISPR knockout screen",
]
PERTURBATION_ORGANISMS = frozenset({"NCBITaxon:7955", "NCBITaxon:9606", "NCBITaxon:10090"})

# Assays -> the suspension types they allow: (ancestors, inclusive; exact terms; allowed values).
SUSPENSION_BY_ASSAY: tuple[tuple[tuple[str, ...], frozenset[str], list[str]], ...] = (
    (
        ("EFO:0030080", "EFO:0010184", "EFO:0010010", "EFO:0009919"),
        frozenset(
            {"EFO:0008722", "EFO:0008780", "EFO:0700010", "EFO:0700011", "EFO:0030060", "EFO:0022490", "EFO:0030028"}
        ),
        ["cell", "nucleus"],
    ),
    (("EFO:0007045", "EFO:0002761"), frozenset({"EFO:0008720", "EFO:0030026"}), ["nucleus"]),
    (
        ("EFO:0008919", "EFO:0008853", "EFO:0008953"),
        frozenset({"EFO:0030002", "EFO:0008796", "EFO:0700003", "EFO:0700004", "EFO:0008679", "EFO:0008877"}),
        ["cell"],
    ),
    (("EFO:0008994",), frozenset({"EFO:0008992"}), ["na"]),
)
UNSUPPORTED_ASSAY_WARNING = (
    "Data contains assay(s) that are not represented in the 'suspension_type' schema definition table. Ensure you "
    "have selected the most appropriate value for the assay(s) between 'cell', 'nucleus', and 'na'. Please contact "
    "cellxgene@chanzuckerberg.com during submission so that the assay(s) can be added to the schema definition "
    "document."
)


def check_frame_structure(frame: Frame, name: str) -> list[Issue]:
    """Index uniqueness, duplicated column names, mixed types and category hygiene of one dataframe."""
    issues: list[Issue] = []
    seen: set[str] = set()
    for column_name in frame.column_order:
        if column_name in seen:
            issues.append(
                issue(
                    "names.duplicate_column",
                    f"Duplicate column name '{column_name}' detected in "
                    f"'adata.{name}' DataFrame. All DataFrame column names must be unique.",
                    f"{name}.{column_name}",
                )
            )
        seen.add(column_name)
    if len(set(frame.index.tolist())) != len(frame.index):
        index_values, index_counts = np.unique(frame.index.astype(str), return_counts=True)
        duplicated = index_values[index_counts > 1]
        issues.append(
            issue(
                "dataframe.index_not_unique",
                f"Column 'index' in dataframe '{name}' is not unique.",
                f"{name}.index",
                values=list(duplicated),
                count=len(duplicated),
            )
        )
    for column in frame.columns.values():
        location = f"{name}.{column.name}"
        if column.kind == "unsupported":
            issues.append(
                issue(
                    "dataframe.unreadable_column",
                    f"Column '{column.name}' in dataframe '{name}' is "
                    f"stored as '{column.dtype_name}', which cannot be read as a column.",
                    location,
                )
            )
            continue
        if not column.is_categorical:
            types = set()
            if len(column):
                types.add(type(column.values[0]).__name__ if column.values is not None else "none")
                if column.mask is not None and column.mask.any():
                    types.add("NAType")
            if len(types) != 1:
                issues.append(
                    issue(
                        "dataframe.mixed_types",
                        f"Column '{column.name}' in dataframe '{name}' cannot "
                        f"contain mixed types. Found {sorted(types)}.",
                        location,
                    )
                )
            continue
        assert column.categories is not None and column.codes is not None
        category_types = {type(c).__name__ for c in column.categories}
        if len(category_types) > 1:
            issues.append(
                issue(
                    "dataframe.mixed_categories",
                    f"Column '{column.name}' in dataframe '{name}' "
                    f"contains {len(category_types)} categorical types. Only one type is allowed.",
                    location,
                )
            )
        if name == "obs":
            codes = column.codes[column.codes >= 0]
            used = np.bincount(codes, minlength=len(column.categories)) > 0
            for category in np.asarray(column.categories, dtype=object)[~used]:
                issues.append(
                    issue(
                        "dataframe.unused_category",
                        f"Column '{column.name}' in dataframe '{name}' "
                        f"contains a category '{category}' with zero observations. These categories "
                        "will be removed when `--add-labels` flag is present.",
                        location,
                        values=[category],
                    )
                )
    return issues


def check_required_columns(ds: Dataset) -> list[Issue]:
    if ds.obs is None:
        return []
    required = list(REQUIRED_OBS_COLUMNS)
    if "genetic_perturbations" in ds.uns:
        required.append("genetic_perturbation_id")
    gp_id = ds.obs.columns.get("genetic_perturbation_id")
    if gp_id is not None and any(v is not None for v in gp_id.unique_values()):
        required.append("genetic_perturbation_strategy")
    issues = []
    for name in required:
        if name in ds.obs:
            continue
        if name == "cell_type_ontology_term_id":
            # The reference never reports this column missing: schema 7.1 lets pre-analysis datasets omit it,
            # and its check skips the column whether or not --pre-analysis is given.
            issues.append(
                issue(
                    "dataframe.missing_cell_type",
                    "Dataframe 'obs' has no column 'cell_type_ontology_term_id'. Only pre-analysis datasets may "
                    "omit it; the dataset will have no cell type labels.",
                    f"obs.{name}",
                )
            )
            continue
        issues.append(issue("dataframe.missing_column", f"Dataframe 'obs' is missing column '{name}'.", f"obs.{name}"))
    return issues


def _categorical_checks(
    column: Column, rows: np.ndarray, obs: Frame, string_categories: bool, check_missing: bool
) -> list[Issue]:
    location = f"obs.{column.name}"
    if not column.is_categorical:
        return [
            issue(
                "column.not_categorical",
                f"Column '{column.name}' in dataframe 'obs' must be categorical, not {column.dtype_name}.",
                location,
            )
        ]
    assert column.categories is not None
    issues: list[Issue] = []
    if string_categories:
        if not all(isinstance(c, str) for c in column.categories):
            issues.append(
                issue(
                    "column.not_string_categories",
                    f"Column '{column.name}' in dataframe 'obs' must "
                    f"be object or string, not {np.asarray(column.categories).dtype}.",
                    location,
                )
            )
        elif any(len(c.strip()) == 0 for c in column.categories):
            issues.append(
                issue(
                    "column.empty_values",
                    f"Column '{column.name}' in dataframe 'obs' must not contain empty values.",
                    location,
                )
            )
    if check_missing and any(v is None for v in column.unique_values(rows)):
        issues.append(missing_values_issue(column, rows, obs))
    return issues


def _enum_check(column: Column, rows: np.ndarray, obs: Frame, allowed: list[str], suffix: str) -> list[Issue]:
    if not rows.any():
        return []
    bad = [v for v in column.unique_values(rows) if v not in allowed]
    if not bad:
        return []
    shown = ["nan" if v is None else v for v in bad]
    cells = rows & ~column.isin(set(allowed))
    message = (
        f"Column '{column.name}' in dataframe 'obs' contains invalid values '{shown}'. Values must be one of {allowed}"
    )
    return [
        issue(
            "column.invalid_values",
            f"{message} {suffix}".strip(),
            f"obs.{column.name}",
            values=shown,
            count=int(cells.sum()),
            examples=examples_where(obs, cells),
        )
    ]


def _assay_rows(
    assays: Column, ancestors: tuple[str, ...], exact: frozenset[str], index: OntologyIndex
) -> tuple[np.ndarray, list[Any]]:
    matched = [
        value
        for value in assays.unique_values()
        if isinstance(value, str)
        and (value in exact or any(index.is_descendant_of(value, a, inclusive=True) for a in ancestors))
    ]
    return assays.isin(set(matched)), matched


def check_obs_columns(ds: Dataset, index: OntologyIndex) -> list[Issue]:
    """is_primary_data, donor_id, suspension_type, tissue_type and the genetic perturbation columns."""
    obs = ds.obs
    if obs is None:
        return []
    n = len(obs)
    every = np.ones(n, dtype=bool)
    issues: list[Issue] = []
    tissue_type = obs.columns.get("tissue_type")
    cell_line = tissue_type.equals("cell line") if tissue_type is not None else None

    primary = obs.columns.get("is_primary_data")
    if primary is not None and primary.kind != "bool":
        issues.append(
            issue(
                "column.not_boolean",
                f"Column 'is_primary_data' in dataframe 'obs' must be boolean, not '{primary.dtype_name}'.",
                "obs.is_primary_data",
            )
        )

    donor = obs.columns.get("donor_id")
    if donor is not None:
        others = every if cell_line is None else ~cell_line
        if cell_line is not None and cell_line.any():
            issues += _categorical_checks(donor, cell_line, obs, string_categories=True, check_missing=False)
            issues += _enum_check(donor, cell_line, obs, ["na"], "when 'tissue_type' is 'cell line'.")
        if others.any():
            issues += _categorical_checks(donor, others, obs, string_categories=True, check_missing=True)
            if donor.equals("na")[others].any():
                cells = others & donor.equals("na")
                issues.append(
                    issue(
                        "column.forbidden_values",
                        "Column 'donor_id' in dataframe 'obs' contains "
                        "forbidden values '['na']'. Values must not be one of ['na']",
                        "obs.donor_id",
                        values=["na"],
                        count=int(cells.sum()),
                        examples=examples_where(obs, cells),
                    )
                )

    suspension = obs.columns.get("suspension_type")
    if suspension is not None:
        issues += _categorical_checks(suspension, every, obs, string_categories=False, check_missing=False)
        covered = np.zeros(n, dtype=bool)
        assays = obs.columns.get("assay_ontology_term_id")
        if assays is not None:
            for ancestors, exact, allowed in SUSPENSION_BY_ASSAY:
                rows, matched = _assay_rows(assays, ancestors, exact, index)
                covered |= rows
                issues += _enum_check(suspension, rows, obs, allowed, f"when 'assay_ontology_term_id' is in {matched}")
        unmatched = ~covered
        if unmatched.any():
            issues.append(
                issue(
                    "column.unsupported_assay_suspension",
                    UNSUPPORTED_ASSAY_WARNING,
                    "obs.suspension_type",
                    values=assays.unique_values(unmatched) if assays is not None else [],
                    count=int(unmatched.sum()),
                    examples=examples_where(obs, unmatched),
                )
            )
            issues += _enum_check(
                suspension,
                unmatched,
                obs,
                SUSPENSION_TYPES,
                "when 'assay_ontology_term_id' does not match one of the assays in the schema definition.",
            )

    if tissue_type is not None:
        issues += _categorical_checks(tissue_type, every, obs, string_categories=False, check_missing=False)
        issues += _enum_check(tissue_type, every, obs, TISSUE_TYPES, "")

    issues += _perturbation_columns(ds, obs, every)
    return _deduplicated(issues)


def _perturbation_columns(ds: Dataset, obs: Frame, every: np.ndarray) -> list[Issue]:
    issues: list[Issue] = []
    gp_id = obs.columns.get("genetic_perturbation_id")
    strategy = obs.columns.get("genetic_perturbation_strategy")
    if gp_id is not None:
        if "genetic_perturbations" not in ds.uns:
            issues.append(
                issue(
                    "column.forbidden",
                    "Column 'genetic_perturbation_id' in dataframe 'obs' must not "
                    "be present when uns['genetic_perturbations'] is not present.",
                    "obs.genetic_perturbation_id",
                )
            )
        if ds.organism in PERTURBATION_ORGANISMS:
            issues += _categorical_checks(gp_id, every, obs, string_categories=True, check_missing=True)
    if strategy is not None:
        if gp_id is None:
            issues.append(
                issue(
                    "column.forbidden",
                    "Column 'genetic_perturbation_strategy' in dataframe 'obs' must "
                    "not be present when obs column 'genetic_perturbation_id' is not present.",
                    "obs.genetic_perturbation_strategy",
                )
            )
            return issues
        none_rows = gp_id.equals("na")
        missing = np.array([v is None for v in gp_id.row_values()], dtype=bool)
        some_rows = ~none_rows & ~missing
        for rows, allowed, suffix in (
            (none_rows, ["no perturbations"], "when 'genetic_perturbation_id' is in ['na']"),
            (some_rows, PERTURBATION_STRATEGIES[1:], "when 'genetic_perturbation_id' is not 'na'"),
            (missing, PERTURBATION_STRATEGIES, ""),
        ):
            if rows.any():
                issues += _categorical_checks(strategy, rows, obs, string_categories=False, check_missing=False)
                issues += _enum_check(strategy, rows, obs, allowed, suffix)
    return issues


def _deduplicated(issues: list[Issue]) -> list[Issue]:
    seen: set[tuple[str, str]] = set()
    out = []
    for found in issues:
        if (found.code, found.message) not in seen:
            seen.add((found.code, found.message))
            out.append(found)
    return out
