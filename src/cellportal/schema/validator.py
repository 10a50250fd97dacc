"""Run every rule family on one file and collect all issues in one pass.

Unlike the reference, raw-matrix rules run even when metadata is wrong, so a curator sees everything at
once. Each family is guarded: a damaged part of the file becomes an issue at its location, never a traceback.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from cellportal.schema.dataset import Dataset, load_dataset
from cellportal.schema.h5ad import Matrix, UnreadableFile, open_h5ad, outside_references
from cellportal.schema.issues import Issue, issue
from cellportal.schema.ontology import OntologyIndex, ontology_index
from cellportal.schema.report import ValidationReport
from cellportal.schema.rules import (
    embeddings,
    features,
    matrices,
    names,
    obs,
    obs_terms,
    perturbation,
    spatial,
    uns,
)
from cellportal.schema.rules.matrix_scan import ScanRequest, ScanResult, scan


def _guarded(family: str, run: Callable[[], list[Issue]]) -> list[Issue]:
    try:
        return run()
    except (OSError, KeyError) as error:
        return [
            issue("file.corrupt", f"Part of the file needed by the {family} checks cannot be read: {error}", family)
        ]
    except Exception as error:  # one broken family must not hide the others' findings
        return [
            issue(
                "validator.internal_error",
                f"Unexpected validation error in the {family} checks: {type(error).__name__}: {error}",
                family,
            )
        ]


def _scans(ds: Dataset) -> dict[str, ScanResult]:
    """Stream X, raw.X and dense layers once each, asking only for what the rules need."""
    jobs: list[tuple[Matrix, ScanRequest]] = []
    flagged = features.filtered_mask(ds)
    raw_location = "raw.X" if ds.raw_X is not None else "X"
    for matrix in (ds.X, ds.raw_X):
        if matrix is None or matrix.format not in {"csr", "csc", "dense"}:
            continue
        is_raw = matrix.location == raw_location
        request = ScanRequest(
            column_sums=ds.raw_X is not None and flagged is not None,
            filtered_columns=flagged if matrix.location == "X" and flagged is not None and flagged.any() else None,
            raw_values=is_raw,
            row_hashes=is_raw,
        )
        if flagged is not None and matrix.shape and len(flagged) != matrix.shape[1]:
            request.filtered_columns = None  # var and X disagree; reported by the shape rules
        jobs.append((matrix, request))
    for layer in ds.layers.values():
        if layer.format == "dense":
            jobs.append((layer, ScanRequest()))
    if len(jobs) < 2:
        return {matrix.location: scan(matrix, request) for matrix, request in jobs}
    # X and raw.X are scanned side by side: numpy releases the GIL, so two cores share the work.
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {matrix.location: pool.submit(scan, matrix, request) for matrix, request in jobs}
        return {location: future.result() for location, future in futures.items()}


def _matrix_issues(ds: Dataset, index: OntologyIndex) -> list[Issue]:
    scans = _scans(ds)
    found: list[Issue] = []
    for result in scans.values():
        if result.error:
            found.append(issue("file.corrupt", result.error, result.location))
    x_scan, raw_scan = scans.get("X"), scans.get("raw.X")
    raw_scan_for_rules = raw_scan if ds.raw_X is not None else x_scan
    found += matrices.check_encodings(ds, scans)
    found += matrices.check_shapes(ds)
    found += features.check_feature_is_filtered(ds, x_scan, raw_scan)
    found += matrices.check_raw(ds, raw_scan_for_rules, index)
    found += matrices.check_duplicates(ds, raw_scan_for_rules)
    found += matrices.check_x_values(ds, x_scan)
    return found


def _empty(ds: Dataset) -> list[Issue]:
    found = []
    if ds.obs is not None and len(ds.obs) == 0:
        found.append(issue("file.empty", "The dataset has no cells (obs has 0 rows).", "obs"))
    if ds.var is not None and len(ds.var) == 0:
        found.append(issue("file.empty", "The dataset has no features (var has 0 rows).", "var"))
    return found


def validate_dataset(ds: Dataset, index: OntologyIndex, ignore_labels: bool = False) -> list[Issue]:
    found: list[Issue] = list(ds.load_issues)
    found += _empty(ds)
    found += _guarded("encoding", lambda: names.check_encoding(ds))
    found += _guarded("names", lambda: names.check_names(ds, ignore_labels))
    for name, frame in (("obs", ds.obs), ("var", ds.var), ("raw.var", ds.raw_var)):
        if frame is not None:
            found += _guarded(name, lambda frame=frame, name=name: obs.check_frame_structure(frame, name))
    found += _guarded("obs", lambda: obs.check_required_columns(ds))
    found += _guarded("obs", lambda: obs_terms.check_term_columns(ds, index))
    found += _guarded("obs", lambda: obs_terms.check_organism_prefixes(ds))
    found += _guarded("obs", lambda: obs.check_obs_columns(ds, index))
    facts = spatial.spatial_facts(ds, index)
    found += _guarded("spatial", lambda: spatial.check_spatial(ds, facts))
    found += _guarded("uns", lambda: uns.check_uns(ds, index))
    found += _guarded("var", lambda: features.check_features(ds, index))
    found += _guarded("obsm", lambda: embeddings.check_annotation_arrays(ds))
    found += _guarded("obsm", lambda: embeddings.check_obsm(ds, facts.is_spatial, facts.is_single))
    found += _guarded("perturbations", lambda: perturbation.check_perturbations(ds))
    found += _guarded("matrices", lambda: _matrix_issues(ds, index))
    return _unique(found)


def _unique(found: list[Issue]) -> list[Issue]:
    seen: set[tuple[str, str, str | None]] = set()
    out = []
    for item in found:
        key = (item.code, item.message, item.location)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def _external_data(outside: list[str]) -> Issue:
    shown = "; ".join(outside[:5]) + (f" (and {len(outside) - 5} more)" if len(outside) > 5 else "")
    return issue(
        "file.external_data",
        f"The file links to data outside itself: {shown}. Save the dataset as one self-contained .h5ad "
        "(for example with AnnData's write_h5ad) and upload that. The other checks run once this is fixed.",
        count=len(outside),
    )


def validate(path: str | Path, ignore_labels: bool = False) -> ValidationReport:
    """Validate one ``.h5ad`` file against schema 7.1.0; never raises for bad input."""
    started = time.perf_counter()
    report = ValidationReport(str(path))
    try:
        handle = open_h5ad(str(path))
    except UnreadableFile as error:
        report.readable = False
        report.issues.append(issue("file.unreadable", f"Unable to open '{path}': {error}", str(path)))
        report.elapsed_seconds = time.perf_counter() - started
        return report
    with handle:
        outside = outside_references(handle)
        if outside:
            # Checked before anything is read: the other checks would read (and quote) the linked file.
            report.issues = [_external_data(outside)]
            report.elapsed_seconds = time.perf_counter() - started
            return report
        try:
            ds = load_dataset(str(path), handle)
        except Exception as error:  # a damaged file is reported, not raised
            report.readable = False
            report.issues.append(issue("file.unreadable", f"Unable to read '{path}' as h5ad: {error}", str(path)))
        else:
            with np.errstate(all="ignore"):
                report.issues = validate_dataset(ds, ontology_index(), ignore_labels)
    report.issues.sort(key=lambda i: 0 if i.is_error else 1)
    report.elapsed_seconds = time.perf_counter() - started
    return report
