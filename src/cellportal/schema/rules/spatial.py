"""Spatial data: Visium (descendants of EFO:0010961) and bead-based (EFO:0920001) assays."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cellportal.schema.dataset import Dataset, examples_where
from cellportal.schema.issues import Issue, issue
from cellportal.schema.ontology import OntologyIndex

VISIUM, VISIUM_11MM, BEAD_BASED = "EFO:0010961", "EFO:0022860", "EFO:0920001"
SPATIAL = (
    "obs['assay_ontology_term_id'] is either a descendant of 'EFO:0010961' (Visium Spatial Gene Expression) "
    "or a descendant of 'EFO:0920001' (bead-based spatial transcriptomics)"
)
VISIUM_SINGLE = (
    "obs['assay_ontology_term_id'] is a descendant of 'EFO:0010961' (Visium Spatial Gene Expression) "
    "and uns['spatial']['is_single'] is True"
)


@dataclass(frozen=True)
class SpatialFacts:
    is_spatial: bool  # some assay is Visium or bead-based
    is_visium: bool
    is_11mm: bool
    is_single: bool | None  # uns.spatial.is_single when it is a boolean, else None
    visium_rows: np.ndarray | None  # cells whose assay is a Visium descendant

    @property
    def visium_single(self) -> bool:
        return self.is_visium and bool(self.is_single)


def spatial_facts(ds: Dataset, index: OntologyIndex) -> SpatialFacts:
    spatial = ds.uns.get("spatial")
    is_single = None
    if isinstance(spatial, dict) and isinstance(spatial.get("is_single"), bool | np.bool_):
        is_single = bool(spatial["is_single"])
    if ds.obs is None or "assay_ontology_term_id" not in ds.obs:
        return SpatialFacts(False, False, False, is_single, None)
    assays = ds.obs.columns["assay_ontology_term_id"]
    values = [a for a in assays.unique_values() if isinstance(a, str)]
    visium_terms = {a for a in values if index.is_descendant_of(a, VISIUM)}
    bead = any(index.is_descendant_of(a, BEAD_BASED) for a in values)
    is_11mm = any(index.is_descendant_of(a, VISIUM_11MM, inclusive=True) for a in values)
    return SpatialFacts(bool(visium_terms) or bead, bool(visium_terms), is_11mm, is_single, assays.isin(visium_terms))


def check_spatial(ds: Dataset, facts: SpatialFacts) -> list[Issue]:
    if ds.obs is None or "assay_ontology_term_id" not in ds.obs:
        return []
    issues: list[Issue] = []
    assays = ds.obs.columns["assay_ontology_term_id"]
    if assays.equals(VISIUM).any():
        issues.append(
            issue(
                "spatial.assay",
                "Invalid spatial assay. obs['assay_ontology_term_id'] must be a "
                f"descendant of {VISIUM} but NOT {VISIUM} itself.",
                "obs.assay_ontology_term_id",
            )
        )
    issues += _check_uns_spatial(ds, facts)
    if facts.is_spatial and len([v for v in assays.unique_values() if v is not None]) > 1:
        issues.append(
            issue(
                "spatial.assay",
                f"When {SPATIAL}, all observations must contain the same value.",
                "obs.assay_ontology_term_id",
            )
        )
    issues += _check_positions(ds, facts)
    issues += _check_out_of_tissue_cell_types(ds, facts)
    primary = ds.obs.columns.get("is_primary_data")
    if facts.is_single is False and primary is not None and primary.values is not None and primary.values.any():
        issues.append(
            issue(
                "spatial.is_primary_data",
                "When uns['spatial']['is_single'] is False, obs['is_primary_data'] must be False for all rows.",
                "obs.is_primary_data",
            )
        )
    return issues


def _check_uns_spatial(ds: Dataset, facts: SpatialFacts) -> list[Issue]:
    spatial = ds.uns.get("spatial")
    location = "uns.spatial"
    if spatial is not None and not facts.is_spatial:
        return [issue("spatial.uns", f"uns['spatial'] is only allowed when {SPATIAL}", location)]
    if not facts.is_spatial:
        return []
    if not isinstance(spatial, dict):
        return [issue("spatial.uns", f"A dict in uns['spatial'] is required when {SPATIAL}.", location)]
    if "is_single" not in spatial:
        return [issue("spatial.uns", "uns['spatial'] must contain the key 'is_single'.", location)]
    if not isinstance(spatial["is_single"], bool | np.bool_):
        return [
            issue(
                "spatial.uns",
                f"uns['spatial']['is_single'] must be of boolean type, it is {type(spatial['is_single'])}.",
                location,
            )
        ]
    library_ids = [k for k in spatial if k != "is_single"]
    if len(library_ids) > 1:
        return [
            issue(
                "spatial.uns",
                "uns['spatial'] must contain only two top-level keys: 'is_single' and a "
                f"library_id. More than two top-level keys detected: {library_ids}.",
                location,
            )
        ]
    if library_ids and not facts.visium_single:
        return [issue("spatial.uns", f"uns['spatial'][library_id] is only allowed for {VISIUM_SINGLE}.", location)]
    if not facts.visium_single:
        return []
    if not library_ids:
        return [
            issue(
                "spatial.uns",
                f"uns['spatial'] must contain at least one key representing the library_id when {VISIUM_SINGLE}.",
                location,
            )
        ]
    library = spatial[library_ids[0]]
    if not isinstance(library, dict):
        return [issue("spatial.uns", "uns['spatial'][library_id] must be a dictionary.", location)]
    issues: list[Issue] = []
    if not set(library) <= {"images", "scalefactors"}:
        issues.append(
            issue(
                "spatial.uns",
                "uns['spatial'][library_id] can only contain the keys 'images' and "
                f"'scalefactors'.Detected keys: {list(library)}.",
                location,
            )
        )
    issues += _check_images(library, 4000 if facts.is_11mm else 2000)
    issues += _check_scalefactors(library)
    return issues


def _check_images(library: dict[str, Any], hires_max: int) -> list[Issue]:
    location = "uns.spatial.images"
    if "images" not in library:
        return [issue("spatial.uns", "uns['spatial'][library_id] must contain the key 'images'.", location)]
    images = library["images"]
    if not isinstance(images, dict):
        return [issue("spatial.uns", "uns['spatial'][library_id]['images'] must be a dictionary.", location)]
    issues: list[Issue] = []
    if not set(images) <= {"fullres", "hires"}:
        issues.append(
            issue(
                "spatial.uns",
                "uns['spatial'][library_id]['images'] can only contain the keys "
                f"'fullres' and 'hires'.Detected keys: {list(images)}.",
                location,
            )
        )
    if "hires" not in images:
        issues.append(
            issue("spatial.uns", "uns['spatial'][library_id]['images'] must contain the key 'hires'.", location)
        )
    else:
        issues += _check_image("hires", images["hires"], hires_max)
    if images.get("fullres") is None:
        issues.append(
            issue(
                "spatial.fullres_missing",
                "No uns['spatial'][library_id]['images']['fullres'] was "
                "found. It is STRONGLY RECOMMENDED that uns['spatial'][library_id]['images']['fullres'] "
                "is provided.",
                location,
            )
        )
    else:
        issues += _check_image("fullres", images["fullres"], None)
    return issues


def _check_image(name: str, image: Any, max_dimension: int | None) -> list[Issue]:
    path = f"uns['spatial'][library_id]['images']['{name}']"
    location = f"uns.spatial.images.{name}"
    if not isinstance(image, np.ndarray):
        return [issue("spatial.image", f"{path} must be of numpy.ndarray type, it is {type(image)}.", location)]
    issues = []
    if image.dtype != np.uint8:
        issues.append(issue("spatial.image", f"{path} must be of type numpy.uint8, it is {image.dtype}.", location))
    if not (image.ndim == 3 and image.shape[2] in (3, 4)):
        issues.append(
            issue(
                "spatial.image",
                f"{path} must have a length of 3 and either 3 (RGB color model for "
                "example) or 4 (RGBA color model for example) for its last dimension, it has shape "
                f"{image.shape}.",
                location,
            )
        )
    if max_dimension is not None and image.size and max(image.shape) != max_dimension:
        issues.append(
            issue(
                "spatial.image",
                f"The largest dimension of {path} must be {max_dimension} pixels, it "
                f"has a largest dimension of {max(image.shape)} pixels.",
                location,
            )
        )
    return issues


def _check_scalefactors(library: dict[str, Any]) -> list[Issue]:
    location = "uns.spatial.scalefactors"
    if "scalefactors" not in library:
        return [issue("spatial.uns", "uns['spatial'][library_id] must contain the key 'scalefactors'.", location)]
    factors = library["scalefactors"]
    if not isinstance(factors, dict):
        return [issue("spatial.uns", "uns['spatial'][library_id]['scalefactors'] must be a dictionary.", location)]
    issues: list[Issue] = []
    names = ("spot_diameter_fullres", "tissue_hires_scalef")
    if not set(factors) <= set(names):
        issues.append(
            issue(
                "spatial.uns",
                "uns['spatial'][library_id]['scalefactors'] can only contain the keys "
                f"'spot_diameter_fullres' and 'tissue_hires_scalef'.Detected keys: {list(factors)}.",
                location,
            )
        )
    for name in names:
        if name not in factors:
            issues.append(
                issue(
                    "spatial.uns",
                    f"uns['spatial'][library_id]['scalefactors'] must contain the key '{name}'.",
                    location,
                )
            )
        elif not isinstance(factors[name], float):
            issues.append(
                issue(
                    "spatial.uns",
                    f"uns['spatial'][library_id]['scalefactors']['{name}'] must be of "
                    f"type float, it is {type(factors[name])}. This must be the value of the {name} "
                    "field from scalefactors_json.json",
                    location,
                )
            )
    return issues


def _check_positions(ds: Dataset, facts: SpatialFacts) -> list[Issue]:
    assert ds.obs is not None
    max_row, max_col = (127, 223) if facts.is_11mm else (77, 127)
    issues: list[Issue] = []
    for name, low, high in (("array_col", 0, max_col), ("array_row", 0, max_row), ("in_tissue", 0, 1)):
        location = f"obs.{name}"
        column = ds.obs.columns.get(name)
        visium_rows = facts.visium_rows if facts.visium_rows is not None else np.zeros(len(ds.obs), dtype=bool)
        if column is not None:
            present = np.array([v is not None for v in column.row_values()], dtype=bool)
            if not facts.visium_single or (~visium_rows & present).any():
                issues.append(issue("spatial.obs", f"obs['{name}'] is only allowed for {VISIUM_SINGLE}.", location))
                continue
        if not facts.visium_single:
            continue
        if column is None:
            issues.append(issue("spatial.obs", f"obs['{name}'] is required for {VISIUM_SINGLE}.", location))
            continue
        missing = visium_rows & ~present
        if missing.any():
            issues.append(
                issue(
                    "spatial.obs",
                    f"obs['{name}'] cannot have missing or NaN values when {VISIUM_SINGLE}.",
                    location,
                    count=int(missing.sum()),
                    examples=examples_where(ds.obs, missing),
                )
            )
            continue
        if column.kind != "numeric" or column.values is None or column.values.dtype.kind not in "iu":
            issues.append(
                issue("spatial.obs", f"obs['{name}'] must be of int type, it is {column.dtype_name}.", location)
            )
            continue
        values = column.values
        if len(values) and not ((values >= low) & (values <= high)).all():
            token = f"{low} or {high}" if name == "in_tissue" else f"between {low} and {high}"
            issues.append(
                issue(
                    "spatial.obs",
                    f"obs['{name}'] must be {token}, the min and max are {values.min()} "
                    f"and {values.max()}. This must be the value of the column tissue_positions_in_tissue"
                    " from the tissue_positions_list.csv or tissue_positions.csv.",
                    location,
                )
            )
    return issues


def _check_out_of_tissue_cell_types(ds: Dataset, facts: SpatialFacts) -> list[Issue]:
    assert ds.obs is not None
    in_tissue = ds.obs.columns.get("in_tissue")
    cell_types = ds.obs.columns.get("cell_type_ontology_term_id")
    if not facts.visium_single or in_tissue is None or cell_types is None or facts.visium_rows is None:
        return []
    outside = np.array([v == 0 for v in in_tissue.row_values()], dtype=bool)
    known = ~cell_types.equals("unknown")
    bad = facts.visium_rows & outside & known
    if not bad.any():
        return []
    return [
        issue(
            "spatial.cell_type",
            f"obs['cell_type_ontology_term_id'] must be 'unknown' when {VISIUM_SINGLE} and in_tissue is 0.",
            "obs.cell_type_ontology_term_id",
            count=int(bad.sum()),
            examples=examples_where(ds.obs, bad),
        )
    ]
