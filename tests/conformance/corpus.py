"""The conformance corpus: small valid datasets and invalid ones that each break one schema rule.

Every case starts from a dataset of the demo generator (``cellportal.demo.generator``), read into memory,
and changes one thing: a column, a key, a term, an encoding. Files are a few hundred cells and at most a
few hundred genes, so the whole corpus builds in seconds and the reference validates it in a minute or two.
A case's ``rule`` says, in the schema's words, what it breaks (or, for a valid case, what it exercises);
its ``group`` is the rule family used in reports.
"""

from __future__ import annotations

import multiprocessing
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import scipy.sparse as sp

from cellportal.demo.generator import generate_dataset
from cellportal.demo.presets import FEMALE, MALE, NORMAL, Condition, Donor, Population, Preset
from cellportal.schema.reference_files import gene_table

Builder = Callable[[Path], None]


@dataclass(frozen=True)
class Case:
    name: str
    group: str
    rule: str
    valid: bool
    build: Builder
    # Set when the schema and the reference disagree on this case: why the reference decides otherwise.
    reference_deviation: str | None = None


CASES: list[Case] = []


def case(
    name: str, group: str, rule: str, *, valid: bool = False, reference_deviation: str | None = None
) -> Callable[[Builder], Builder]:
    def register(build: Builder) -> Builder:
        if any(existing.name == name for existing in CASES):
            raise ValueError(f"duplicate corpus case {name!r}")
        CASES.append(Case(name, group, rule, valid, build, reference_deviation))
        return build

    return register


def build_corpus(directory: Path, names: list[str] | None = None, processes: int = 1) -> dict[str, Path]:
    """Write the cases (all, or those named) into `directory`; return name -> path.

    With ``processes > 1`` the cases are split among forked workers (builders are closures, so they are
    found by name in the forked copy of this module rather than pickled).
    """
    directory.mkdir(parents=True, exist_ok=True)
    chosen = [item.name for item in CASES if names is None or item.name in names]
    if processes > 1 and len(chosen) > 1:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            pool.starmap(_build_one, [(name, directory) for name in chosen], chunksize=1)
    else:
        for name in chosen:
            _build_one(name, directory)
    return {name: directory / f"{name}.h5ad" for name in chosen}


def _build_one(name: str, directory: Path) -> None:
    item = next(item for item in CASES if item.name == name)
    item.build(directory / f"{name}.h5ad")


# --- bases ---------------------------------------------------------------------------------------------------

RAT_LIVER = Preset(
    name="rat_liver",
    title="Rat liver cells",
    organism_ontology_term_id="NCBITaxon:10116",
    tissue_ontology_term_id="UBERON:0002107",  # liver
    tissue_type="tissue",
    assay_ontology_term_ids=("EFO:0009922",),
    suspension_type="cell",
    populations=(
        Population("Hepatocyte", "CL:0000182", 0.6, ("Alb", "Apoa1", "Ttr", "Cyp2e1"), (-5.0, 0.0)),
        Population("Kupffer", "CL:0000091", 0.2, ("Clec4f", "Cd68", "Marco", "Ptprc"), (5.0, 3.0)),
        Population("Stellate", "CL:0000632", 0.1, ("Lrat", "Des"), (2.0, -6.0)),
        Population("Endothelial", "CL:0000115", 0.1, ("Pecam1", "Kdr"), (6.0, -2.0)),
    ),
    # Species without a stage ontology of their own use UBERON life-cycle stages.
    donors=(
        Donor("R1", MALE, "na", "UBERON:0000113", NORMAL),
        Donor("R2", FEMALE, "na", "UBERON:0018241", NORMAL),
    ),
    conditions=(Condition("control"),),
)

ZEBRAFISH = Preset(
    name="zebrafish_larva",
    title="Whole zebrafish adults, dissociated",
    organism_ontology_term_id="NCBITaxon:7955",
    tissue_ontology_term_id="ZFA:0001094",  # whole organism
    tissue_type="tissue",
    assay_ontology_term_ids=("EFO:0009922",),
    suspension_type="cell",
    populations=(
        Population("Erythrocyte", "CL:0000232", 0.3, ("hbaa1",), (-5.0, 0.0)),
        Population("Keratinocyte", "ZFA:0009158", 0.3, ("krt4", "krt5"), (4.0, 4.0)),  # a ZFA cell type
        Population("Macrophage", "ZFA:0009141", 0.2, ("cd74a", "lyz"), (3.0, -5.0)),
        Population("Fibroblast", "CL:0000057", 0.2, ("col1a1a",), (-2.0, 6.0)),
    ),
    donors=(Donor("Z1", MALE, "na", "ZFS:0000044", NORMAL), Donor("Z2", FEMALE, "na", "ZFS:0000044", NORMAL)),
    conditions=(Condition("control"),),
)

_PRESETS = {"rat_liver": RAT_LIVER, "zebrafish": ZEBRAFISH}


@cache
def _generated(preset: str, n_cells: int, n_genes: int, density: float, include_raw: bool, dense_x: bool) -> Path:
    directory = Path(tempfile.mkdtemp(prefix="cellportal-corpus-base-"))
    return generate_dataset(
        directory / "base.h5ad",
        n_cells=n_cells,
        n_genes=n_genes,
        preset=_PRESETS.get(preset, preset),
        seed=5,
        density=density,
        include_raw=include_raw,
        dense_x=dense_x,
        n_pcs=10,
    )


def base(
    preset: str = "human_blood",
    *,
    n_cells: int = 160,
    n_genes: int = 120,
    density: float = 0.12,
    include_raw: bool = True,
    dense_x: bool = False,
) -> ad.AnnData:
    """A fresh in-memory copy of a small valid generated dataset."""
    return _loaded(preset, n_cells, n_genes, density, include_raw, dense_x).copy()


@cache
def _loaded(preset: str, n_cells: int, n_genes: int, density: float, include_raw: bool, dense_x: bool) -> ad.AnnData:
    return ad.read_h5ad(_generated(preset, n_cells, n_genes, density, include_raw, dense_x))


def write(adata: ad.AnnData, path: Path) -> None:
    # Keep string columns as they are: a case that makes a column non-categorical must stay so on disk.
    adata.write_h5ad(path, convert_strings_to_categoricals=False)


def set_obs(adata: ad.AnnData, column: str, values: object, categorical: bool = True) -> None:
    """Replace an obs column; categorical with only the categories in use, as curated files are."""
    series = pd.Series(values, index=adata.obs_names) if not np.isscalar(values) else None
    if series is None:
        series = pd.Series([values] * adata.n_obs, index=adata.obs_names)
    adata.obs[column] = pd.Categorical(series) if categorical else series.to_numpy()


def alternate(adata: ad.AnnData, first: str, second: str) -> list[str]:
    """Half the cells get `first`, the other half `second` (so a bad value sits next to good ones)."""
    return [first if i % 2 == 0 else second for i in range(adata.n_obs)]


def set_features(adata: ad.AnnData, ids: list[str]) -> None:
    """Rename the features of var and raw.var together."""
    adata.var_names = ids
    if adata.raw is not None:
        raw = adata.raw.to_adata()
        raw.var_names = ids
        adata.raw = raw


def set_raw(adata: ad.AnnData, matrix: object, var: pd.DataFrame | None = None) -> None:
    raw_var = var if var is not None else pd.DataFrame(index=adata.raw.var_names)
    adata.raw = ad.AnnData(X=matrix, var=raw_var, obs=pd.DataFrame(index=adata.obs_names))


def edit_file(path: Path, change: Callable[[h5py.File], None]) -> None:
    with h5py.File(path, "r+") as handle:
        change(handle)


def as_cell_line(adata: ad.AnnData) -> None:
    """Turn the dataset into HeLa cells: a Cellosaurus tissue and 'na' for every donor-level field."""
    set_obs(adata, "tissue_type", "cell line")
    set_obs(adata, "tissue_ontology_term_id", "CVCL_0030")  # HeLa
    for column in ("donor_id", "sex_ontology_term_id", "development_stage_ontology_term_id",
                   "self_reported_ethnicity_ontology_term_id"):  # fmt: skip
        set_obs(adata, column, "na")
    set_obs(adata, "cell_type_ontology_term_id", "CL:0000066")  # epithelial cell
    adata.uns["batch_condition"] = np.array(["condition"], dtype=object)


def as_visium(adata: ad.AnnData, is_single: bool = False) -> None:
    """A Visium V1 dataset of several sections (is_single False): spots are not primary data."""
    set_obs(adata, "assay_ontology_term_id", "EFO:0022857")
    set_obs(adata, "suspension_type", "na")
    adata.obs["is_primary_data"] = False
    adata.uns["spatial"] = {"is_single": is_single}
    rng = np.random.default_rng(0)
    adata.obsm["spatial"] = rng.uniform(0, 5000, (adata.n_obs, 2)).astype(np.float32)


def with_perturbations(adata: ad.AnnData) -> None:
    """A small CRISPR knockout screen: two targeting guides, one control guide, unperturbed cells."""
    adata.uns["genetic_perturbations"] = {
        "sgCD3E_1": {"role": "targeting", "protospacer_sequence": "GGAGCAGGGTCATCCCAGAA",
                     "protospacer_adjacent_motif": "3' NGG"},
        "sgMS4A1_1": {"role": "targeting", "protospacer_sequence": "ACTCCAGCCTGAGTCTACAG",
                      "protospacer_adjacent_motif": "3' NGG"},
        "sgNT_1": {"role": "control", "protospacer_sequence": "GTATTACTGATATTGGTGGG",
                   "protospacer_adjacent_motif": "3' NGG"},
    }  # fmt: skip
    ids = ["na", "sgCD3E_1", "sgMS4A1_1", "sgNT_1", "sgCD3E_1 || sgMS4A1_1"]
    strategies = {"na": "no perturbations", "sgNT_1": "control"}
    per_cell = [ids[i % len(ids)] for i in range(adata.n_obs)]
    set_obs(adata, "genetic_perturbation_id", per_cell)
    set_obs(adata, "genetic_perturbation_strategy", [strategies.get(v, "CRISPR knockout screen") for v in per_cell])


def with_conditions(adata: ad.AnnData, values: list[str]) -> None:
    set_obs(adata, "experimental_condition_ontology_term_id", [values[i % len(values)] for i in range(adata.n_obs)])


# --- valid cases -----------------------------------------------------------------------------------------------

VALID = "valid"


@case("valid_human_blood", VALID, "human PBMC: raw counts in raw.X, log-normalized X", valid=True)
def _(path: Path) -> None:
    write(base(), path)


@case("valid_mouse_brain", VALID, "mouse, single-nucleus, MmusDv stages, ethnicity 'na'", valid=True)
def _(path: Path) -> None:
    write(base("mouse_brain"), path)


@case("valid_human_lung", VALID, "human lung, 10x 5' v2, disease COPD", valid=True)
def _(path: Path) -> None:
    write(base("human_lung"), path)


@case("valid_rat", VALID, "rat (other organism): UBERON development stages, rat gene ids", valid=True)
def _(path: Path) -> None:
    write(base("rat_liver"), path)


@case("valid_zebrafish", VALID, "zebrafish: ZFA tissue and cell types, ZFS stage", valid=True)
def _(path: Path) -> None:
    write(base("zebrafish"), path)


@case("valid_mouse_strain", VALID, "organism is a descendant of NCBITaxon:10090 (Mus musculus domesticus)", valid=True)
def _(path: Path) -> None:
    adata = base("mouse_brain")
    adata.uns["organism_ontology_term_id"] = "NCBITaxon:10092"
    write(adata, path)


@case("valid_counts_only_in_x", VALID, "no raw: X holds the raw integer counts (a warning, not an error)", valid=True)
def _(path: Path) -> None:
    write(base(include_raw=False), path)


@case("valid_dense_x", VALID, "dense X with fewer than half zeros; raw.X is CSR", valid=True)
def _(path: Path) -> None:
    write(base(n_genes=60, density=0.7, dense_x=True), path)


@case("valid_cell_line", VALID, "tissue_type 'cell line': CVCL tissue, 'na' donor, sex, stage, ethnicity", valid=True)
def _(path: Path) -> None:
    adata = base()
    as_cell_line(adata)
    write(adata, path)


@case("valid_cell_line_cell_type_na", VALID, "cell line with cell_type 'na' on every cell-line row", valid=True)
def _(path: Path) -> None:
    adata = base()
    as_cell_line(adata)
    set_obs(adata, "cell_type_ontology_term_id", "na")
    write(adata, path)


@case("valid_organoid", VALID, "tissue_type 'organoid' with an UBERON tissue (brain organoid)", valid=True)
def _(path: Path) -> None:
    adata = base()
    set_obs(adata, "tissue_type", "organoid")
    set_obs(adata, "tissue_ontology_term_id", "UBERON:0000955")
    write(adata, path)


@case("valid_primary_cell_culture", VALID, "tissue_type 'primary cell culture' with a CL tissue term", valid=True)
def _(path: Path) -> None:
    adata = base()
    set_obs(adata, "tissue_type", "primary cell culture")
    set_obs(adata, "tissue_ontology_term_id", alternate(adata, "CL:0000057", "unknown"))
    write(adata, path)


@case("valid_multi_term_disease", VALID, "multi-term MONDO disease, sorted, ' || '", valid=True)
def _(path: Path) -> None:
    adata = base()
    set_obs(adata, "disease_ontology_term_id", alternate(adata, "MONDO:0005002 || MONDO:0100096", "PATO:0000461"))
    write(adata, path)


@case("valid_unknown_values", VALID, "'unknown' cell type, stage, sex and ethnicity", valid=True)
def _(path: Path) -> None:
    adata = base()
    for column in ("cell_type_ontology_term_id", "development_stage_ontology_term_id", "sex_ontology_term_id",
                   "self_reported_ethnicity_ontology_term_id"):  # fmt: skip
        set_obs(adata, column, alternate(adata, "unknown", str(adata.obs[column].iloc[1])))
    write(adata, path)


@case("valid_experimental_conditions", VALID, "7.1 experimental_condition: CHEBI, EFO, uniprot, anti-uniprot, na",
      valid=True)  # fmt: skip
def _(path: Path) -> None:
    adata = base()
    with_conditions(adata, ["na", "CHEBI:41774", "EFO:0001702", "uniprot:P01579",
                            "CHEBI:28748 || anti-uniprot:P01375"])  # fmt: skip
    write(adata, path)


@case("valid_genetic_perturbations", VALID, "7.1 genetic perturbations: uns entries and obs id/strategy", valid=True)
def _(path: Path) -> None:
    adata = base()
    with_perturbations(adata)
    write(adata, path)


@case("valid_visium_multi_section", VALID, "Visium V1, uns.spatial.is_single False, obsm spatial", valid=True)
def _(path: Path) -> None:
    adata = base()
    as_visium(adata)
    write(adata, path)


@case("valid_other_embeddings", VALID, "only X_tsne plus a non-X_ key (a warning), no default_embedding",
      valid=True)  # fmt: skip
def _(path: Path) -> None:
    adata = base()
    adata.obsm = {"X_tsne": adata.obsm["X_umap"], "harmony": adata.obsm["X_pca"]}
    del adata.uns["default_embedding"]
    write(adata, path)


@case("valid_minimal_uns", VALID, "uns with only title and organism; CSS4 colour names elsewhere absent",
      valid=True)  # fmt: skip
def _(path: Path) -> None:
    adata = base()
    adata.uns = {"title": adata.uns["title"], "organism_ontology_term_id": "NCBITaxon:9606"}
    write(adata, path)


@case("valid_css4_colors_and_distribution", VALID, "colours as CSS4 names; X_approximate_distribution 'normal'",
      valid=True)  # fmt: skip
def _(path: Path) -> None:
    adata = base()
    names = ["red", "blue", "green", "orange", "purple", "brown", "pink", "gray", "olive", "cyan"]
    adata.uns["donor_id_colors"] = np.array(names[: adata.obs["donor_id"].nunique()], dtype=object)
    adata.uns["X_approximate_distribution"] = "normal"
    write(adata, path)


@case("valid_filtered_features", VALID, "features zero in X but not in raw.X are flagged feature_is_filtered",
      valid=True)  # fmt: skip
def _(path: Path) -> None:
    adata = base()
    x = adata.X.tolil()
    x[:, [3, 7]] = 0
    adata.X = sp.csr_matrix(x)
    adata.X.eliminate_zeros()
    adata.var["feature_is_filtered"] = np.isin(np.arange(adata.n_vars), [3, 7])
    write(adata, path)


@case("valid_spike_ins", VALID, "ERCC spike-ins and SARS-CoV-2 genes among human features", valid=True)
def _(path: Path) -> None:
    adata = base()
    ids = list(adata.var_names)
    ids[-3:] = ["ERCC-00002", "ERCC-00003", gene_table("NCBITaxon:2697049").gene_id[2]]
    set_features(adata, ids)
    write(adata, path)


@case(
    "valid_bool_categories",
    VALID,
    "a categorical obs column with boolean categories: the schema forbids "
    "them, but the reference checks for Python bool and anndata reads numpy.bool_, so it accepts",
    valid=True,
)
def _(path: Path) -> None:
    adata = base()
    adata.obs["is_doublet"] = pd.Categorical(alternate(adata, "x", "y")).rename_categories([True, False])
    write(adata, path)


@case(
    "valid_perturbations_in_rat",
    VALID,
    "genetic perturbations in a rat: the reference's organism rule only "
    "constrains the column type, so it accepts other organisms",
    valid=True,
)
def _(path: Path) -> None:
    adata = base("rat_liver")
    with_perturbations(adata)
    write(adata, path)


# --- invalid: the file itself ----------------------------------------------------------------------------------

ENCODING = "encoding"


@case("file_not_hdf5", ENCODING, "the file must be an h5ad (HDF5) file")
def _(path: Path) -> None:
    path.write_bytes(b"this is not an HDF5 file\n" * 40)


@case("file_old_encoding_version", ENCODING, "root attribute encoding-version must be 0.1.0 (anndata >= 0.8)")
def _(path: Path) -> None:
    write(base(), path)
    edit_file(path, lambda f: f.attrs.__setitem__("encoding-version", "0.0.9"))


@case("x_csc", ENCODING, "X must be CSR or dense, not CSC")
def _(path: Path) -> None:
    adata = base()
    adata.X = sp.csc_matrix(adata.X)
    write(adata, path)


@case("raw_x_csc", ENCODING, "raw.X must be CSR or dense, not CSC")
def _(path: Path) -> None:
    adata = base()
    set_raw(adata, sp.csc_matrix(adata.raw.X))
    write(adata, path)


@case("layer_csc", ENCODING, "layers must be CSR or dense, not CSC")
def _(path: Path) -> None:
    adata = base()
    adata.layers["counts"] = sp.csc_matrix(adata.raw.X)
    write(adata, path)


@case("x_dense_but_sparse", ENCODING, "a matrix with more than 50% zeros must be CSR, not dense")
def _(path: Path) -> None:
    adata = base()
    adata.X = adata.X.toarray()
    write(adata, path)


# --- invalid: names ----------------------------------------------------------------------------------------------

NAMES = "names"


@case("obs_deprecated_ethnicity", NAMES, "obs 'ethnicity_ontology_term_id' is deprecated")
def _(path: Path) -> None:
    adata = base()
    adata.obs["ethnicity_ontology_term_id"] = adata.obs["self_reported_ethnicity_ontology_term_id"]
    write(adata, path)


@case("obs_deprecated_organism", NAMES, "obs 'organism_ontology_term_id' is deprecated (it lives in uns)")
def _(path: Path) -> None:
    adata = base()
    set_obs(adata, "organism_ontology_term_id", "NCBITaxon:9606")
    write(adata, path)


@case("uns_deprecated_x_normalization", NAMES, "uns 'X_normalization' is deprecated")
def _(path: Path) -> None:
    adata = base()
    adata.uns["X_normalization"] = "log1p"
    write(adata, path)


@case("uns_deprecated_publication_doi", NAMES, "uns 'publication_doi' is deprecated")
def _(path: Path) -> None:
    adata = base()
    adata.uns["publication_doi"] = "https://doi.org/10.1000/xyz"
    write(adata, path)


@case("obs_double_underscore", NAMES, "obs column names must not start with '__'")
def _(path: Path) -> None:
    adata = base()
    adata.obs["__batch"] = adata.obs["donor_id"]
    write(adata, path)


@case("var_double_underscore", NAMES, "var column names must not start with '__'")
def _(path: Path) -> None:
    adata = base()
    adata.var["__gc"] = np.linspace(0, 1, adata.n_vars)
    write(adata, path)


@case("uns_double_underscore", NAMES, "uns keys must not start with '__'")
def _(path: Path) -> None:
    adata = base()
    adata.uns["__notes"] = "internal"
    write(adata, path)


@case("obs_reserved_cell_type", NAMES, "obs 'cell_type' is reserved for add-labels")
def _(path: Path) -> None:
    adata = base()
    adata.obs["cell_type"] = adata.obs["author_cell_type"]
    write(adata, path)


@case("obs_reserved_observation_joinid", NAMES, "obs 'observation_joinid' is reserved")
def _(path: Path) -> None:
    adata = base()
    adata.obs["observation_joinid"] = [f"j{i}" for i in range(adata.n_obs)]
    write(adata, path)


@case("obs_reserved_perturbation_types", NAMES, "obs 'perturbation_types' is reserved (7.1)")
def _(path: Path) -> None:
    adata = base()
    set_obs(adata, "perturbation_types", "no perturbations")
    write(adata, path)


@case("var_reserved_feature_name", NAMES, "var 'feature_name' is reserved for add-labels")
def _(path: Path) -> None:
    adata = base()
    adata.var["feature_name"] = [f"g{i}" for i in range(adata.n_vars)]
    write(adata, path)


@case("uns_reserved_schema_version", NAMES, "uns 'schema_version' is reserved")
def _(path: Path) -> None:
    adata = base()
    adata.uns["schema_version"] = "7.1.0"
    write(adata, path)


@case("uns_reserved_citation", NAMES, "uns 'citation' is reserved")
def _(path: Path) -> None:
    adata = base()
    adata.uns["citation"] = "Someone et al."
    write(adata, path)


@case("uns_reserved_organism", NAMES, "uns 'organism' is reserved for the organism label")
def _(path: Path) -> None:
    adata = base()
    adata.uns["organism"] = "Homo sapiens"
    write(adata, path)


@case("raw_var_feature_is_filtered", NAMES, "raw.var must not contain 'feature_is_filtered'")
def _(path: Path) -> None:
    adata = base()
    set_raw(adata, adata.raw.X, pd.DataFrame({"feature_is_filtered": False}, index=adata.raw.var_names))
    write(adata, path)


# --- invalid: obs columns ----------------------------------------------------------------------------------------

OBS_REQUIRED = "obs.required"
REQUIRED_COLUMNS = (
    "assay_ontology_term_id", "cell_type_ontology_term_id", "development_stage_ontology_term_id",
    "disease_ontology_term_id", "donor_id", "is_primary_data", "self_reported_ethnicity_ontology_term_id",
    "sex_ontology_term_id", "suspension_type", "tissue_type", "tissue_ontology_term_id",
)  # fmt: skip


def _missing_column(column: str) -> Builder:
    def build(path: Path) -> None:
        adata = base()
        del adata.obs[column]
        adata.uns["batch_condition"] = np.array([c for c in adata.uns["batch_condition"] if c != column], dtype=object)
        write(adata, path)

    return build


_SKIPPED_WHEN_MISSING = (
    "cellxgene-schema 7.1.2 skips a missing column that its pre-analysis section lists "
    "(cell_type_ontology_term_id) even when not validating in pre-analysis mode, so it accepts this file"
)
for _column in REQUIRED_COLUMNS:
    case(
        f"obs_missing_{_column}",
        OBS_REQUIRED,
        f"obs must have '{_column}'",
        reference_deviation=_SKIPPED_WHEN_MISSING if _column == "cell_type_ontology_term_id" else None,
    )(_missing_column(_column))


def _obs_value(column: str, value: str, *, preset: str = "human_blood", everywhere: bool = False) -> Builder:
    """Put `value` in `column` (on every other cell, or everywhere)."""

    def build(path: Path) -> None:
        adata = base(preset)
        set_obs(adata, column, value if everywhere else alternate(adata, value, str(adata.obs[column].iloc[1])))
        write(adata, path)

    return build


OBS_TERMS = "obs.terms"
for _name, _column, _value, _rule, _everywhere in (
    ("assay_ancestor_itself", "assay_ontology_term_id", "EFO:0002772",
     "assay: the allowed ancestor itself is not allowed", False),
    ("assay_not_efo", "assay_ontology_term_id", "CL:0000236", "assay must be an EFO term", False),
    ("assay_with_label", "assay_ontology_term_id", "EFO:0009922 (10x 3' v3)", "assay must be a bare term id", False),
    ("cell_type_forbidden", "cell_type_ontology_term_id", "CL:0000255",
     "cell_type: CL:0000255 (eukaryotic cell) is forbidden", False),
    ("cell_type_not_cl", "cell_type_ontology_term_id", "UBERON:0002048", "cell_type must be a CL term", False),
    ("cell_type_deprecated", "cell_type_ontology_term_id", "CL:0008030", "cell_type: obsolete CL term", False),
    ("cell_type_na_not_cell_line", "cell_type_ontology_term_id", "na",
     "cell_type 'na' only for cell lines", False),
    ("cell_type_zfa_for_human", "cell_type_ontology_term_id", "ZFA:0009255",
     "cell_type: ZFA terms only for zebrafish", False),
    ("cell_type_unknown_misspelt", "cell_type_ontology_term_id", "Unknown", "cell_type: 'unknown' is lower case",
     False),
    ("stage_mouse_term_for_human", "development_stage_ontology_term_id", "MmusDv:0000062",
     "development_stage of a human must descend from HsapDv:0000001", False),
    ("stage_na_not_cell_line", "development_stage_ontology_term_id", "na",
     "development_stage 'na' only for cell lines", False),
    ("stage_root_itself", "development_stage_ontology_term_id", "HsapDv:0000001",
     "development_stage: HsapDv:0000001 itself is not allowed", False),
    ("stage_deprecated", "development_stage_ontology_term_id", "HsapDv:0000087",
     "development_stage: obsolete HsapDv term", False),
    ("disease_root_itself", "disease_ontology_term_id", "MONDO:0000001",
     "disease: MONDO:0000001 itself is not allowed", False),
    ("disease_not_mondo", "disease_ontology_term_id", "PATO:0000383", "disease: only PATO:0000461 from PATO",
     False),
    ("disease_multi_with_pato", "disease_ontology_term_id", "MONDO:0100096 || PATO:0000461",
     "disease: multiple terms must all be MONDO", False),
    ("disease_multi_unsorted", "disease_ontology_term_id", "MONDO:0100096 || MONDO:0005002",
     "disease: multiple terms in ascending lexical order", False),
    ("disease_multi_duplicate", "disease_ontology_term_id", "MONDO:0005002 || MONDO:0005002",
     "disease: no duplicated terms", False),
    ("disease_bad_delimiter", "disease_ontology_term_id", "MONDO:0005002|MONDO:0100096",
     "disease: terms joined by ' || '", False),
    ("ethnicity_na_for_human", "self_reported_ethnicity_ontology_term_id", "na",
     "ethnicity of a human (not a cell line) cannot be 'na'", False),
    ("ethnicity_not_population", "self_reported_ethnicity_ontology_term_id", "HANCESTRO:0005",
     "ethnicity must descend from HANCESTRO:0601 or HANCESTRO:0602", False),
    ("ethnicity_multi_unsorted", "self_reported_ethnicity_ontology_term_id", "HANCESTRO:0590 || HANCESTRO:0021",
     "ethnicity: multiple terms in ascending lexical order", False),
    ("sex_not_allowed", "sex_ontology_term_id", "PATO:0000461", "sex must be female, male, hermaphrodite", False),
    ("sex_na_not_cell_line", "sex_ontology_term_id", "na", "sex 'na' only for cell lines", False),
    ("tissue_not_anatomy", "tissue_ontology_term_id", "UBERON:0000105",
     "tissue must descend from UBERON:0001062 (anatomical entity)", False),
    ("tissue_cl_for_tissue", "tissue_ontology_term_id", "CL:0000236",
     "tissue of tissue_type 'tissue' must be UBERON", False),
    ("tissue_cvcl_for_tissue", "tissue_ontology_term_id", "CVCL_0030",
     "a Cellosaurus tissue only for cell lines", False),
    ("tissue_type_cell_culture", "tissue_type", "cell culture", "tissue_type 'cell culture' was removed", True),
    ("suspension_type_not_enum", "suspension_type", "single cell", "suspension_type in {cell, nucleus, na}", True),
    ("suspension_type_na_for_10x", "suspension_type", "na", "10x 3' v3 needs suspension_type cell or nucleus",
     True),
    ("donor_id_na", "donor_id", "na", "donor_id 'na' only for cell lines", False),
    ("donor_id_empty", "donor_id", " ", "donor_id must not be empty", False),
):  # fmt: skip
    case(f"obs_{_name}", OBS_TERMS, _rule)(_obs_value(_column, _value, everywhere=_everywhere))

case("obs_ethnicity_hancestro_for_mouse", OBS_TERMS, "ethnicity of a non-human organism must be 'na'")(
    _obs_value("self_reported_ethnicity_ontology_term_id", "HANCESTRO:0590", preset="mouse_brain")
)
case("obs_stage_human_term_for_mouse", OBS_TERMS, "development_stage of a mouse must descend from MmusDv:0000001")(
    _obs_value("development_stage_ontology_term_id", "HsapDv:0000149", preset="mouse_brain")
)
case("obs_stage_hsapdv_for_rat", OBS_TERMS, "development_stage of other organisms must be UBERON life-cycle stages")(
    _obs_value("development_stage_ontology_term_id", "HsapDv:0000149", preset="rat_liver")
)
case("obs_tissue_zfa_for_human", OBS_TERMS, "tissue: ZFA terms only for zebrafish")(
    _obs_value("tissue_ontology_term_id", "ZFA:0000107")
)
case("obs_stage_zfs_unknown_term", OBS_TERMS, "zebrafish development_stage must not be ZFS:0000000")(
    _obs_value("development_stage_ontology_term_id", "ZFS:0000000", preset="zebrafish")
)

TISSUE_TYPE = "obs.tissue_type"


@case("organoid_embryo", TISSUE_TYPE, "organoid tissue must not be UBERON:0000922 (embryo)")
def _(path: Path) -> None:
    adata = base()
    set_obs(adata, "tissue_type", "organoid")
    set_obs(adata, "tissue_ontology_term_id", "UBERON:0000922")
    write(adata, path)


@case("primary_cell_culture_uberon", TISSUE_TYPE, "primary cell culture tissue must be a cell type term")
def _(path: Path) -> None:
    adata = base()
    set_obs(adata, "tissue_type", "primary cell culture")
    write(adata, path)


@case("cell_line_uberon_tissue", TISSUE_TYPE, "cell line tissue must be a Cellosaurus (CVCL) term")
def _(path: Path) -> None:
    adata = base()
    as_cell_line(adata)
    set_obs(adata, "tissue_ontology_term_id", "UBERON:0000178")
    write(adata, path)


@case("cell_line_donor_not_na", TISSUE_TYPE, "cell line donor_id must be 'na'")
def _(path: Path) -> None:
    adata = base()
    as_cell_line(adata)
    set_obs(adata, "donor_id", "HeLa-1")
    write(adata, path)


@case("cell_line_sex_not_na", TISSUE_TYPE, "cell line sex must be 'na'")
def _(path: Path) -> None:
    adata = base()
    as_cell_line(adata)
    set_obs(adata, "sex_ontology_term_id", FEMALE)
    write(adata, path)


@case("cell_line_stage_not_na", TISSUE_TYPE, "cell line development_stage must be 'na'")
def _(path: Path) -> None:
    adata = base()
    as_cell_line(adata)
    set_obs(adata, "development_stage_ontology_term_id", "HsapDv:0000136")
    write(adata, path)


@case("cell_line_ethnicity_not_na", TISSUE_TYPE, "cell line self_reported_ethnicity must be 'na'")
def _(path: Path) -> None:
    adata = base()
    as_cell_line(adata)
    set_obs(adata, "self_reported_ethnicity_ontology_term_id", "HANCESTRO:0568")
    write(adata, path)


@case("cell_line_cell_type_partly_na", TISSUE_TYPE, "cell line cell_type: 'na' on all cell-line rows or none")
def _(path: Path) -> None:
    adata = base()
    as_cell_line(adata)
    set_obs(adata, "cell_type_ontology_term_id", alternate(adata, "na", "CL:0000066"))
    write(adata, path)


OBS_TYPES = "obs.types"


@case("obs_is_primary_data_strings", OBS_TYPES, "is_primary_data must be boolean")
def _(path: Path) -> None:
    adata = base()
    adata.obs["is_primary_data"] = np.array(["True"] * adata.n_obs, dtype=object)
    write(adata, path)


@case("obs_donor_id_not_categorical", OBS_TYPES, "donor_id must be categorical")
def _(path: Path) -> None:
    adata = base()
    adata.obs["donor_id"] = adata.obs["donor_id"].astype(str).to_numpy(dtype=object)
    write(adata, path)


@case("obs_cell_type_nan", OBS_TYPES, "ontology columns must not contain NaN")
def _(path: Path) -> None:
    adata = base()
    column = adata.obs["cell_type_ontology_term_id"].copy()
    column.iloc[::7] = np.nan
    adata.obs["cell_type_ontology_term_id"] = column
    write(adata, path)


@case("obs_index_not_unique", OBS_TYPES, "obs index (cell names) must be unique")
def _(path: Path) -> None:
    adata = base()
    names = list(adata.obs_names)
    names[5] = names[4]
    adata.obs_names = names
    write(adata, path)


# --- invalid: 7.1 experimental conditions and genetic perturbations --------------------------------------------

PERTURBATION = "obs.perturbation"


def _conditions(values: list[str]) -> Builder:
    def build(path: Path) -> None:
        adata = base()
        with_conditions(adata, values)
        write(adata, path)

    return build


for _name, _values, _rule in (
    ("all_na", ["na"], "experimental_condition must be absent when every value is 'na'"),
    ("unsorted", ["na", "EFO:0001702 || CHEBI:41774"], "experimental_condition terms in ascending order"),
    ("chemical_entity_itself", ["na", "CHEBI:24431"], "experimental_condition: CHEBI:24431 itself is forbidden"),
    ("chebi_role", ["na", "CHEBI:35222"], "experimental_condition: CHEBI roles (CHEBI:50906 subtree) are forbidden"),
    ("efo_not_allowed", ["na", "EFO:0000001"], "experimental_condition: only temperature, diet, fasting from EFO"),
    ("not_an_ontology", ["na", "drug A"], "experimental_condition must be ontology terms"),
    ("uniprot_unknown", ["na", "uniprot:NOTANID"], "experimental_condition: uniprot ids must exist"),
):
    case(f"condition_{_name}", PERTURBATION, _rule)(_conditions(_values))


def _perturbations(change: Callable[[ad.AnnData], None]) -> Builder:
    def build(path: Path) -> None:
        adata = base()
        with_perturbations(adata)
        change(adata)
        write(adata, path)

    return build


def _entry(key: str, field: str, value: object) -> Callable[[ad.AnnData], None]:
    return lambda adata: adata.uns["genetic_perturbations"][key].__setitem__(field, value)


for _name, _change, _rule in (
    ("ids_without_uns", lambda a: a.uns.pop("genetic_perturbations"),
     "genetic_perturbation columns need uns['genetic_perturbations']"),
    ("uns_without_columns", lambda a: a.obs.drop(
        columns=["genetic_perturbation_id", "genetic_perturbation_strategy"], inplace=True),
     "uns['genetic_perturbations'] needs the obs columns"),
    ("strategy_no_perturbation_for_guide", lambda a: set_obs(
        a, "genetic_perturbation_strategy", "no perturbations"),
     "a perturbed cell cannot have strategy 'no perturbations'"),
    ("control_strategy_targeting_role", _entry("sgNT_1", "role", "targeting"),
     "strategy 'control' needs guides whose role is 'control'"),
    ("unknown_id", lambda a: set_obs(a, "genetic_perturbation_id", [
        "sgXYZ_9" if v == "sgCD3E_1" else v for v in a.obs["genetic_perturbation_id"]]),
     "every genetic_perturbation_id must be a key of uns['genetic_perturbations']"),
    ("ids_unsorted", lambda a: set_obs(a, "genetic_perturbation_id", [
        "sgMS4A1_1 || sgCD3E_1" if " || " in v else v for v in a.obs["genetic_perturbation_id"]]),
     "multiple perturbation ids in ascending order"),
    ("protospacer_lowercase", _entry("sgCD3E_1", "protospacer_sequence", "ggagcagggtcatcccagaa"),
     "protospacer_sequence is 14-22 upper-case ACGT"),
    ("pam_malformed", _entry("sgCD3E_1", "protospacer_adjacent_motif", "NGG"),
     "protospacer_adjacent_motif looks like \"3' NGG\""),
    ("role_not_enum", _entry("sgCD3E_1", "role", "guide"), "role is 'control' or 'targeting'"),
    ("extra_key", _entry("sgCD3E_1", "library", "Brunello"), "no keys beyond the schema's in a perturbation"),
    ("reserved_key", _entry("sgCD3E_1", "derived_features", {"ENSG00000198851": "CD3E"}),
     "derived_features is reserved for the portal"),
    ("intended_feature_unknown", _entry("sgCD3E_1", "intended_features", {"ENSG99999999999": "X"}),
     "intended_features keys must be valid feature ids"),
    ("key_na", lambda a: a.uns["genetic_perturbations"].__setitem__("na", {
        "role": "control", "protospacer_sequence": "GTATTACTGATATTGGTGGG", "protospacer_adjacent_motif": "3' NGG"}),
     "'na' must not be a perturbation key"),
    ("strategy_not_enum", lambda a: set_obs(a, "genetic_perturbation_strategy", [
        "CRISPR base editing" if v == "CRISPR knockout screen" else v
        for v in a.obs["genetic_perturbation_strategy"]]),
     "genetic_perturbation_strategy values come from a fixed list"),
):  # fmt: skip
    case(f"perturbation_{_name}", PERTURBATION, _rule)(_perturbations(_change))


# --- invalid: organism -------------------------------------------------------------------------------------------

ORGANISM = "organism"


@case("organism_missing", ORGANISM, "uns['organism_ontology_term_id'] is required")
def _(path: Path) -> None:
    adata = base()
    del adata.uns["organism_ontology_term_id"]
    write(adata, path)


@case("organism_not_allowed", ORGANISM, "organism must be one of the supported taxa (cattle is not)")
def _(path: Path) -> None:
    adata = base()
    adata.uns["organism_ontology_term_id"] = "NCBITaxon:9913"
    write(adata, path)


@case("organism_not_ncbitaxon", ORGANISM, "organism must be an NCBITaxon term")
def _(path: Path) -> None:
    adata = base()
    adata.uns["organism_ontology_term_id"] = "Homo sapiens"
    write(adata, path)


@case("organism_mouse_for_human_data", ORGANISM, "organism must match the features' organism")
def _(path: Path) -> None:
    adata = base()
    adata.uns["organism_ontology_term_id"] = "NCBITaxon:10090"
    set_obs(adata, "development_stage_ontology_term_id", "MmusDv:0000062")
    set_obs(adata, "self_reported_ethnicity_ontology_term_id", "na")
    write(adata, path)


# --- invalid: features -------------------------------------------------------------------------------------------

FEATURES = "features"


def _features(change: Callable[[list[str]], None]) -> Builder:
    def build(path: Path) -> None:
        adata = base()
        ids = list(adata.var_names)
        change(ids)
        set_features(adata, ids)
        write(adata, path)

    return build


def _assign(position: int, value: str) -> Callable[[list[str]], None]:
    return lambda ids: ids.__setitem__(position, value)


for _name, _change, _rule in (
    ("versioned_id", lambda ids: ids.__setitem__(4, ids[4] + ".12"), "feature ids are unversioned"),
    ("mouse_gene_in_human", _assign(4, "ENSMUSG00000027273"), "features are of the dataset's organism"),
    ("unknown_ensembl_id", _assign(4, "ENSG00000999999"), "feature ids exist in the gene reference"),
    ("unknown_spike_in", _assign(4, "ERCC-99999"), "spike-in ids exist in the ERCC reference"),
    ("gene_symbols", lambda ids: ids.__setitem__(slice(0, 3), ["CD3E", "MS4A1", "LYZ"]),
     "feature ids are Ensembl ids, not symbols"),
    ("duplicate_ids", lambda ids: ids.__setitem__(5, ids[4]), "feature ids are unique"),
):  # fmt: skip
    case(f"features_{_name}", FEATURES, _rule)(_features(_change))


@case("raw_var_differs_from_var", FEATURES, "raw.var index must equal var index")
def _(path: Path) -> None:
    adata = base()
    ids = list(adata.raw.var_names)
    ids[0], ids[1] = ids[1], ids[0]
    raw = adata.raw.to_adata()
    raw.var_names = ids
    adata.raw = raw
    write(adata, path)


@case("feature_is_filtered_missing", FEATURES, "var must have 'feature_is_filtered'")
def _(path: Path) -> None:
    adata = base()
    del adata.var["feature_is_filtered"]
    write(adata, path)


@case("feature_is_filtered_not_bool", FEATURES, "feature_is_filtered must be boolean")
def _(path: Path) -> None:
    adata = base()
    adata.var["feature_is_filtered"] = np.zeros(adata.n_vars, dtype=np.int64)
    write(adata, path)


@case("feature_is_filtered_true_without_raw", FEATURES, "without raw, feature_is_filtered must be all False")
def _(path: Path) -> None:
    adata = base(include_raw=False)
    adata.var["feature_is_filtered"] = np.arange(adata.n_vars) == 3
    write(adata, path)


# --- invalid: raw counts -----------------------------------------------------------------------------------------

RAW = "raw"


def _raw(change: Callable[[sp.csr_matrix], sp.csr_matrix]) -> Builder:
    def build(path: Path) -> None:
        adata = base()
        set_raw(adata, change(adata.raw.X.copy()))
        write(adata, path)

    return build


def _halve_one(matrix: sp.csr_matrix) -> sp.csr_matrix:
    matrix.data[10] += 0.5
    return matrix


def _negate_one(matrix: sp.csr_matrix) -> sp.csr_matrix:
    matrix.data[10] = -matrix.data[10]
    return matrix


def _empty_row(matrix: sp.csr_matrix) -> sp.csr_matrix:
    lil = matrix.tolil()
    lil[7, :] = 0
    out = sp.csr_matrix(lil, dtype=np.float32)
    out.eliminate_zeros()
    return out


def _duplicate_row(matrix: sp.csr_matrix) -> sp.csr_matrix:
    lil = matrix.tolil()
    lil[9, :] = lil[8, :]
    return sp.csr_matrix(lil, dtype=np.float32)


for _name, _change, _rule in (
    ("non_integer", _halve_one, "raw counts are integers"),
    ("float64", lambda m: m.astype(np.float64), "raw counts are stored as float32"),
    ("int32", lambda m: m.astype(np.int32), "raw counts are stored as float32, not int32"),
    ("negative", _negate_one, "raw counts are not negative"),
    ("empty_row", _empty_row, "every cell has a non-zero raw count"),
    ("duplicate_rows", _duplicate_row, "no two cells have identical raw counts"),
):
    case(f"raw_{_name}", RAW, _rule)(_raw(_change))


@case("raw_missing_normalized_only", RAW, "without raw.X, X must hold raw counts")
def _(path: Path) -> None:
    adata = base()
    adata.raw = None
    write(adata, path)


@case("raw_normalized_in_both", RAW, "raw.X must hold counts, not normalized values")
def _(path: Path) -> None:
    adata = base()
    set_raw(adata, adata.X.copy())
    write(adata, path)


@case("raw_extra_gene", RAW, "raw.X and X have the same genes")
def _(path: Path) -> None:
    adata = base()
    extra = gene_table("NCBITaxon:9606").gene_id[100]
    matrix = sp.hstack([adata.raw.X, sp.csr_matrix(np.ones((adata.n_obs, 1), dtype=np.float32))]).tocsr()
    set_raw(adata, matrix, pd.DataFrame(index=[*adata.raw.var_names, extra]))
    write(adata, path)


@case("x_only_duplicate_rows", RAW, "no duplicated cells when counts are in X")
def _(path: Path) -> None:
    adata = base(include_raw=False)
    adata.X = _duplicate_row(adata.X.copy())
    write(adata, path)


# --- invalid: obsm -----------------------------------------------------------------------------------------------

OBSM = "obsm"


def _obsm(change: Callable[[ad.AnnData], None]) -> Builder:
    def build(path: Path) -> None:
        adata = base()
        change(adata)
        write(adata, path)

    return build


def _no_embeddings(adata: ad.AnnData) -> None:
    adata.obsm = {}
    del adata.uns["default_embedding"]


def _only_unprefixed(adata: ad.AnnData) -> None:
    adata.obsm = {"umap": adata.obsm["X_umap"]}
    del adata.uns["default_embedding"]


def _umap_with(value: float) -> Callable[[ad.AnnData], None]:
    def change(adata: ad.AnnData) -> None:
        umap = adata.obsm["X_umap"].copy()
        umap[3, 0] = value
        adata.obsm["X_umap"] = umap

    return change


for _name, _change, _rule in (
    ("missing", _no_embeddings, "obsm must hold at least one embedding"),
    ("no_x_prefix", _only_unprefixed, "at least one obsm key starts with 'X_'"),
    ("bad_suffix", lambda a: a.obsm.__setitem__("X_1 umap", a.obsm["X_pca"]), "X_ suffix matches the key regex"),
    ("x_spatial", lambda a: a.obsm.__setitem__("X_spatial", a.obsm["X_umap"]), "'X_spatial' is not allowed"),
    ("one_column", lambda a: a.obsm.__setitem__("X_tsne", a.obsm["X_umap"][:, :1]),
     "X_ embeddings have at least two columns"),
    ("infinite", _umap_with(np.inf), "embeddings have no infinite values"),
    ("all_nan", lambda a: a.obsm.__setitem__("X_tsne", np.full((a.n_obs, 2), np.nan, dtype=np.float32)),
     "embeddings are not all NaN"),
    ("boolean", lambda a: a.obsm.__setitem__("X_bool", a.obsm["X_umap"] > 0), "embeddings are numeric"),
    ("spatial_without_visium", lambda a: a.obsm.__setitem__("spatial", a.obsm["X_umap"]),
     "obsm 'spatial' only when uns.spatial.is_single is set"),
):  # fmt: skip
    case(f"obsm_{_name}", OBSM, _rule)(_obsm(_change))


# --- invalid: uns ------------------------------------------------------------------------------------------------

UNS = "uns"


def _uns(change: Callable[[ad.AnnData], None]) -> Builder:
    return _obsm(change)


def _set_uns(key: str, value: object) -> Callable[[ad.AnnData], None]:
    return lambda adata: adata.uns.__setitem__(key, value)


for _name, _change, _rule in (
    ("title_missing", lambda a: a.uns.pop("title"), "uns['title'] is required"),
    ("title_trailing_space", _set_uns("title", "PBMC atlas "), "title has no trailing spaces"),
    ("title_leading_space", _set_uns("title", " PBMC atlas"), "title has no leading spaces"),
    ("title_double_space", _set_uns("title", "PBMC  atlas"), "title has no double spaces"),
    ("title_not_string", _set_uns("title", 42), "title is a string"),
    ("default_embedding_not_in_obsm", _set_uns("default_embedding", "X_tsne"),
     "default_embedding is a key of obsm"),
    ("batch_condition_not_obs", _set_uns("batch_condition", np.array(["donor_id", "batch"], dtype=object)),
     "batch_condition names obs columns"),
    ("batch_condition_string", _set_uns("batch_condition", "donor_id"), "batch_condition is a list"),
    ("colors_no_column", _set_uns("lineage_colors", np.array(["#ff0000", "#00ff00"], dtype=object)),
     "<col>_colors needs a categorical obs column"),
    ("colors_too_few", _set_uns("author_cell_type_colors", np.array(["#ff0000"], dtype=object)),
     "at least as many colours as categories"),
    ("colors_mixed_formats", lambda a: a.uns.__setitem__("donor_id_colors", np.array(
        ["#ff0000", "blue", "#00ff00", "red", "#0000ff"], dtype=object)), "colours all hex or all CSS4 names"),
    ("colors_not_colors", lambda a: a.uns.__setitem__("donor_id_colors", np.array(
        ["rouge", "bleu", "vert", "noir", "blanc"], dtype=object)), "colours are hex or CSS4 names"),
    ("colors_numeric_column", _set_uns("n_counts_colors", np.array(["#ff0000"], dtype=object)),
     "<col>_colors only for categorical columns"),
    ("colors_label_column", _set_uns("cell_type_colors", np.array(["#ff0000"] * 9, dtype=object)),
     "colours of portal labels are keyed by the ontology column"),
    ("approximate_distribution", _set_uns("X_approximate_distribution", "poisson"),
     "X_approximate_distribution is 'count' or 'normal'"),
    ("empty_value", _set_uns("notes", np.array([], dtype=np.float32)), "uns values are not empty"),
):  # fmt: skip
    case(f"uns_{_name}", UNS, _rule)(_uns(_change))


# --- invalid: spatial --------------------------------------------------------------------------------------------

SPATIAL = "spatial"


def _visium(change: Callable[[ad.AnnData], None]) -> Builder:
    def build(path: Path) -> None:
        adata = base()
        as_visium(adata)
        change(adata)
        write(adata, path)

    return build


for _name, _change, _rule in (
    ("generic_visium_term", lambda a: set_obs(a, "assay_ontology_term_id", "EFO:0010961"),
     "Visium assay must be a descendant of EFO:0010961, not the term itself"),
    ("is_single_missing", lambda a: a.uns.__setitem__("spatial", {}), "uns['spatial'] has 'is_single'"),
    ("is_single_not_bool", lambda a: a.uns.__setitem__("spatial", {"is_single": "no"}), "is_single is boolean"),
    ("uns_spatial_missing", lambda a: (a.uns.pop("spatial"), a.obsm.pop("spatial")),
     "spatial assays need uns['spatial']"),
    ("primary_data_multi_section", lambda a: a.obs.__setitem__("is_primary_data", True),
     "is_primary_data is False when is_single is False"),
    ("two_assays", lambda a: set_obs(a, "assay_ontology_term_id", alternate(a, "EFO:0022857", "EFO:0022858")),
     "a spatial dataset has a single assay"),
    ("library_when_not_single", lambda a: a.uns["spatial"].__setitem__("lib1", {"images": {}}),
     "a library_id only when is_single is True"),
    ("array_row_when_not_single", lambda a: a.obs.__setitem__("array_row", np.arange(a.n_obs) % 78),
     "array_row only for single-section Visium"),
):  # fmt: skip
    case(f"spatial_{_name}", SPATIAL, _rule)(_visium(_change))


VISIUM_SPOTS = 4992  # the unfiltered Visium V1 capture area: 78 rows x 64 spots


def visium_single() -> ad.AnnData:
    """One Visium V1 section (is_single True): every spot of the capture area, with its image."""
    adata = base(n_cells=VISIUM_SPOTS, n_genes=60, density=0.15)
    set_obs(adata, "assay_ontology_term_id", "EFO:0022857")
    set_obs(adata, "suspension_type", "na")
    rows = np.repeat(np.arange(78), 64)
    cols = np.concatenate([np.arange(r % 2, 128, 2) for r in range(78)])
    adata.obs["array_row"], adata.obs["array_col"] = rows, cols
    in_tissue = ((rows - 39) ** 2 + ((cols - 64) / 1.6) ** 2) < 30**2
    adata.obs["in_tissue"] = in_tissue.astype(np.int64)
    cell_types = adata.obs["cell_type_ontology_term_id"].astype(str).to_numpy()
    set_obs(adata, "cell_type_ontology_term_id", np.where(in_tissue, cell_types, "unknown"))
    adata.obsm["spatial"] = np.stack([cols * 100.0 + 300, rows * 173.0 + 300], axis=1)
    image = np.full((2000, 1800, 3), 235, dtype=np.uint8)
    image[400:1600, 300:1500] = (200, 120, 180)  # the stained tissue
    adata.uns["spatial"] = {
        "is_single": True,
        "section1": {
            "images": {"hires": image},
            "scalefactors": {"spot_diameter_fullres": 89.4, "tissue_hires_scalef": 0.15},
        },
    }
    return adata


def _single(change: Callable[[ad.AnnData], None]) -> Builder:
    def build(path: Path) -> None:
        adata = visium_single()
        change(adata)
        adata.write_h5ad(path, compression="gzip")

    return build


case("valid_visium_single_section", VALID, "Visium V1, one section: 4,992 spots, in_tissue, image, scalefactors",
     valid=True)(_single(lambda adata: None))  # fmt: skip


def _library(adata: ad.AnnData) -> dict:
    return adata.uns["spatial"]["section1"]


def _out_of_tissue_typed(adata: ad.AnnData) -> None:
    set_obs(
        adata,
        "cell_type_ontology_term_id",
        np.where(adata.obs["in_tissue"] == 0, "CL:0000057", adata.obs["cell_type_ontology_term_id"].astype(str)),
    )


for _name, _change, _rule in (
    ("hires_wrong_size", lambda a: _library(a)["images"].__setitem__("hires", np.zeros((1000, 900, 3), np.uint8)),
     "the hires image's largest side is 2,000 pixels"),
    ("hires_not_uint8", lambda a: _library(a)["images"].__setitem__(
        "hires", _library(a)["images"]["hires"].astype(np.float32)), "the hires image is uint8"),
    ("scalefactors_missing", lambda a: _library(a).pop("scalefactors"), "a library has scalefactors"),
    ("scalefactor_not_float", lambda a: _library(a)["scalefactors"].__setitem__("spot_diameter_fullres", "89"),
     "scalefactors are floats"),
    ("out_of_tissue_cell_type", _out_of_tissue_typed, "spots outside the tissue have cell type 'unknown'"),
    ("array_row_out_of_range", lambda a: a.obs.__setitem__("array_row", a.obs["array_row"] + 5),
     "array_row is between 0 and 77"),
    ("in_tissue_not_binary", lambda a: a.obs.__setitem__("in_tissue", a.obs["in_tissue"] * 2),
     "in_tissue is 0 or 1"),
    ("spatial_embedding_missing", lambda a: a.obsm.pop("spatial"), "obsm 'spatial' is required when is_single"),
    ("too_few_spots", lambda a: a._inplace_subset_obs(np.arange(4000)),
     "the raw matrix of a single Visium section has all 4,992 spots"),
):  # fmt: skip
    case(f"spatial_single_{_name}", SPATIAL, _rule)(_single(_change))


@case("spatial_uns_on_10x", SPATIAL, "uns['spatial'] only for spatial assays")
def _(path: Path) -> None:
    adata = base()
    adata.uns["spatial"] = {"is_single": False}
    write(adata, path)


def cases_by_group() -> dict[str, list[Case]]:
    groups: dict[str, list[Case]] = {}
    for item in CASES:
        groups.setdefault(item.group, []).append(item)
    return groups


def copy_fixture(source: Path, directory: Path) -> Path:
    target = directory / source.name
    shutil.copyfile(source, target)
    return target


__all__ = ["CASES", "Case", "base", "build_corpus", "cases_by_group"]
