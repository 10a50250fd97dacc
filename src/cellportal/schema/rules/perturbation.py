"""Schema 7.1 genetic perturbations: obs columns cross-checked against uns['genetic_perturbations']."""

from __future__ import annotations

from cellportal.schema.dataset import Dataset
from cellportal.schema.issues import Issue, issue
from cellportal.schema.rules.terms import MULTI_TERM_DELIMITER


def check_perturbations(ds: Dataset) -> list[Issue]:
    obs = ds.obs
    if obs is None:
        return []
    location = "obs.genetic_perturbation_id"
    in_uns = "genetic_perturbations" in ds.uns
    gp_id = obs.columns.get("genetic_perturbation_id")
    strategy = obs.columns.get("genetic_perturbation_strategy")
    if not in_uns:
        if gp_id is not None:
            return [
                issue(
                    "perturbation.inconsistent",
                    "obs['genetic_perturbation_id'] is present but "
                    "adata.uns['genetic_perturbations'] is missing. When genetic perturbation columns exist in "
                    "obs, uns['genetic_perturbations'] must be present.",
                    location,
                )
            ]
        return []
    if gp_id is None or strategy is None:
        return [
            issue(
                "perturbation.inconsistent",
                "When adata.uns['genetic_perturbations'] is present, obs must "
                "contain 'genetic_perturbation_id' and 'genetic_perturbation_strategy'.",
                location,
            )
        ]
    perturbations = ds.uns["genetic_perturbations"]
    known = perturbations if isinstance(perturbations, dict) else {}
    issues: list[Issue] = []
    pairs = dict.fromkeys(zip(gp_id.row_values(), strategy.row_values(), strict=True))
    for ids, chosen in pairs:
        text = str(ids)
        if text == "na":
            continue
        parts = text.split(MULTI_TERM_DELIMITER) if text else [text]
        if parts != sorted(parts):
            issues.append(
                issue(
                    "ontology_term.unsorted",
                    f"'{text}' in 'genetic_perturbation_id' is not in ascending lexical order.",
                    location,
                    values=[text],
                )
            )
        if len(set(parts)) != len(parts):
            issues.append(
                issue(
                    "ontology_term.duplicated",
                    f"'{text}' in 'genetic_perturbation_id' contains duplicates.",
                    location,
                    values=[text],
                )
            )
        for part in parts:
            if part not in known:
                issues.append(
                    issue(
                        "perturbation.inconsistent",
                        f"'{part}' in 'genetic_perturbation_id' does not "
                        "match any key in uns['genetic_perturbations'].",
                        location,
                        values=[part],
                    )
                )
        if chosen == "no perturbations":
            issues.append(
                issue(
                    "perturbation.inconsistent",
                    "When obs['genetic_perturbation_id'] is not 'na', "
                    "'genetic_perturbation_strategy' cannot be 'no perturbations'.",
                    "obs.genetic_perturbation_strategy",
                    values=[text],
                )
            )
        if chosen == "control":
            for part in parts:
                entry = known.get(part, {})
                if not isinstance(entry, dict) or entry.get("role") != "control":
                    issues.append(
                        issue(
                            "perturbation.inconsistent",
                            "genetic_perturbation_strategy is 'control' but "
                            f"uns['genetic_perturbations']['{part}']['role'] != 'control'.",
                            "obs.genetic_perturbation_strategy",
                            values=[part],
                        )
                    )
    seen: set[str] = set()
    return [i for i in issues if not (i.message in seen or seen.add(i.message))]  # type: ignore[func-returns-value]
