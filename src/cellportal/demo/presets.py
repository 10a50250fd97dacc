"""Biological presets for the demo dataset generator: who the cells are and what they express.

A preset names the organism, the tissue, the assay and the donors of a study, and its cell populations
with the CL term and the marker genes a biologist would colour by. Every ontology term here was checked
against the ontologies of CELLxGENE schema 7.1.0 (cellxgene-ontology-guide, ``schema_version="v7.1.0"``),
and ``tests/unit/demo`` checks that every marker symbol is a gene of the preset's organism.
"""

from __future__ import annotations

from dataclasses import dataclass, field

HUMAN = "NCBITaxon:9606"
MOUSE = "NCBITaxon:10090"

NORMAL = "PATO:0000461"
FEMALE = "PATO:0000383"
MALE = "PATO:0000384"


@dataclass(frozen=True)
class Population:
    """One cell population: its author label, CL term, share of cells, markers and place on the UMAP."""

    name: str
    cell_type_ontology_term_id: str
    share: float
    markers: tuple[str, ...]
    umap_center: tuple[float, float]


@dataclass(frozen=True)
class Donor:
    """Donor-level metadata: every cell of a donor carries the same sex, ethnicity, stage and disease."""

    donor_id: str
    sex_ontology_term_id: str
    self_reported_ethnicity_ontology_term_id: str
    development_stage_ontology_term_id: str
    disease_ontology_term_id: str


@dataclass(frozen=True)
class Condition:
    """An experimental condition applied to a sample; `induced` genes go up in every population."""

    name: str
    induced: tuple[str, ...] = ()


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    organism_ontology_term_id: str
    tissue_ontology_term_id: str
    tissue_type: str
    assay_ontology_term_ids: tuple[str, ...]
    suspension_type: str
    populations: tuple[Population, ...]
    donors: tuple[Donor, ...]
    conditions: tuple[Condition, ...]
    # Highly expressed in every cell (as in real data), which keeps the library sizes realistic.
    housekeeping: tuple[str, ...] = field(default=())

    def marker_symbols(self) -> list[str]:
        """Every named gene of the preset (markers, induced and housekeeping genes), without repeats."""
        names: list[str] = []
        for population in self.populations:
            names.extend(population.markers)
        for condition in self.conditions:
            names.extend(condition.induced)
        names.extend(self.housekeeping)
        return list(dict.fromkeys(names))


HUMAN_BLOOD = Preset(
    name="human_blood",
    title="Peripheral blood mononuclear cells of healthy and COVID-19 donors, unstimulated and IFN-beta stimulated",
    organism_ontology_term_id=HUMAN,
    tissue_ontology_term_id="UBERON:0000178",  # blood
    tissue_type="tissue",
    assay_ontology_term_ids=("EFO:0009922", "EFO:0009899"),  # 10x 3' v3, 10x 3' v2
    suspension_type="cell",
    populations=(
        Population("CD4 T", "CL:0000624", 0.30, ("CD3E", "CD3D", "IL7R", "CD4", "LTB", "CCR7"), (-6.0, 4.0)),
        Population("CD8 T", "CL:0000625", 0.14, ("CD3E", "CD3D", "CD8A", "CD8B", "GZMK"), (-3.0, 7.5)),
        Population("NK", "CL:0000623", 0.09, ("NKG7", "GNLY", "KLRD1", "GZMB", "PRF1"), (1.5, 9.5)),
        Population("B", "CL:0000236", 0.12, ("MS4A1", "CD79A", "CD79B", "CD19", "BANK1"), (-8.0, -5.0)),
        Population("CD14 Mono", "CL:0000860", 0.20, ("CD14", "LYZ", "S100A8", "S100A9", "VCAN"), (8.0, -2.0)),
        Population("FCGR3A Mono", "CL:0000875", 0.07, ("FCGR3A", "MS4A7", "CDKN1C", "LYZ"), (10.5, 2.5)),
        Population("cDC", "CL:0000451", 0.04, ("FCER1A", "CST3", "CLEC10A", "CD1C"), (5.0, -7.0)),
        Population("pDC", "CL:0000784", 0.02, ("LILRA4", "CLEC4C", "IL3RA"), (0.5, -9.5)),
        Population("Platelet", "CL:0000233", 0.02, ("PPBP", "PF4", "GP9"), (-1.0, -1.0)),
    ),
    donors=(
        Donor("D01", FEMALE, "HANCESTRO:0590", "HsapDv:0000149", NORMAL),  # European American, 55 y
        Donor("D02", MALE, "HANCESTRO:0568", "HsapDv:0000136", NORMAL),  # African American, 42 y
        Donor("D03", FEMALE, "HANCESTRO:0021", "HsapDv:0000160", "MONDO:0100096"),  # Chinese, 66 y, COVID-19
        Donor("D04", MALE, "HANCESTRO:0612", "HsapDv:0000130", "MONDO:0100096"),  # Hispanic, 36 y, COVID-19
        # A donor of mixed ancestry shows the " || " multi-term form.
        Donor("D05", MALE, "HANCESTRO:0021 || HANCESTRO:0590", "HsapDv:0000135", NORMAL),
    ),
    conditions=(
        Condition("unstimulated"),
        Condition("IFN-beta", induced=("ISG15", "IFI6", "MX1", "IFIT3")),
    ),
    housekeeping=("ACTB", "GAPDH", "MALAT1", "PTPRC"),
)

MOUSE_BRAIN = Preset(
    name="mouse_brain",
    title="Single-nucleus atlas of the adult mouse cerebral cortex after sham or kainate injection",
    organism_ontology_term_id=MOUSE,
    tissue_ontology_term_id="UBERON:0000956",  # cerebral cortex
    tissue_type="tissue",
    assay_ontology_term_ids=("EFO:0009922",),  # 10x 3' v3, nuclei
    suspension_type="nucleus",
    populations=(
        Population("Excitatory", "CL:0000679", 0.38, ("Snap25", "Syt1", "Slc17a7", "Neurod6", "Satb2"), (-7.0, 3.0)),
        Population("Inhibitory", "CL:0000617", 0.14, ("Snap25", "Syt1", "Gad1", "Gad2", "Slc32a1"), (-4.0, 9.0)),
        Population("Astrocyte", "CL:0000127", 0.14, ("Gfap", "Aqp4", "Aldh1l1", "Slc1a3"), (6.0, 6.0)),
        Population("Oligodendrocyte", "CL:0000128", 0.16, ("Olig2", "Mbp", "Plp1", "Mog"), (8.0, -4.0)),
        Population("OPC", "CL:0002453", 0.06, ("Olig2", "Olig1", "Pdgfra", "Cspg4"), (3.0, -8.0)),
        Population("Microglia", "CL:0000129", 0.08, ("Cx3cr1", "P2ry12", "Tmem119"), (-3.0, -8.0)),
        Population("Endothelial", "CL:0000115", 0.04, ("Cldn5", "Flt1", "Pecam1"), (-9.0, -4.0)),
    ),
    donors=(
        Donor("M01", FEMALE, "na", "MmusDv:0000062", NORMAL),  # 2-month-old
        Donor("M02", MALE, "na", "MmusDv:0000062", NORMAL),
        Donor("M03", FEMALE, "na", "MmusDv:0000063", NORMAL),  # 3-month-old
        Donor("M04", MALE, "na", "MmusDv:0000063", NORMAL),
    ),
    conditions=(
        Condition("sham"),
        Condition("kainate", induced=("Fos", "Jun", "Egr1")),
    ),
    housekeeping=("Actb", "Malat1"),
)

HUMAN_LUNG = Preset(
    name="human_lung",
    title="Distal lung parenchyma of never-smokers and patients with chronic obstructive pulmonary disease",
    organism_ontology_term_id=HUMAN,
    tissue_ontology_term_id="UBERON:0002048",  # lung
    tissue_type="tissue",
    assay_ontology_term_ids=("EFO:0009900",),  # 10x 5' v2
    suspension_type="cell",
    populations=(
        Population("AT1", "CL:0002062", 0.10, ("AGER", "EPCAM"), (-6.0, 6.0)),
        Population("AT2", "CL:0002063", 0.24, ("SFTPC", "SFTPB", "EPCAM"), (-8.0, 1.0)),
        Population("Ciliated", "CL:0000064", 0.06, ("FOXJ1", "CAPS", "EPCAM"), (-3.0, 10.0)),
        Population("Club", "CL:0000158", 0.05, ("SCGB1A1", "EPCAM"), (-1.0, 6.5)),
        Population("Alveolar macrophage", "CL:0000583", 0.25, ("MARCO", "CD14", "LYZ", "PTPRC"), (8.0, -2.0)),
        Population("Endothelial", "CL:0000115", 0.18, ("PECAM1",), (2.0, -8.0)),
        Population("Fibroblast", "CL:0000057", 0.12, ("COL1A2",), (-4.0, -7.0)),
    ),
    donors=(
        Donor("L01", FEMALE, "HANCESTRO:0590", "HsapDv:0000155", NORMAL),  # 61 y
        Donor("L02", MALE, "HANCESTRO:0568", "HsapDv:0000167", "MONDO:0005002"),  # 73 y, COPD
        Donor("L03", MALE, "HANCESTRO:0019", "HsapDv:0000160", "MONDO:0005002"),  # Japanese, 66 y, COPD
    ),
    conditions=(Condition("fresh"),),
    housekeeping=("ACTB", "GAPDH", "MALAT1"),
)

PRESETS: dict[str, Preset] = {preset.name: preset for preset in (HUMAN_BLOOD, MOUSE_BRAIN, HUMAN_LUNG)}


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}") from None
