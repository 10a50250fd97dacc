"""The ontology-term columns of obs and which rule applies to which cells.

Each column has a list of (cells, rule, explanation) pairs: some rules hold for every cell, others only for
cells whose ``tissue_type`` is (or is not) 'cell line', or depend on the dataset organism. Cells that no
pair covers fall back to the column's base rule, as in the schema definition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cellportal.schema.dataset import Dataset, examples_where, missing_values_issue
from cellportal.schema.h5ad import Column, Frame
from cellportal.schema.issues import Issue, issue
from cellportal.schema.ontology import OntologyIndex
from cellportal.schema.rules.terms import TermRule, check_term_value

HUMAN, MOUSE, ZEBRAFISH, FLY, WORM = (
    "NCBITaxon:9606",
    "NCBITaxon:10090",
    "NCBITaxon:7955",
    "NCBITaxon:7227",
    "NCBITaxon:6239",
)
UNKNOWN, NA = frozenset({"unknown"}), frozenset({"na"})
UNKNOWN_OR_NA = frozenset({"unknown", "na"})
NA_ONLY = TermRule(("NA",), exceptions=NA)

_CELL_TYPE_FORBIDDEN = frozenset({"CL:0000255", "CL:0000257", "CL:0000548", "WBbt:0006803"})
_CELL_TYPE_ANCESTORS = ("ZFA:0009000", "FBbt:00007002", "WBbt:0004017", "CL:0000000")


def _cell_type_rule(exceptions: frozenset[str]) -> TermRule:
    return TermRule(
        ("CL", "ZFA", "FBbt", "WBbt"),
        allowed_terms=frozenset({"CL:0000000"}),
        allowed_ancestors=_CELL_TYPE_ANCESTORS,
        forbidden_terms=_CELL_TYPE_FORBIDDEN,
        forbidden_ancestors=("WBbt:0006803",),
        exceptions=exceptions,
        explanation="cell_type_ontology_term_id must be a valid ontology term of CL or 'unknown'. WBbt, ZFA, "
        "and FBbt terms can be allowed depending on the organism. 'na' is allowed if tissue_type is 'cell line'.",
    )


_TISSUE_FORBIDDEN = frozenset(
    {
        "ZFA:0009000",
        "ZFA:0001093",
        "FBbt:00007002",
        "WBbt:0007849",
        "WBbt:0007850",
        "WBbt:0008595",
        "WBbt:0004017",
        "WBbt:0006803",
    }
)
_TISSUE_ANCESTORS = ("ZFA:0100000", "FBbt:10000000", "WBbt:0005766", "UBERON:0001062")
_TISSUE_FORBIDDEN_ANCESTORS = ("ZFA:0009000", "WBbt:0004017", "WBbt:0006803", "FBbt:00007002")


def _tissue_rule(organoid: bool) -> TermRule:
    kind = "organoid" if organoid else "tissue"
    return TermRule(
        ("UBERON", "ZFA", "FBbt", "WBbt"),
        allowed_ancestors=_TISSUE_ANCESTORS,
        forbidden_terms=_TISSUE_FORBIDDEN | ({"UBERON:0000922"} if organoid else set()),
        forbidden_ancestors=_TISSUE_FORBIDDEN_ANCESTORS,
        explanation=f"When 'tissue_type' is '{kind}', 'tissue_ontology_term_id' must be a valid UBERON, ZFA, "
        "FBbt, or WBbt term.",
    )


PRIMARY_CELL_CULTURE_TISSUE = TermRule(
    ("CL", "ZFA", "FBbt", "WBbt"),
    allowed_ancestors=_CELL_TYPE_ANCESTORS,
    forbidden_terms=_CELL_TYPE_FORBIDDEN,
    forbidden_ancestors=("WBbt:0006803",),
    exceptions=UNKNOWN,
    explanation="When 'tissue_type' is 'primary cell culture', 'tissue_ontology_term_id' MUST follow the "
    "validation rules for cell_type_ontology_term_id.",
)
CELL_LINE_TISSUE = TermRule(
    ("CVCL",),
    has_allow_list=False,
    explanation="When 'tissue_type' is 'cell line', 'tissue_ontology_term_id' must be a valid CVCL term.",
)
ASSAY = TermRule(
    ("EFO",),
    allowed_ancestors=("EFO:0002772", "EFO:0010183"),
    explanation="Only descendant terms of either 'EFO:0002772' or 'EFO:0010183' are allowed for assay_ontology_term_id",
)
DISEASE = TermRule(
    ("MONDO", "PATO"),
    allowed_terms=frozenset({"PATO:0000461", "MONDO:0021178"}),
    allowed_ancestors=("MONDO:0000001", "MONDO:0021178"),
    multi_term=True,
    multi_term_ontologies=("MONDO",),
    explanation="Individual terms 'PATO:0000461' (normal), 'MONDO:0021178' (injury) or descendant terms thereof, "
    "or descendant terms of 'MONDO:0000001' (disease) are allowed. Multiple terms are supported if in ascending "
    "lexical order with the delimiter ` || ` if all terms are valid MONDO terms.",
)
_SEXES = frozenset({"PATO:0000383", "PATO:0000384", "PATO:0001340"})
SEX_WORM = TermRule(
    ("PATO",),
    allowed_terms=frozenset({"PATO:0000384", "PATO:0001340"}),
    exceptions=UNKNOWN_OR_NA,
    explanation="When 'organism_ontology_term_id' is 'NCBITaxon:6239' (Caenorhabditis elegans), "
    "'sex_ontology_term_id' MUST be 'PATO:0000384' for male, 'PATO:0001340' for hermaphrodite, "
    "'na' or 'unknown'.",
)
SEX_OTHER = TermRule(
    ("PATO",),
    allowed_terms=_SEXES,
    exceptions=UNKNOWN_OR_NA,
    explanation="Only 'PATO:0000383', 'PATO:0000384', 'PATO:0001340', 'na' or 'unknown' are allowed.",
)
SEX_NOT_CELL_LINE = TermRule(
    ("PATO",),
    allowed_terms=_SEXES,
    exceptions=UNKNOWN,
    explanation="When 'tissue_type' is not 'cell line', 'sex_ontology_term_id' cannot be 'na'.",
)
ETHNICITY_HUMAN = TermRule(
    ("HANCESTRO", "AFPO"),
    allowed_ancestors=("HANCESTRO:0601", "HANCESTRO:0602"),
    exceptions=UNKNOWN,
    multi_term=True,
    explanation="When 'organism_ontology_term_id' is 'NCBITaxon:9606' (Homo sapiens) and 'tissue_type' is not "
    "'cell line', self_reported_ethnicity_ontology_term_id MUST be formatted as one or more AfPO or HANCESTRO "
    "terms that are descendants of 'HANCESTRO:0601' or 'HANCESTRO:0602', in ascending lexical order with the "
    "delimiter ` || `, or 'unknown' if unavailable.",
)


def _stage(
    ontologies: tuple[str, ...],
    ancestors: tuple[str, ...],
    explanation: str,
    terms: frozenset[str] = frozenset(),
    forbidden: frozenset[str] = frozenset(),
) -> TermRule:
    return TermRule(
        ontologies,
        allowed_terms=terms,
        allowed_ancestors=ancestors,
        forbidden_terms=forbidden,
        exceptions=UNKNOWN_OR_NA,
        explanation=explanation,
    )


STAGE_HUMAN = _stage(
    ("HsapDv",),
    ("HsapDv:0000001",),
    "When the organism is Homo sapiens, "
    "'development_stage_ontology_term_id' MUST be a descendant of 'HsapDv:0000001', 'na', or "
    "unknown.",
)
STAGE_MOUSE = _stage(
    ("MmusDv",),
    ("MmusDv:0000001",),
    "When the organism is Mus musculus or one of its "
    "descendants, 'development_stage_ontology_term_id' MUST be a descendant of 'MmusDv:0000001', "
    "'na', or unknown.",
)
STAGE_ZEBRAFISH = _stage(
    ("ZFA",),
    ("ZFS:0100000",),
    "When the organism is Danio rerio, the stage MUST be a descendant of 'ZFS:0100000' and not 'ZFS:0000000'.",
    forbidden=frozenset({"ZFS:0000000"}),
)
STAGE_FLY = _stage(
    ("FBdv",),
    ("FBdv:00007014", "FBdv:00005259"),
    "When the organism is Drosophila "
    "melanogaster, the stage MUST be a descendant of FBdv:00007014 or FBdv:00005259, excluding "
    "FBdv:00007012.",
    forbidden=frozenset({"FBdv:00007012"}),
)
STAGE_WORM = _stage(
    ("WBls",),
    ("WBls:0000803", "WBls:0000804"),
    "When the organism is Caenorhabditis elegans, "
    "the stage MUST be WBls:0000669 or a descendant of WBls:0000803 or WBls:0000804.",
    terms=frozenset({"WBls:0000669"}),
)
STAGE_OTHER = _stage(
    ("UBERON",),
    ("UBERON:0000105",),
    "For other organisms, "
    "'development_stage_ontology_term_id' MUST be a descendant of 'UBERON:0000105' excluding "
    "'UBERON:0000071', 'na', or unknown.",
    forbidden=frozenset({"UBERON:0000071"}),
)
STAGE_NOT_CELL_LINE = TermRule(
    ("UBERON", "HsapDv", "MmusDv", "ZFA", "ZFS", "FBdv", "WBls"),
    has_allow_list=False,
    exceptions=UNKNOWN,
    forbidden_terms=NA,
    explanation="When 'tissue_type' is not 'cell line', 'development_stage_ontology_term_id' cannot be 'na'.",
)
_CONDITION_FORBIDDEN = frozenset(
    {
        "CHEBI:23367",
        "CHEBI:24431",
        "CHEBI:24835",
        "CHEBI:24867",
        "CHEBI:24870",
        "CHEBI:25212",
        "CHEBI:25367",
        "CHEBI:25699",
        "CHEBI:33238",
        "CHEBI:33259",
        "CHEBI:33497",
        "CHEBI:33595",
        "CHEBI:33674",
        "CHEBI:33675",
        "CHEBI:36342",
        "CHEBI:36357",
        "CHEBI:36358",
        "CHEBI:36914",
        "CHEBI:37577",
        "CHEBI:50906",
    }
)
EXPERIMENTAL_CONDITION = TermRule(
    ("CHEBI", "EFO", "UniProt"),
    allowed_terms=frozenset({"EFO:0001702", "EFO:0002755", "EFO:0002756"}),
    allowed_ancestors=("CHEBI:24431", "EFO:0002755"),
    allow_any_of=("UniProt",),
    forbidden_terms=_CONDITION_FORBIDDEN,
    forbidden_ancestors=("CHEBI:36342", "CHEBI:50906"),
    exceptions=NA,
    multi_term=True,
    stripped_prefixes=("anti-",),
    explanation="The value MUST be 'na' or one or more sorted, ' || '-separated terms: descendants of "
    "CHEBI:24431 (not the listed forbidden CHEBI terms), EFO:0001702, EFO:0002755 or descendants, EFO:0002756, "
    "uniprot: or anti-uniprot: terms.",
)

TERM_COLUMNS = (
    "cell_type_ontology_term_id",
    "assay_ontology_term_id",
    "disease_ontology_term_id",
    "sex_ontology_term_id",
    "tissue_ontology_term_id",
    "self_reported_ethnicity_ontology_term_id",
    "development_stage_ontology_term_id",
    "experimental_condition_ontology_term_id",
)


@dataclass(frozen=True)
class Scope:
    rows: np.ndarray  # which cells the rule applies to
    rule: TermRule | None  # None: only the missing-value check applies


def _tissue_type_rows(obs: Frame) -> dict[str, np.ndarray] | None:
    column = obs.columns.get("tissue_type")
    if column is None:
        return None
    return {kind: column.equals(kind) for kind in ("tissue", "organoid", "primary cell culture", "cell line")}


def _organism_is_mouse(organism: str | None, index: OntologyIndex) -> bool:
    return organism is not None and index.is_descendant_of(organism, MOUSE, inclusive=True)


def scopes_for(column: str, ds: Dataset, index: OntologyIndex) -> list[Scope]:
    """Which rule applies to which cells of ``column``; cells outside every scope use the base rule."""
    assert ds.obs is not None
    n = len(ds.obs)
    every = np.ones(n, dtype=bool)
    tissue = _tissue_type_rows(ds.obs)
    cell_line = tissue["cell line"] if tissue else None
    has_organism = "organism_ontology_term_id" in ds.uns
    organism = ds.organism
    scopes: list[Scope] = []

    def when(rows: np.ndarray | None, rule: TermRule | None) -> None:
        if rows is not None:
            scopes.append(Scope(rows, rule))

    if column == "cell_type_ontology_term_id":
        when(cell_line, _cell_type_rule(UNKNOWN_OR_NA))
    elif column == "sex_ontology_term_id":
        if has_organism:
            when(every, SEX_WORM if organism == WORM else SEX_OTHER)
        when(cell_line, NA_ONLY)
        when(None if cell_line is None else ~cell_line, SEX_NOT_CELL_LINE)
    elif column == "tissue_ontology_term_id" and tissue is not None:
        when(tissue["tissue"], _tissue_rule(organoid=False))
        when(tissue["organoid"], _tissue_rule(organoid=True))
        when(tissue["primary cell culture"], PRIMARY_CELL_CULTURE_TISSUE)
        when(tissue["cell line"], CELL_LINE_TISSUE)
    elif column == "self_reported_ethnicity_ontology_term_id":
        # The reference ANDs "organism is human" with "not a cell line", skipping a condition whose field is
        # missing; so a missing organism or tissue_type leaves the other condition alone in charge.
        if (not has_organism or organism == HUMAN) and (has_organism or cell_line is not None):
            when(every if cell_line is None else ~cell_line, ETHNICITY_HUMAN)
        if has_organism and organism != HUMAN:
            when(every, NA_ONLY)
        when(cell_line, NA_ONLY)
    elif column == "development_stage_ontology_term_id":
        if has_organism:
            is_mouse = _organism_is_mouse(organism, index)
            if organism == HUMAN:
                when(every, STAGE_HUMAN)
            if is_mouse:
                when(every, STAGE_MOUSE)
            for taxon, rule in ((ZEBRAFISH, STAGE_ZEBRAFISH), (FLY, STAGE_FLY), (WORM, STAGE_WORM)):
                if organism == taxon:
                    when(every, rule)
            if not is_mouse and organism not in {WORM, ZEBRAFISH, FLY, HUMAN}:
                when(every, STAGE_OTHER)
        when(cell_line, NA_ONLY)
        when(None if cell_line is None else ~cell_line, STAGE_NOT_CELL_LINE)
    return scopes


BASE_RULES: dict[str, TermRule | None] = {
    "cell_type_ontology_term_id": _cell_type_rule(UNKNOWN),
    "assay_ontology_term_id": ASSAY,
    "disease_ontology_term_id": DISEASE,
    "sex_ontology_term_id": None,
    "tissue_ontology_term_id": None,
    "self_reported_ethnicity_ontology_term_id": None,
    "development_stage_ontology_term_id": None,
    "experimental_condition_ontology_term_id": EXPERIMENTAL_CONDITION,
}


def _check_scope(
    column: Column, rows: np.ndarray, rule: TermRule | None, obs: Frame, index: OntologyIndex
) -> list[Issue]:
    if not rows.any():
        return []
    location = f"obs.{column.name}"
    issues: list[Issue] = []
    values = column.unique_values(rows)
    if any(v is None for v in values):
        return [missing_values_issue(column, rows, obs)]
    if rule is None:
        return issues
    for value in values:
        for problem in check_term_value(value, column.name, rule, index):
            cells = rows & column.equals(value)
            message = f"{problem.message} {rule.explanation}".strip()
            issues.append(
                issue(
                    problem.code,
                    message,
                    location,
                    values=[problem.term],
                    count=int(cells.sum()),
                    examples=examples_where(obs, cells),
                )
            )
    return issues


def check_term_columns(ds: Dataset, index: OntologyIndex) -> list[Issue]:
    """Ontology rules of every term column present in obs (missing columns are reported elsewhere)."""
    if ds.obs is None:
        return []
    issues: list[Issue] = []
    for name in TERM_COLUMNS:
        column = ds.obs.columns.get(name)
        if column is None:
            continue
        scopes = scopes_for(name, ds, index)
        covered = np.zeros(len(ds.obs), dtype=bool)
        for scope in scopes:
            issues.extend(_check_scope(column, scope.rows, scope.rule, ds.obs, index))
            covered |= scope.rows
        issues.extend(_check_scope(column, ~covered, BASE_RULES[name], ds.obs, index))
        if name == "experimental_condition_ontology_term_id" and column.equals("na").all():
            issues.append(
                issue(
                    "column.all_na",
                    f"Column '{name}' in dataframe 'obs' MUST NOT be present when "
                    "all values are 'na'. Remove it from h5ad and try again.",
                    f"obs.{name}",
                )
            )
    return _deduplicated(issues)


def _deduplicated(issues: list[Issue]) -> list[Issue]:
    """Several scopes can report the same value for the same reason; keep the first report."""
    seen: set[tuple[str, str]] = set()
    out = []
    for found in issues:
        key = (found.code, found.message)
        if key not in seen:
            seen.add(key)
            out.append(found)
    return out


_PREFIXES_BY_ORGANISM = {WORM: ("WBbt", "UBERON"), ZEBRAFISH: ("ZFA", "UBERON"), FLY: ("FBbt", "UBERON")}
_CELL_PREFIXES_BY_ORGANISM = {WORM: ("WBbt", "CL"), ZEBRAFISH: ("ZFA", "CL"), FLY: ("FBbt", "CL")}


def _pairs(first: Column, second: Column) -> tuple[list[tuple[Any, Any]], np.ndarray]:
    """Distinct (first, second) value pairs over the rows, and each row's pair index."""
    first_values, first_codes = first.factorize()
    second_values, second_codes = second.factorize()
    combined = first_codes.astype(np.int64) * len(second_values) + second_codes
    size = len(first_values) * len(second_values)
    if size <= 4_000_000:  # a lookup table is much faster than sorting every cell
        unique = np.flatnonzero(np.bincount(combined, minlength=size))
        lookup = np.zeros(size, dtype=np.int64)
        lookup[unique] = np.arange(len(unique))
        inverse = lookup[combined]
    else:
        unique, inverse = np.unique(combined, return_inverse=True)
    pairs = [(first_values[c // len(second_values)], second_values[c % len(second_values)]) for c in unique.tolist()]
    return pairs, inverse


def check_organism_prefixes(ds: Dataset) -> list[Issue]:
    """Tissue and cell type terms must come from the organism's anatomy ontology (or CL/UBERON)."""
    obs = ds.obs
    if obs is None or "tissue_type" not in obs or "organism_ontology_term_id" not in ds.uns:
        return []
    organism = ds.uns["organism_ontology_term_id"]
    organism_key = organism if isinstance(organism, str) else ""
    tissue_type = obs.columns["tissue_type"]
    issues: list[Issue] = []
    tissue_column = obs.columns.get("tissue_ontology_term_id")
    if tissue_column is not None:
        pairs, inverse = _pairs(tissue_type, tissue_column)
        bad_codes = [i for i, (kind, term) in enumerate(pairs) if _tissue_prefix_is_wrong(kind, term, organism_key)]
        bad = np.isin(inverse, bad_codes)
        if bad.any():
            issues.append(
                issue(
                    "ontology_term.organism_prefix",
                    "When tissue_type is tissue or organoid, tissue_ontology_term_id must be a valid UBERON term. "
                    "If organism is NCBITaxon:6239, it can be a valid UBERON term or a valid WBbt term. "
                    "If organism is NCBITaxon:7955, it can be a valid UBERON term or a valid ZFA term. "
                    "If organism is NCBITaxon:7227, it can be a valid UBERON term or a valid FBbt term. "
                    "When tissue_type is primary cell culture, tissue_ontology_term_id must follow the validation "
                    "rules for cell_type_ontology_term_id.",
                    "obs.tissue_ontology_term_id",
                    values=list(dict.fromkeys(pairs[c][1] for c in bad_codes)),
                    count=int(bad.sum()),
                    examples=examples_where(obs, bad),
                )
            )
    cell_column = obs.columns.get("cell_type_ontology_term_id")
    if cell_column is not None:
        pairs, inverse = _pairs(tissue_type, cell_column)
        allowed = _CELL_PREFIXES_BY_ORGANISM.get(organism_key, ("CL",))
        wrong = [
            i
            for i, (_, term) in enumerate(pairs)
            if isinstance(term, str) and term not in UNKNOWN_OR_NA and not term.startswith(allowed)
        ]
        line_na = [i for i, (kind, term) in enumerate(pairs) if kind == "cell line" and term == "na"]
        line_other = [i for i, (kind, term) in enumerate(pairs) if kind == "cell line" and term != "na"]
        if line_na and line_other:
            mixed = np.isin(inverse, line_other)
            issues.append(
                issue(
                    "ontology_term.cell_line_na_mixed",
                    "When tissue_type is 'cell line', 'na' is allowed for 'cell_type_ontology_term_id' but then all "
                    "observations where tissue_type is 'cell line' MUST be 'na'.",
                    "obs.cell_type_ontology_term_id",
                    count=int(mixed.sum()),
                    examples=examples_where(obs, mixed),
                )
            )
        if wrong:
            bad = np.isin(inverse, wrong)
            issues.append(
                issue(
                    "ontology_term.organism_prefix",
                    "cell_type_ontology_term_id must be a valid CL term. "
                    "If organism is NCBITaxon:6239, it can be a valid CL term or a valid WBbt term. "
                    "If organism is NCBITaxon:7955, it can be a valid CL term or a valid ZFA term. "
                    "If organism is NCBITaxon:7227, it can be a valid CL term or a valid FBbt term.",
                    "obs.cell_type_ontology_term_id",
                    values=list(dict.fromkeys(pairs[i][1] for i in wrong)),
                    count=int(bad.sum()),
                    examples=examples_where(obs, bad),
                )
            )
    return issues


def _tissue_prefix_is_wrong(kind: Any, term: Any, organism: str) -> bool:
    if not isinstance(term, str) or kind == "cell line":
        return False  # missing values are reported by the term rules; any CVCL term is checked there
    if kind == "primary cell culture":
        if term == "unknown":
            return False
        return not term.startswith(_CELL_PREFIXES_BY_ORGANISM.get(organism, ("CL",)))
    return not term.startswith(_PREFIXES_BY_ORGANISM.get(organism, ("UBERON",)))
