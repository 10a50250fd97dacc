"""Names: the file's encoding version, deprecated fields, reserved names and names starting with '__'."""

from __future__ import annotations

from cellportal.schema.dataset import Dataset
from cellportal.schema.issues import Issue, issue

DEPRECATED = {
    "obs": ("ethnicity", "ethnicity_ontology_term_id", "organism", "organism_ontology_term_id"),
    "uns": (
        "X_normalization",
        "default_field",
        "layer_descriptions",
        "tags",
        "version",
        "contributors",
        "preprint_doi",
        "project_description",
        "project_links",
        "project_name",
        "publication_doi",
    ),
}
RESERVED_OBS_COLUMNS = ("observation_joinid", "experimental_condition", "perturbation_types")
OBS_LABEL_COLUMNS = ("cell_type", "assay", "disease", "sex", "tissue", "self_reported_ethnicity", "development_stage")
FEATURE_LABEL_COLUMNS = ("feature_name", "feature_reference", "feature_biotype", "feature_length", "feature_type")
RESERVED_UNS_KEYS = ("schema_version", "schema_reference", "citation", "is_pre_analysis")
RESERVED_PERTURBATION_KEYS = ("derived_genomic_regions", "derived_features")


def check_encoding(ds: Dataset) -> list[Issue]:
    if ds.encoding_version != "0.1.0":
        return [
            issue(
                "file.encoding_version",
                "The h5ad artifact was generated with an AnnData version different "
                f"from 0.8.0 (encoding-version is {ds.encoding_version!r}, expected '0.1.0').",
                "/",
            )
        ]
    return []


def _names(ds: Dataset) -> dict[str, list[str]]:
    """The column or key names of each component, as the reference iterates them."""
    names: dict[str, list[str]] = {"uns": list(ds.uns)}
    for component, frame in (("obs", ds.obs), ("var", ds.var), ("raw.var", ds.raw_var)):
        if frame is not None:
            names[component] = list(frame.columns)
    for mapping, entries in ds.mappings.items():
        names[mapping] = list(entries)
    return names


def check_names(ds: Dataset, ignore_labels: bool = False) -> list[Issue]:
    names = _names(ds)
    issues: list[Issue] = []
    for component, deprecated in DEPRECATED.items():
        for name in deprecated:
            if name in names.get(component, []):
                issues.append(
                    issue(
                        "names.deprecated",
                        f"The field '{name}' is present in '{component}', but it is deprecated.",
                        f"{component}.{name}",
                    )
                )
    for component in ("uns", "var", "varm", "varp", "obsm", "obsp", "raw.var", "obs"):
        for name in names.get(component, []):
            if name.startswith("__"):
                issues.append(
                    issue(
                        "names.double_underscore",
                        f"The field '{name}' in '{component}' is invalid. Fields that start with '__' are reserved.",
                        f"{component}.{name}",
                    )
                )
    if "feature_is_filtered" in names.get("raw.var", []):
        issues.append(
            issue(
                "names.forbidden_column",
                "Column 'feature_is_filtered' must not be present in 'raw.var'.",
                "raw.var.feature_is_filtered",
            )
        )
    if ignore_labels:
        return issues
    obs_names = names.get("obs", [])
    for name in RESERVED_OBS_COLUMNS:
        if name in obs_names:
            issues.append(
                issue(
                    "names.reserved",
                    f"Column '{name}' is a reserved column name of 'obs'. Remove it from h5ad and try again.",
                    f"obs.{name}",
                )
            )
    for component, labels in (
        ("obs", OBS_LABEL_COLUMNS),
        ("var", FEATURE_LABEL_COLUMNS),
        ("raw.var", FEATURE_LABEL_COLUMNS),
        ("uns", ("organism",)),
    ):
        for name in labels:
            if name in names.get(component, []):
                issues.append(
                    issue(
                        "names.reserved",
                        f"Add labels error: Column '{name}' is a reserved column "
                        f"name of '{component}'. Remove it from h5ad and try again.",
                        f"{component}.{name}",
                    )
                )
    for name in RESERVED_UNS_KEYS:
        if name in ds.uns:
            issues.append(
                issue(
                    "names.reserved",
                    f"Key '{name}' is a reserved key name of 'uns'. Remove it from h5ad and try again.",
                    f"uns.{name}",
                )
            )
    perturbations = ds.uns.get("genetic_perturbations")
    if isinstance(perturbations, dict):
        if "na" in perturbations:
            issues.append(
                issue(
                    "uns.forbidden_key",
                    "Key 'na' must not be present in 'uns.genetic_perturbations'.",
                    "uns.genetic_perturbations",
                )
            )
        for key, entry in perturbations.items():
            if not isinstance(entry, dict) or not _is_perturbation_key(key):
                continue
            for name in RESERVED_PERTURBATION_KEYS:
                if name in entry:
                    issues.append(
                        issue(
                            "names.reserved",
                            f"Key '{name}' is a reserved key name of "
                            f"'uns.genetic_perturbations.{key}'. Remove it from h5ad and try again.",
                            f"uns.genetic_perturbations.{key}.{name}",
                        )
                    )
    return issues


def _is_perturbation_key(key: str) -> bool:
    import re

    return re.match(r"^[^\s/,\"']+$", key) is not None
