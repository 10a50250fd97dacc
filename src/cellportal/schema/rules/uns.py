"""uns: organism, title and the other documented keys, empty values, ``{column}_colors`` and the 7.1
``genetic_perturbations`` dictionary."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from cellportal.schema.dataset import Dataset
from cellportal.schema.h5ad import Opaque
from cellportal.schema.issues import Issue, issue
from cellportal.schema.ontology import OntologyIndex
from cellportal.schema.reference_files import EXEMPT_ORGANISMS, supported_organisms
from cellportal.schema.rules.features import check_feature_ids
from cellportal.schema.rules.terms import TermRule, check_term_value

ORGANISM = TermRule(
    ("NCBITaxon",),
    # The gene-table organisms, less the two whose features may appear in any dataset.
    allowed_terms=frozenset(supported_organisms()) - EXEMPT_ORGANISMS,
    allowed_ancestors=(
        "NCBITaxon:9541",
        "NCBITaxon:9544",
        "NCBITaxon:10090",
        "NCBITaxon:9986",
        "NCBITaxon:9598",
        "NCBITaxon:10116",
        "NCBITaxon:9823",
    ),
    forbidden_terms=EXEMPT_ORGANISMS,
    explanation="The organism must be one of the schema's supported organisms (or a descendant strain).",
)
APPROXIMATE_DISTRIBUTIONS = ["count", "normal"]
PORTAL_LABEL_COLUMNS = (
    "assay",
    "cell_type",
    "development_stage",
    "disease",
    "organism",
    "self_reported_ethnicity",
    "sex",
    "tissue",
)
_HEX_COLOR = re.compile(r"^#([0-9a-fA-F]{6})$")
CSS4_COLORS = frozenset(
    [
        "aliceblue",
        "antiquewhite",
        "aqua",
        "aquamarine",
        "azure",
        "beige",
        "bisque",
        "black",
        "blanchedalmond",
        "blue",
        "blueviolet",
        "brown",
        "burlywood",
        "cadetblue",
        "chartreuse",
        "chocolate",
        "coral",
        "cornflowerblue",
        "cornsilk",
        "crimson",
        "cyan",
        "darkblue",
        "darkcyan",
        "darkgoldenrod",
        "darkgray",
        "darkgreen",
        "darkgrey",
        "darkkhaki",
        "darkmagenta",
        "darkolivegreen",
        "darkorange",
        "darkorchid",
        "darkred",
        "darksalmon",
        "darkseagreen",
        "darkslateblue",
        "darkslategray",
        "darkslategrey",
        "darkturquoise",
        "darkviolet",
        "deeppink",
        "deepskyblue",
        "dimgray",
        "dimgrey",
        "dodgerblue",
        "firebrick",
        "floralwhite",
        "forestgreen",
        "fuchsia",
        "gainsboro",
        "ghostwhite",
        "gold",
        "goldenrod",
        "gray",
        "green",
        "greenyellow",
        "grey",
        "honeydew",
        "hotpink",
        "indianred",
        "indigo",
        "ivory",
        "khaki",
        "lavender",
        "lavenderblush",
        "lawngreen",
        "lemonchiffon",
        "lightblue",
        "lightcoral",
        "lightcyan",
        "lightgoldenrodyellow",
        "lightgray",
        "lightgreen",
        "lightgrey",
        "lightpink",
        "lightsalmon",
        "lightseagreen",
        "lightskyblue",
        "lightslategray",
        "lightslategrey",
        "lightsteelblue",
        "lightyellow",
        "lime",
        "limegreen",
        "linen",
        "magenta",
        "maroon",
        "mediumaquamarine",
        "mediumblue",
        "mediumorchid",
        "mediumpurple",
        "mediumseagreen",
        "mediumslateblue",
        "mediumspringgreen",
        "mediumturquoise",
        "mediumvioletred",
        "midnightblue",
        "mintcream",
        "mistyrose",
        "moccasin",
        "navajowhite",
        "navy",
        "oldlace",
        "olive",
        "olivedrab",
        "orange",
        "orangered",
        "orchid",
        "palegoldenrod",
        "palegreen",
        "paleturquoise",
        "palevioletred",
        "papayawhip",
        "peachpuff",
        "peru",
        "pink",
        "plum",
        "powderblue",
        "purple",
        "rebeccapurple",
        "red",
        "rosybrown",
        "royalblue",
        "saddlebrown",
        "salmon",
        "sandybrown",
        "seagreen",
        "seashell",
        "sienna",
        "silver",
        "skyblue",
        "slateblue",
        "slategray",
        "slategrey",
        "snow",
        "springgreen",
        "steelblue",
        "tan",
        "teal",
        "thistle",
        "tomato",
        "turquoise",
        "violet",
        "wheat",
        "white",
        "whitesmoke",
        "yellow",
        "yellowgreen",
    ]
)
PERTURBATION_KEY = re.compile(r"^[^\s/,\"']+$")
PERTURBATION_ENTRY_KEYS = ("role", "protospacer_sequence", "protospacer_adjacent_motif", "intended_features")
RESERVED_ENTRY_KEYS = ("derived_genomic_regions", "derived_features")
PROTOSPACER = re.compile(r"^[ACGT]{14,22}$")
PAM = re.compile(r"^3' [ABCDGHKMNRSTVWY]+$")


def location_of(path: str) -> str:
    """``uns['a']['b']`` -> ``uns.a.b``."""
    return path.replace("']['", ".").replace("['", ".").replace("']", "")


def check_string(value: Any, path: str) -> list[Issue]:
    """A string with no leading, trailing or double spaces (the rule for every documented string value)."""
    location = location_of(path)
    if not isinstance(value, str):
        return [issue("uns.not_string", f"'{value}' in '{path}' is not valid, it must be a string.", location)]
    issues = []
    if value != value.rstrip():
        issues.append(
            issue("uns.spaces", f"'{value}' in '{path}' is not valid, it contains trailing spaces.", location)
        )
    if value != value.lstrip():
        issues.append(issue("uns.spaces", f"'{value}' in '{path}' is not valid, it contains leading spaces.", location))
    if value.strip() != " ".join(value.split()):
        issues.append(issue("uns.spaces", f"'{value}' in '{path}' is not valid, it contains double spaces.", location))
    return issues


def _is_empty(value: Any) -> bool:
    if value is None or isinstance(value, bool | np.bool_ | int | float | np.number):
        return False
    if isinstance(value, Opaque):
        return value.shape is not None and 0 in value.shape
    if isinstance(value, np.ndarray):
        return value.ndim > 0 and (value.size == 0 or value.shape[0] == 0)
    try:
        return len(value) == 0
    except TypeError:
        return False


def check_uns(ds: Dataset, index: OntologyIndex) -> list[Issue]:
    uns = ds.uns
    issues: list[Issue] = []
    for key in ("organism_ontology_term_id", "title"):
        if key not in uns:
            issues.append(issue("uns.missing_key", f"'{key}' in 'uns' is not present.", f"uns.{key}"))
    for key, value in uns.items():
        if _is_empty(value):
            issues.append(issue("uns.empty_value", f"uns['{key}'] cannot be an empty value.", f"uns.{key}"))
    if "organism_ontology_term_id" in uns:
        for problem in check_term_value(uns["organism_ontology_term_id"], "organism_ontology_term_id", ORGANISM, index):
            issues.append(issue(problem.code, problem.message, "uns.organism_ontology_term_id", values=[problem.term]))
    if "title" in uns:
        issues += check_string(uns["title"], "uns['title']")
    if "X_approximate_distribution" in uns:
        value = uns["X_approximate_distribution"]
        found = check_string(value, "uns['X_approximate_distribution']")
        if not found and value not in APPROXIMATE_DISTRIBUTIONS:
            found.append(
                issue(
                    "uns.invalid_value",
                    f"'{value}' in 'uns['X_approximate_distribution']' is not valid. "
                    f"Allowed terms: {APPROXIMATE_DISTRIBUTIONS}.",
                    "uns.X_approximate_distribution",
                )
            )
        issues += found
    if "default_embedding" in uns:
        value = uns["default_embedding"]
        found = check_string(value, "uns['default_embedding']")
        if not found and value not in ds.obsm:
            found.append(
                issue(
                    "uns.default_embedding",
                    f"'{value}' in 'uns['default_embedding']' is not valid, it must be a key of 'adata.obsm'.",
                    "uns.default_embedding",
                    values=[value],
                )
            )
        issues += found
    if "batch_condition" in uns:
        issues += _batch_condition(ds, uns["batch_condition"])
    for key, value in uns.items():
        if key.endswith("_colors"):
            issues += _colors(ds, key, value)
    if "genetic_perturbations" in uns:
        issues += _perturbations(ds, uns["genetic_perturbations"], index)
    return issues


def _batch_condition(ds: Dataset, value: Any) -> list[Issue]:
    if not isinstance(value, list | np.ndarray):
        return [
            issue(
                "uns.not_list",
                f"'{value}' in 'uns['batch_condition']' is not valid, it must be a list or numpy array.",
                "uns.batch_condition",
            )
        ]
    columns = set(ds.obs.columns) if ds.obs is not None else set()
    return [
        issue(
            "uns.batch_condition",
            f"Value '{name}' of list 'batch_condition' is not a column in 'adata.obs'.",
            "uns.batch_condition",
            values=[name],
        )
        for name in np.asarray(value).ravel().tolist()
        if name not in columns
    ]


def _colors(ds: Dataset, key: str, value: Any) -> list[Issue]:
    column_name = key.replace("_colors", "")
    location = f"uns.{key}"
    column = ds.obs.columns.get(column_name) if ds.obs is not None else None
    distinct = 0
    if column is not None and column.is_categorical:
        distinct = len([v for v in column.unique_values() if v is not None])
    if not distinct:
        message = f"Colors field uns[{key}] does not have a corresponding categorical field in obs"
        if column is not None:
            message += f". {column_name} is present but is dtype {column.dtype_name}"
        if column_name in PORTAL_LABEL_COLUMNS:
            message += f". Annotate {column_name}_ontology_term_id_colors instead"
        return [issue("uns.colors", message, location)]
    if not isinstance(value, np.ndarray):
        return [
            issue(
                "uns.colors",
                f"Colors field uns['{key}'] must be of 'numpy.ndarray' type, it is {type(value)}",
                location,
            )
        ]
    colors = value.ravel().tolist()
    if not all(isinstance(c, str) for c in colors):
        return [
            issue(
                "uns.colors",
                f"Colors in uns[{key}] must be strings. Found: {value} which are {value.dtype.name}",
                location,
            )
        ]
    issues = []
    if len(colors) < distinct:
        issues.append(
            issue(
                "uns.colors",
                f"Annotated categorical field {column_name} must have at least {distinct} "
                f"color options in uns[{key}]. Found: {value}",
                location,
            )
        )
    if not (all(_HEX_COLOR.match(c) for c in colors) or all(c in CSS4_COLORS for c in colors)):
        issues.append(
            issue(
                "uns.colors",
                f"Colors in uns[{key}] must be either all hex colors or all CSS4 named colors. Found: {value}",
                location,
            )
        )
    return issues


def _perturbations(ds: Dataset, value: Any, index: OntologyIndex) -> list[Issue]:
    path = "uns['genetic_perturbations']"
    location = "uns.genetic_perturbations"
    if not isinstance(value, dict):
        return [issue("uns.not_dict", f"'{value}' in '{path}' is not valid, it must be a dictionary.", location)]
    issues: list[Issue] = []
    if "na" in value:
        issues.append(
            issue(
                "uns.forbidden_key",
                f"Key 'na' MUST NOT be present in '{path}'. Remove it from the h5ad and try again.",
                location,
            )
        )
    for key, entry in value.items():
        if not PERTURBATION_KEY.match(key):
            continue
        entry_path = f"{path}['{key}']"
        if not isinstance(entry, dict):
            issues.append(
                issue("uns.not_dict", f"'{entry}' in '{entry_path}' is not valid, it must be a dictionary.", location)
            )
            continue
        for required in ("role", "protospacer_sequence", "protospacer_adjacent_motif"):
            if required not in entry:
                issues.append(issue("uns.missing_key", f"'{required}' in '{entry_path}' is not present.", location))
        if "role" in entry:
            found = check_string(entry["role"], f"{entry_path}['role']")
            if not found and entry["role"] not in ("control", "targeting"):
                found.append(
                    issue(
                        "uns.invalid_value",
                        f"'{entry['role']}' in '{entry_path}['role']' is not valid. "
                        "Allowed terms: ['control', 'targeting'].",
                        location,
                    )
                )
            issues += found
        for name, pattern in (("protospacer_sequence", PROTOSPACER), ("protospacer_adjacent_motif", PAM)):
            if name in entry:
                found = check_string(entry[name], f"{entry_path}['{name}']")
                if not found and not pattern.fullmatch(entry[name]):
                    found.append(
                        issue(
                            "uns.invalid_value",
                            f"'{entry[name]}' in '{entry_path}['{name}']' does not match the required pattern.",
                            location,
                        )
                    )
                issues += found
        if "intended_features" in entry:
            issues += _intended_features(
                ds, entry["intended_features"], f"{entry_path}['intended_features']", location, index
            )
        extra = sorted(k for k in entry if k not in PERTURBATION_ENTRY_KEYS and k not in RESERVED_ENTRY_KEYS)
        if extra:
            issues.append(
                issue(
                    "uns.unexpected_keys",
                    f"'{entry_path}' contains unexpected key(s) {extra}. "
                    "Additional key-value pairs MUST NOT be present.",
                    location,
                )
            )
    return issues


def _intended_features(ds: Dataset, value: Any, path: str, location: str, index: OntologyIndex) -> list[Issue]:
    if not isinstance(value, dict):
        return [issue("uns.not_dict", f"'{value}' in '{path}' is not valid, it must be a dictionary.", location)]
    issues: list[Issue] = []
    extra = sorted(k for k in value if not re.fullmatch(r"\S+", k))
    for key, name in value.items():
        if re.match(r"^\S+$", key):
            issues += check_string(name, f"{path}['{key}']")
    if extra:
        issues.append(
            issue(
                "uns.unexpected_keys",
                f"'{path}' contains unexpected key(s) {extra}. Additional key-value pairs MUST NOT be present.",
                location,
            )
        )
    if value:
        issues += check_feature_ids(np.array(list(value), dtype=object), path, ds.organism, index)
    return issues
