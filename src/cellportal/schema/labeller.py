"""Add the labels the reference labeller (cellxgene-schema ``write_labels.py``) adds, with the same values.

obs gets ``cell_type``, ``assay``, ``disease``, ``sex``, ``tissue``, ``self_reported_ethnicity``,
``development_stage`` (and ``experimental_condition`` / ``perturbation_types`` when the 7.1 columns are
present) and ``observation_joinid``; var and raw.var get ``feature_name``, ``feature_reference``,
``feature_biotype``, ``feature_length``, ``feature_type``; uns gets ``organism``, ``schema_version``,
``schema_reference`` and ``is_pre_analysis``. Label columns are built with the same pandas operations as the
reference (``Series.map(mapping).astype("category")``), so category order and dtypes match.

The matrices are copied HDF5 object by HDF5 object into the new file, never loaded: only obs, var,
raw.var and uns are rewritten.
"""

from __future__ import annotations

from base64 import b85encode
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cellportal.schema import reference_files
from cellportal.schema.ontology import OntologyIndex, ontology_index
from cellportal.schema.report import SCHEMA_VERSION

if TYPE_CHECKING:
    import h5py
    import pandas as pd

    from cellportal.schema.report import ValidationReport

SCHEMA_REFERENCE = f"https://github.com/chanzuckerberg/single-cell-curation/blob/main/schema/{SCHEMA_VERSION}/schema.md"
DELIMITER = " || "

# source column -> (label column, values passed through unchanged, whether " || " lists are allowed);
# the pass-through values are the union of the column's exceptions over all its rules, as the reference
# flattens them.
OBS_LABELS: tuple[tuple[str, str, frozenset[str], bool], ...] = (
    ("cell_type_ontology_term_id", "cell_type", frozenset({"unknown", "na"}), False),
    ("assay_ontology_term_id", "assay", frozenset(), False),
    ("disease_ontology_term_id", "disease", frozenset(), True),
    ("sex_ontology_term_id", "sex", frozenset({"unknown", "na"}), False),
    ("tissue_ontology_term_id", "tissue", frozenset({"unknown"}), False),
    ("self_reported_ethnicity_ontology_term_id", "self_reported_ethnicity", frozenset({"unknown", "na"}), True),
    ("development_stage_ontology_term_id", "development_stage", frozenset({"unknown", "na"}), False),
    ("experimental_condition_ontology_term_id", "experimental_condition", frozenset({"na"}), True),
)
# cell_type_ontology_term_id may be absent from pre-analysis datasets (which the validator accepts).
OPTIONAL_OBS_SOURCES = frozenset({"experimental_condition_ontology_term_id", "cell_type_ontology_term_id"})
DIET, FASTING, TEMPERATURE = "EFO:0002755", "EFO:0002756", "EFO:0001702"


class InvalidDatasetError(ValueError):
    """The dataset does not pass validation, so it cannot be labelled. ``report`` says why."""

    def __init__(self, report: ValidationReport) -> None:
        self.report = report
        summary = "; ".join(f"{i.code}: {i.message}" for i in report.errors[:5])
        more = f" (and {len(report.errors) - 5} more)" if len(report.errors) > 5 else ""
        super().__init__(f"{report.path} is not valid under schema {SCHEMA_VERSION}: {summary}{more}")


def _term_label(term: str, index: OntologyIndex) -> str:
    lookup, prefix = (term[len("anti-") :], "anti-") if term.startswith("anti-") else (term, "")
    found = index.term(lookup)
    if found is None:
        raise ValueError(f"Add labels error: Unable to get label for '{term}'")
    return prefix + found.label


def _curie_mapping(ids: list[Any], passthrough: frozenset[str], multi: bool, index: OntologyIndex) -> dict[Any, str]:
    mapping: dict[Any, str] = {}
    for term in ids:
        if term in passthrough:
            mapping[term] = term
        elif multi:
            mapping[term] = DELIMITER.join(_term_label(part, index) for part in str(term).split(DELIMITER))
        else:
            mapping[term] = _term_label(str(term), index)
    return mapping


def _perturbation_type(condition: str | None, perturbation: str | None, index: OntologyIndex) -> str:
    no_condition = condition is None or condition == "na"
    no_perturbation = perturbation is None or perturbation == "na"
    if no_condition and no_perturbation:
        return "no perturbations"
    kinds: set[str] = set()
    if not no_condition:
        assert condition is not None
        for term in condition.split(DELIMITER):
            if term.startswith("CHEBI:"):
                kinds.add("chemical")
            elif term.startswith(("uniprot:", "anti-uniprot:")):
                kinds.add("protein")
            elif term == TEMPERATURE:
                kinds.add("temperature")
            elif term.startswith("EFO:") and (term == FASTING or index.is_descendant_of(term, DIET, inclusive=True)):
                kinds.add("diet")
    if not no_perturbation:
        kinds.add("genetic")
    return DELIMITER.join(sorted(kinds)) if kinds else "no perturbations"


def observation_joinid(names: pd.Index) -> pd.Series:
    """The reference's join id: xxh3_64 of the obs name, as 8 big-endian bytes, base85-encoded."""
    import numpy as np
    import xxhash

    series = names.to_series()
    if not series.is_unique:
        raise ValueError("obs names must be unique to compute observation_joinid")
    # xxhash 3.x (the reference's) hashes a str as its UTF-8 bytes; 4.x wants the bytes explicitly.
    return (
        series.map(lambda name: xxhash.xxh3_64_intdigest(str(name).encode("utf-8")))
        .astype(np.uint64)
        .apply(lambda value: b85encode(int(value).to_bytes(8, "big")).decode("ascii"))
    )


def _feature_lookup(ids: list[str]) -> dict[str, tuple[str, int]]:
    from cellportal.schema.rules.features import locate_features

    hits = locate_features(ids)
    out = {}
    for feature in ids:
        hit = hits[str(feature)]
        if hit is None:
            raise ValueError(f"Add labels error: '{feature}' is in no gene reference")
        out[feature] = (hit.organism, hit.row)
    return out


def label_features(frame: pd.DataFrame) -> pd.DataFrame:
    """Add the five feature label columns to a var (or raw.var) dataframe, as the reference does."""
    import pandas as pd

    original = pd.Series(frame.index)
    original.index = frame.index
    ids = frame.index.drop_duplicates().tolist()
    where = _feature_lookup(ids)

    def table(feature: str) -> reference_files.GeneTable:
        return reference_files.gene_table(where[feature][0])

    mappings: dict[str, dict[str, Any]] = {
        "feature_name": {f: table(f).gene_name[where[f][1]] for f in ids},
        "feature_reference": {f: where[f][0] for f in ids},
        "feature_biotype": {f: "spike-in" if f.startswith("ERCC") else "gene" for f in ids},
        "feature_length": {f: table(f).gene_length[where[f][1]] for f in ids},
        "feature_type": {f: table(f).gene_type[where[f][1]] for f in ids},
    }
    for column, mapping in mappings.items():
        frame[column] = original.copy().map(mapping).astype("category")
    return frame


def label_obs(obs: pd.DataFrame, index: OntologyIndex) -> pd.DataFrame:
    import pandas as pd

    for source, target, passthrough, multi in OBS_LABELS:
        if source not in obs.columns:
            if source in OPTIONAL_OBS_SOURCES:
                continue
            raise ValueError(f"Add labels error: obs has no column '{source}'")
        column = obs[source]
        mapping = _curie_mapping(column.drop_duplicates().tolist(), passthrough, multi, index)
        obs[target] = column.copy().map(mapping).astype("category")
    has_condition = "experimental_condition_ontology_term_id" in obs.columns
    has_perturbation = "genetic_perturbation_id" in obs.columns
    if has_condition or has_perturbation:
        conditions = obs["experimental_condition_ontology_term_id"].astype(str) if has_condition else None
        perturbations = obs["genetic_perturbation_id"].astype(str) if has_perturbation else None
        left = conditions if conditions is not None else ["na"] * len(obs)
        right = perturbations if perturbations is not None else ["na"] * len(obs)
        pairs = list(zip(left, right, strict=True))
        kinds = {pair: _perturbation_type(pair[0], pair[1], index) for pair in set(pairs)}
        obs["perturbation_types"] = pd.Categorical([kinds[pair] for pair in pairs])
    return obs


def _label_intended_features(uns: dict[str, Any]) -> None:
    perturbations = uns.get("genetic_perturbations")
    if not isinstance(perturbations, dict):
        return
    for entry in perturbations.values():
        features = entry.get("intended_features") if isinstance(entry, dict) else None
        if isinstance(features, dict) and features:
            where = _feature_lookup(list(features))
            for feature in list(features):
                organism, row = where[feature]
                features[feature] = reference_files.gene_table(organism).gene_name[row]


def labelled_elements(source: h5py.File) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None, dict[str, Any]]:
    """obs, var, raw.var (None without raw) and uns of an open .h5ad, with the labels added."""
    from anndata.io import read_elem

    index = ontology_index()
    obs = label_obs(read_elem(source["obs"]), index)
    for column in obs.columns:
        if obs[column].dtype.name == "category":
            obs[column] = obs[column].cat.remove_unused_categories()
    obs["observation_joinid"] = observation_joinid(obs.index)
    var = label_features(read_elem(source["var"]))
    raw_var = label_features(read_elem(source["raw/var"])) if "raw/var" in source else None
    uns = read_elem(source["uns"]) if "uns" in source else {}
    organism = uns["organism_ontology_term_id"]
    uns["organism"] = _term_label(str(organism), index)
    _label_intended_features(uns)
    uns["schema_version"] = SCHEMA_VERSION
    uns["schema_reference"] = SCHEMA_REFERENCE
    uns["is_pre_analysis"] = False
    return obs, var, raw_var, uns


def write_labels(path: str | Path, out: str | Path) -> None:
    """Write a labelled copy of ``path`` to ``out`` without validating it (see :func:`add_labels`)."""
    _write_labelled(Path(path), Path(out), link_data=False)


def write_labelled_view(path: str | Path, out: str | Path) -> None:
    """Write ``out``: the labelled obs, var, raw.var and uns, and every other element of ``path`` (X, raw.X,
    obsm, layers, ...) as an HDF5 external link to it.

    Read through h5py (or anndata) it is the labelled dataset, but it takes seconds to write and a few MB,
    whatever the size of the matrices: the pipeline writes it once and every converter reads it, so the
    labelled download is not on the path of the other formats. ``path`` must stay where it is while ``out``
    is read (the link holds its absolute path).
    """
    _write_labelled(Path(path), Path(out), link_data=True)


def _write_labelled(path: Path, out: Path, *, link_data: bool) -> None:
    import h5py
    from anndata.io import write_elem

    from cellportal.schema.h5ad import outside_references

    source_name = str(path.resolve())
    staging = out.with_name(f".{out.name}.partial")

    def carry(source: h5py.Group, target: h5py.Group, name: str) -> None:
        if link_data:
            target[name] = h5py.ExternalLink(source_name, f"{source.name.rstrip('/')}/{name}")
        else:
            source.copy(source[name], target, name=name)

    with h5py.File(path, "r") as source:
        outside = outside_references(source)
        if outside:
            # The validator refuses such an upload; never write (or link) a labelled file that would read
            # another file of this server.
            raise ValueError(f"{path.name} links to data outside itself: {'; '.join(outside[:5])}")
        obs, var, raw_var, uns = labelled_elements(source)
        with h5py.File(staging, "w") as target:
            for key, value in source.attrs.items():
                target.attrs[key] = value
            for name in source:
                if name in {"obs", "var", "uns", "raw"}:
                    continue
                carry(source, target, name)
            if "raw" in source:
                raw = target.create_group("raw")
                for key, value in source["raw"].attrs.items():
                    raw.attrs[key] = value
                for name in source["raw"]:
                    if name != "var":
                        carry(source["raw"], raw, name)
                write_elem(raw, "var", raw_var)
            write_elem(target, "obs", obs)
            write_elem(target, "var", var)
            write_elem(target, "uns", uns)
    staging.replace(out)


def add_labels(path: str | Path, out: str | Path) -> None:
    """Validate ``path`` and, when it is valid, write the labelled copy to ``out``.

    Raises :class:`InvalidDatasetError` (with the report) when the file does not pass validation.
    """
    from cellportal.schema.validator import validate

    report = validate(path)
    if not report.valid:
        raise InvalidDatasetError(report)
    write_labels(path, out)
