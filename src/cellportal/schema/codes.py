"""Every error and warning the validator can report: a stable code, its severity, a line for curators, and
the regexes that match the reference validator's (cellxgene-schema 7.1.2) message for the same problem.

The codes are a contract: the pipeline, the portal and the conformance tests key on them, so a code is never
renamed or reused for another problem. ``reference_patterns`` are searched (``re.search``) in a reference
message with its ``ERROR: `` / ``WARNING: `` prefix removed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Code:
    code: str
    severity: str
    description: str
    reference_patterns: tuple[str, ...] = ()


_CODES: tuple[Code, ...] = (
    # --- the file itself -------------------------------------------------------------------------------------
    Code("file.unreadable", ERROR, "The file cannot be opened as HDF5/h5ad.", (r"Unable to open '.*' with AnnData",)),
    Code(
        "file.encoding_version",
        ERROR,
        "The h5ad encoding version is not 0.1.0 (written by an old AnnData).",
        (
            r"The h5ad artifact was generated with an AnnData version different from",
            # The reference records this error before its error list exists, and crashes with:
            r"Unexpected validation error: .*'Validator' object has no attribute 'errors'",
        ),
    ),
    Code(
        "file.missing_element",
        ERROR,
        "A required part of the h5ad (obs, var, X...) is missing or unreadable.",
        (r"is missing from adata\.\S+ and it's required",),
    ),
    Code("file.empty", ERROR, "The dataset has no cells or no features."),
    Code("file.corrupt", ERROR, "Part of the file cannot be read (truncated or damaged HDF5 data)."),
    # Ours: the reference has no such rule (it reads through the links). No reference pattern, no corpus case.
    Code(
        "file.external_data",
        ERROR,
        "Part of the file is a link to another file (an HDF5 external link, external storage or a virtual "
        "dataset); an upload must hold all its data itself.",
    ),
    Code(
        "validator.internal_error",
        ERROR,
        "The validator failed on this part of the file; please report it (the other checks still ran).",
        (r"Unexpected validation error: ",),
    ),
    # --- names -------------------------------------------------------------------------------------------------
    Code(
        "names.deprecated",
        ERROR,
        "A field that older schema versions used is present; remove it.",
        (r"The field '.*' is present in '.*', but it is deprecated\.",),
    ),
    Code(
        "names.double_underscore",
        ERROR,
        "Names starting with '__' are reserved.",
        (r"The field '.*' in '.*' is invalid\. Fields that start with '__' are reserved\.",),
    ),
    Code(
        "names.reserved",
        ERROR,
        "A column or key that the portal adds when labelling is already present.",
        (
            r"Add labels error: Column '.*' is a reserved column name of '.*'\.",
            r"^Column '.*' is a reserved column name of '.*'\. Remove it",
            r"Key '.*' is a reserved key name of '.*'\. Remove it",
        ),
    ),
    Code(
        "names.forbidden_column",
        ERROR,
        "A column that must not be present in this dataframe is present.",
        (r"^Column '.*' must not be present in '.*'\.$",),
    ),
    Code(
        "names.duplicate_column",
        ERROR,
        "Two columns of one dataframe have the same name.",
        (r"Duplicate column name '.*' detected in 'adata\..*' DataFrame",),
    ),
    # --- dataframes --------------------------------------------------------------------------------------------
    Code(
        "dataframe.missing_column",
        ERROR,
        "A required column is missing.",
        (r"Dataframe '.*' is missing column '.*'\.",),
    ),
    Code(
        "dataframe.index_not_unique",
        ERROR,
        "The index (cell or feature names) has duplicates.",
        (r"Column 'index' in dataframe '.*' is not unique\.",),
    ),
    Code(
        "dataframe.mixed_types",
        ERROR,
        "A column mixes value types (e.g. strings and missing values).",
        (r"in dataframe '.*' cannot contain mixed types\.",),
    ),
    Code(
        "dataframe.bool_categories",
        ERROR,
        "A categorical column has boolean categories.",
        (r"in dataframe '.*' contains illegal_categorical_types=",),
    ),
    Code(
        "dataframe.mixed_categories",
        ERROR,
        "A categorical column's categories mix types.",
        (r"in dataframe '.*' contains \d+ categorical types\. Only one type is allowed\.",),
    ),
    Code(
        "dataframe.missing_cell_type",
        WARNING,
        "obs has no cell_type_ontology_term_id: accepted (as by the reference, for pre-analysis data), but the "
        "dataset gets no cell type labels.",
    ),
    Code(
        "dataframe.unused_category",
        WARNING,
        "A category has no cells; it is dropped when labelling.",
        (r"contains a category '.*' with zero observations\.",),
    ),
    Code("dataframe.unreadable_column", ERROR, "A column is stored in a way that cannot be read."),
    # --- column values -----------------------------------------------------------------------------------------
    Code(
        "column.not_boolean",
        ERROR,
        "The column must be boolean.",
        (r"Column '.*' in dataframe '.*' must be boolean, not '.*'\.",),
    ),
    Code(
        "column.not_categorical",
        ERROR,
        "The column must be categorical.",
        (r"Column '.*' in dataframe '.*' must be categorical, not",),
    ),
    Code(
        "column.not_string_categories",
        ERROR,
        "The column's categories must be strings.",
        (r"Column '.*' in dataframe '.*' must be object or string, not",),
    ),
    Code(
        "column.empty_values",
        ERROR,
        "The column has empty strings.",
        (r"Column '.*' in dataframe '.*' must not contain empty values\.",),
    ),
    Code(
        "column.missing_values",
        ERROR,
        "The column has missing (NaN) values.",
        (
            r"Column '.*' in dataframe '.*' must not contain NaN values\.",
            r"Unexpected error validating (tissue|cell_type)_ontology_term_id",
        ),
    ),
    Code(
        "column.forbidden_values",
        ERROR,
        "The column has values that are not allowed (e.g. donor_id 'na').",
        (r"Column '.*' in dataframe '.*' contains forbidden values",),
    ),
    Code(
        "column.invalid_values",
        ERROR,
        "The column has values outside its allowed set.",
        (r"Column '.*' in dataframe '.*' contains invalid values",),
    ),
    Code(
        "column.all_na",
        ERROR,
        "An optional column whose values are all 'na' must be removed.",
        (r"MUST NOT be present when all values are 'na'",),
    ),
    Code(
        "column.forbidden",
        ERROR,
        "The column must not be present given other fields.",
        (r"Column '.*' in dataframe '.*' must not be present when",),
    ),
    Code(
        "column.unsupported_assay_suspension",
        WARNING,
        "The assay is not in the suspension_type table; check cell vs nucleus vs na.",
        (r"Data contains assay\(s\) that are not represented in the 'suspension_type' schema definition",),
    ),
    # --- ontology terms (obs columns and uns organism) ---------------------------------------------------------
    Code(
        "ontology_term.invalid",
        ERROR,
        "Not a term of the ontologies allowed for this field.",
        (
            r"' in '.*' is not a valid ontology term id of '.*'\.",
            # The reference crashes on an organism that is not a term id at all when it checks feature organisms:
            r"Unexpected validation error: .* does not conform to expected regex pattern",
            r"Unexpected validation error: .* is not part of a supported ontology",
            r"Unexpected validation error: .* does not conform to expected format for",
        ),
    ),
    Code(
        "ontology_term.deprecated",
        ERROR,
        "The term is obsolete in the pinned ontology release.",
        (r"' in '.*' is a deprecated term id of '.*'\.",),
    ),
    Code(
        "ontology_term.not_allowed",
        ERROR,
        "A valid term, but not one this field accepts.",
        (
            r"' in '.*' is not an allowed term id\.",
            r"' in '.*' is not allowed\.",
            r"' in '.*' is not allowed\. Descendant terms of '.*' are not allowed\.",
        ),
    ),
    Code(
        "ontology_term.must_be_na",
        ERROR,
        "The field must be 'na' here (e.g. for cell lines or non-human).",
        (r"' in '.*' is not a valid value of '.*'\.",),
    ),
    Code(
        "ontology_term.not_string",
        ERROR,
        "The term is not a string.",
        (r"' in '.*' is not a valid ontology term value, it must be a string\.",),
    ),
    Code(
        "ontology_term.unsorted",
        ERROR,
        "Multiple terms must be in ascending lexical order.",
        (r"' in '.*' is not in ascending lexical order\.",),
    ),
    Code(
        "ontology_term.duplicated",
        ERROR,
        "Multiple terms contain the same term twice.",
        (r"' in '.*' contains duplicates\.",),
    ),
    Code(
        "ontology_term.organism_prefix",
        ERROR,
        "The term's ontology does not fit the organism (e.g. ZFA outside zebrafish).",
        (
            r"When tissue_type is tissue or organoid, tissue_ontology_term_id must be a valid UBERON term\.",
            r"^cell_type_ontology_term_id must be a valid CL term\. If organism is",
        ),
    ),
    Code(
        "ontology_term.cell_line_na_mixed",
        ERROR,
        "If one cell-line cell has cell type 'na', all cell-line cells must.",
        (r"When tissue_type is 'cell line', 'na' is allowed for 'cell_type_ontology_term_id' but then all",),
    ),
    # --- uns ---------------------------------------------------------------------------------------------------
    Code("uns.missing_key", ERROR, "A required uns key is missing.", (r"^'.*' in '.*' is not present\.$",)),
    Code(
        "uns.not_string",
        ERROR,
        "The value must be a string.",
        (r"' in '.*\['.*'\]' is not valid, it must be a string\.",),
    ),
    Code(
        "uns.spaces",
        ERROR,
        "The string has leading, trailing or double spaces.",
        (r"is not valid, it contains (trailing|leading|double) spaces\.",),
    ),
    Code(
        "uns.invalid_value",
        ERROR,
        "The value is not one of the allowed values or patterns.",
        (r"is not valid\. Allowed terms: ", r"does not match the required pattern\."),
    ),
    Code(
        "uns.default_embedding",
        ERROR,
        "default_embedding must name a key of obsm.",
        (r"is not valid, it must be a key of 'adata\.obsm'\.",),
    ),
    Code(
        "uns.not_list",
        ERROR,
        "The value must be a list or array.",
        (r"is not valid, it must be a list or numpy array\.",),
    ),
    Code(
        "uns.batch_condition",
        ERROR,
        "batch_condition names a column that obs does not have.",
        (r"Value '.*' of list '.*' is not a column in 'adata\.obs'\.",),
    ),
    Code("uns.not_dict", ERROR, "The value must be a dictionary.", (r"is not valid, it must be a dictionary\.",)),
    Code("uns.empty_value", ERROR, "An uns value is empty.", (r"uns\['.*'\] cannot be an empty value\.",)),
    Code(
        "uns.colors",
        ERROR,
        "A {column}_colors entry is malformed or has no matching categorical column.",
        (
            r"Colors field uns\[.*\] does not have a corresponding categorical field in obs",
            r"Colors field uns\['.*'\] must be of 'numpy\.ndarray' type",
            r"Colors in uns\[.*\] must be strings\.",
            r"Annotated categorical field .* must have at least \d+ color options",
            r"Colors in uns\[.*\] must be either all hex colors or all CSS4 named colors",
        ),
    ),
    Code(
        "uns.forbidden_key",
        ERROR,
        "A key that must not be present in this dictionary is present.",
        (r"Key '.*' MUST NOT be present in '.*'\.", r"Key '.*' must not be present in '.*'\.$"),
    ),
    Code(
        "uns.unexpected_keys",
        ERROR,
        "The dictionary has keys the schema does not allow.",
        (r"contains unexpected key\(s\) .*Additional key-value pairs MUST NOT be present\.",),
    ),
    # --- features ----------------------------------------------------------------------------------------------
    Code(
        "features.unknown_id",
        ERROR,
        "A feature id is in no gene reference (versioned ids are not accepted).",
        (
            r"Could not infer organism from feature ID '.*' in '.*', make sure it is a valid ID\.",
            r"' is not a valid feature ID in '.*'\.",
        ),
    ),
    Code(
        "features.wrong_organism",
        ERROR,
        "Feature ids come from another organism than uns.organism.",
        (r"uns\['organism_ontology_term_id'\] is '.*' but feature_ids are from",),
    ),
    Code(
        "features.filtered",
        WARNING,
        "var has fewer than 20,000 features; features should not be filtered.",
        (r"Dataframe '.*' only has \d+ rows\. Features SHOULD NOT be filtered",),
    ),
    Code(
        "features.filtered_without_raw",
        ERROR,
        "feature_is_filtered must be all False when there is no raw.",
        (r"'feature_is_filtered' must be False for all features if 'adata\.raw' is not present\.",),
    ),
    Code(
        "features.zero_not_flagged",
        WARNING,
        "Genes all zero in X but not in raw.X should have feature_is_filtered True.",
        (r"Genes '.*' have all-zero values in adata\.X\.",),
    ),
    Code(
        "features.flagged_nonzero",
        WARNING,
        "Features flagged in feature_is_filtered have values in X.",
        (r"Some features are 'True' in '.*' of dataframe '.*', but there are \d+ non-zero values",),
    ),
    Code(
        "features.filtered_size_mismatch",
        ERROR,
        "var and raw.var differ in size.",
        (r"Could not complete full validation of feature_is_filtered because of size differences",),
    ),
    # --- matrices ----------------------------------------------------------------------------------------------
    Code(
        "matrix.unsupported_encoding",
        ERROR,
        "Sparse matrices must be CSR (not CSC or COO).",
        (r"Invalid sparse encoding for .* with encoding .*\. Only csr sparse encodings are supported\.",),
    ),
    Code(
        "matrix.unknown_encoding",
        ERROR,
        "The matrix is neither dense nor a known sparse encoding.",
        (r"Unknown encoding for matrix ",),
    ),
    Code(
        "matrix.dense_sparse_data",
        ERROR,
        "A dense matrix that is mostly zeros must be stored as CSR.",
        (r"Sparsity of '.*' is .* which is greater than .*, and it is not a 'scipy\.sparse\.csr_matrix'",),
    ),
    Code(
        "matrix.shape_mismatch",
        ERROR,
        "X, raw.X, obs and var disagree in shape or names.",
        (
            r"Number of genes in X \(\d+\) is different than raw\.X",
            r"Index of 'raw\.var' is not identical to index of 'var'\.",
            r"Number of cells in X \(\d+\) is different than raw\.X",
            r"Cells in X and raw\.X are different\.",
        ),
    ),
    Code("matrix.non_finite", ERROR, "The matrix holds NaN or infinite values."),
    Code(
        "raw.dtype",
        ERROR,
        "Raw counts must be stored as float32.",
        (r"Raw matrix values must have type numpy\.float32\.",),
    ),
    Code(
        "raw.non_integer",
        ERROR,
        "Raw counts must be non-negative integers.",
        (r"All non-zero values in raw matrix must be positive integers of type numpy\.float32\.",),
    ),
    Code(
        "raw.empty_rows",
        ERROR,
        "Every cell must have at least one non-zero raw count.",
        (r"Each cell must have at least one non-zero value in its row in the raw matrix\.",),
    ),
    Code(
        "raw.missing",
        ERROR,
        "No matrix holds raw counts.",
        (
            r"Raw data may be missing: data in 'raw\.X' does not meet schema requirements\.",
            r"Raw data is missing: there is only a normalized matrix in X and no raw\.X",
        ),
    ),
    Code(
        "raw.only_raw",
        WARNING,
        "Only raw counts were given; normalized data in X is strongly recommended.",
        (r"Only raw data was found, i\.e\. there is no 'raw\.X'\.",),
    ),
    Code(
        "raw.duplicate_rows",
        ERROR,
        "Cells with identical raw counts (duplicated observations).",
        (r"Found \d+ duplicated raw counts in obs .*\.", r"Dask matrix .* must be 2D"),
    ),
    Code(
        "raw.visium_row_count",
        ERROR,
        "Visium (is_single) raw matrix must be the unfiltered barcode matrix.",
        (r"the raw matrix must be the unfiltered feature-barcode matrix 'raw_feature_bc_matrix'",),
    ),
    Code(
        "raw.in_tissue",
        ERROR,
        "Raw counts disagree with obs.in_tissue.",
        (
            r"If obs\['in_tissue'\] contains at least one value 0, then there must be at least one row",
            r"Each observation with obs\['in_tissue'\] == 1 must have at least one non-zero value",
        ),
    ),
    # --- embeddings and annotation mappings --------------------------------------------------------------------
    Code("obsm.missing", ERROR, "obsm has no embeddings.", (r"No embeddings found in 'adata\.obsm'\.",)),
    Code(
        "obsm.no_x_embedding",
        ERROR,
        "At least one obsm key must start with 'X_'.",
        (r"At least one embedding in 'obsm' has to have a key with an 'X_' prefix\.",),
    ),
    Code(
        "obsm.invalid_key",
        ERROR,
        "An obsm key is not allowed or does not match the naming pattern.",
        (
            r"Embedding key in 'adata\.obsm' .* cannot be used\.",
            r"Suffix for embedding key in 'adata\.obsm' .* does not match the regex pattern",
            r"Embedding key in 'adata\.obsm' .* does not match the regex pattern",
        ),
    ),
    Code(
        "obsm.unknown_key",
        WARNING,
        "An obsm key is neither 'spatial' nor 'X_...': not shown in Explorer.",
        (r"is not 'spatial' nor does it start with 'X_'\.",),
    ),
    Code(
        "obsm.not_array",
        ERROR,
        "An embedding is not a dense array.",
        (r"All embeddings have to be of 'numpy\.ndarray' type",),
    ),
    Code(
        "obsm.shape",
        ERROR,
        "An embedding has the wrong shape.",
        (
            r"All embeddings must at least two dimensions\.",
            r"All embeddings must have as many rows as cells\.",
            r"All unspecified embeddings must have at least one column\.",
            r"All 'X_' and 'spatial' embeddings must have at least two columns\.",
        ),
    ),
    Code(
        "obsm.dtype",
        ERROR,
        "An embedding's values are not numbers.",
        (r"adata\.obsm\['.*'\] has an invalid data type\.",),
    ),
    Code(
        "obsm.non_finite",
        ERROR,
        "An embedding holds infinite values, or NaNs where not allowed.",
        (
            r"adata\.obsm\['.*'\] contains positive infinity or negative infinity values\.",
            r"adata\.obsm\['spatial'\] contains at least one NaN value\.",
            r"adata\.obsm\['.*'\] contains all NaN values\.",
        ),
    ),
    Code(
        "obsm.other_values",
        WARNING,
        "An obsm entry that is neither 'spatial' nor 'X_...' holds non-numeric or non-finite values.",
        (
            r"adata\.obsm\['.*'\] has an invalid data type\.",
            r"adata\.obsm\['.*'\] contains positive infinity or negative infinity values\.",
            r"adata\.obsm\['.*'\] contains all NaN values\.",
        ),
    ),
    Code(
        "obsm.spatial_embedding",
        ERROR,
        "obsm['spatial'] is required exactly when uns.spatial.is_single.",
        (
            r"'spatial' embedding is required in 'adata\.obsm' if",
            r"'spatial' embedding is forbidden in 'adata\.obsm' if",
        ),
    ),
    Code(
        "annotation.empty_array",
        ERROR,
        "An array in obsm/obsp/varm/varp has size zero.",
        (r"The size of the ndarray stored for a 'adata\..*\['.*'\]' MUST NOT be zero\.",),
    ),
    # --- 7.1 genetic perturbations -----------------------------------------------------------------------------
    Code(
        "perturbation.inconsistent",
        ERROR,
        "obs perturbation columns and uns['genetic_perturbations'] must come together and agree.",
        (
            r"obs\['genetic_perturbation_id'\] is present but adata\.uns\['genetic_perturbations'\] is missing",
            r"When adata\.uns\['genetic_perturbations'\] is present, obs must contain",
            r"in 'genetic_perturbation_id' does not match any key in uns\['genetic_perturbations'\]",
            r"When obs\['genetic_perturbation_id'\] is not 'na', 'genetic_perturbation_strategy' cannot be",
            r"genetic_perturbation_strategy is 'control' but uns\['genetic_perturbations'\]",
            r"Unexpected error during genetic perturbation cross-check",
        ),
    ),
    # --- spatial -----------------------------------------------------------------------------------------------
    Code(
        "spatial.assay",
        ERROR,
        "Spatial assay terms: one value for all cells, and not generic Visium.",
        (
            r"Invalid spatial assay\. obs\['assay_ontology_term_id'\] must be a descendant of",
            r"all observations must contain the same value\.",
        ),
    ),
    Code(
        "spatial.uns",
        ERROR,
        "uns['spatial'] is missing, not allowed, or malformed.",
        (
            r"uns\['spatial'\] is only allowed when",
            r"A dict in uns\['spatial'\] is required when",
            r"uns\['spatial'\] must contain the key 'is_single'\.",
            r"uns\['spatial'\]\['is_single'\] must be of boolean type",
            r"uns\['spatial'\] must contain only two top-level keys",
            r"uns\['spatial'\]\[library_id\] is only allowed for",
            r"uns\['spatial'\] must contain at least one key representing the library_id",
            r"uns\['spatial'\]\[library_id\] (must be a dictionary|can only contain|must contain the key)",
            r"uns\['spatial'\]\[library_id\]\['(images|scalefactors)'\] (must be a dictionary|can only contain"
            r"|must contain the key)",
            r"uns\['spatial'\]\[library_id\]\['scalefactors'\]\['.*'\] must be of type float",
        ),
    ),
    Code(
        "spatial.image",
        ERROR,
        "A spatial image has the wrong type, shape or size.",
        (
            r"uns\['spatial'\]\[library_id\]\['images'\]\['.*'\] must (be of numpy\.ndarray type|be of type"
            r" numpy\.uint8|have a length of 3)",
            r"The largest dimension of uns\['spatial'\]\[library_id\]\['images'\]\['.*'\] must be",
        ),
    ),
    Code(
        "spatial.fullres_missing",
        WARNING,
        "No fullres image; strongly recommended.",
        (r"No uns\['spatial'\]\[library_id\]\['images'\]\['fullres'\] was found\.",),
    ),
    Code(
        "spatial.obs",
        ERROR,
        "Visium array_row/array_col/in_tissue columns are missing, not allowed or invalid.",
        (
            r"obs\['(array_row|array_col|in_tissue)'\] is only allowed for",
            r"obs\['(array_row|array_col|in_tissue)'\] is required for",
            r"obs\['(array_row|array_col|in_tissue)'\] cannot have missing or NaN values",
            r"obs\['(array_row|array_col|in_tissue)'\] must be of int type",
            r"obs\['(array_row|array_col|in_tissue)'\] must be (between \d+ and \d+|0 or 1)",
        ),
    ),
    Code(
        "spatial.cell_type",
        ERROR,
        "Visium spots outside the tissue must have cell type 'unknown'.",
        (r"obs\['cell_type_ontology_term_id'\] must be 'unknown' when",),
    ),
    Code(
        "spatial.is_primary_data",
        ERROR,
        "When uns.spatial.is_single is False, is_primary_data must be False.",
        (r"When uns\['spatial'\]\['is_single'\] is False, obs\['is_primary_data'\] must be False",),
    ),
)

REGISTRY: dict[str, Code] = {entry.code: entry for entry in _CODES}
if len(REGISTRY) != len(_CODES):  # pragma: no cover - a programming error caught at import
    raise RuntimeError("duplicate code in the registry")

_PREFIX = re.compile(r"^(ERROR|WARNING):\s*")


def severity_of(code: str) -> str:
    return REGISTRY[code].severity


@cache
def _compiled() -> tuple[tuple[str, tuple[re.Pattern[str], ...]], ...]:
    return tuple((entry.code, tuple(re.compile(p, re.DOTALL) for p in entry.reference_patterns)) for entry in _CODES)


def match_reference_message(message: str) -> list[str]:
    """Codes whose reference patterns match a message of the reference validator (prefix optional)."""
    text = _PREFIX.sub("", message.strip())
    return [code for code, patterns in _compiled() if any(p.search(text) for p in patterns)]
