"""Our validator and labeller against the reference (cellxgene-schema 7.1.2), file by file.

For every corpus case and the reference's own fixtures:
- the reference agrees with what the case was built to be (valid, or broken in one rule);
- our verdict equals the reference's;
- every error the reference reports is matched by one of our errors (through the codes registry), except
  the reference's own crashes ("Unexpected validation error: …"), which are not rules;
- on valid files, the labels we add equal the reference's add-labels output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from tests.conformance.conftest import FIXTURES, VALID_FIXTURES, expected_valid
from tests.conformance.corpus import CASES
from tests.conformance.reference import ReferenceResult

# The first test of a worker builds the corpus and waits for the reference's cold run: minutes, not seconds.
pytestmark = [pytest.mark.reference, pytest.mark.timeout(3600)]

CASE_NAMES = [item.name for item in CASES]
ALL_NAMES = CASE_NAMES + list(FIXTURES)
DEVIATIONS = {item.name: item.reference_deviation for item in CASES if item.reference_deviation}
# The reference's wording when it crashes (an exception inside its checks): not a rule we must report.
REFERENCE_CRASH = "Unexpected validation error"


def with_deviations(names: list[str]) -> list[Any]:
    """Cases where the schema text and the reference part ways: the reference is expected to contradict the
    case's intent, strictly (if a new reference release fixes it, the test says so). Our verdict must still
    equal the reference's: conformance means accepting what it accepts."""
    return [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=DEVIATIONS[name]))
        if name in DEVIATIONS
        else name
        for name in names
    ]


VALID_NAMES = [item.name for item in CASES if item.valid] + sorted(VALID_FIXTURES)
RULES = {item.name: f"[{item.group}] {item.rule}" for item in CASES}

OBS_LABELS = ("cell_type", "assay", "disease", "sex", "tissue", "self_reported_ethnicity", "development_stage",
              "experimental_condition", "perturbation_types", "observation_joinid")  # fmt: skip
VAR_LABELS = ("feature_name", "feature_reference", "feature_biotype", "feature_length", "feature_type")


def our_report(name: str, corpus: dict[str, Path], ours: dict[str, Any]) -> Any:
    from cellportal.schema import validate

    if name not in ours:
        ours[name] = validate(corpus[name])
    return ours[name]


def _present(name: str, corpus: dict[str, Path]) -> None:
    if name not in corpus:
        pytest.skip(f"{name}: the reference fixture is not on this machine")


def _describe(name: str, reference: ReferenceResult, report: Any) -> str:
    lines = [f"case {name}: {RULES.get(name, 'reference fixture')}"]
    lines.append(f"reference: valid={reference.valid}")
    lines += [f"  ref error: {e[:300]}" for e in reference.errors]
    lines.append(f"ours: valid={report.valid}")
    lines += [f"  our error: {i.code}: {i.message[:200]}" for i in report.errors]
    return "\n".join(lines)


@pytest.mark.parametrize("name", with_deviations(CASE_NAMES))
def test_reference_agrees_with_the_case(name: str, reference: dict[str, ReferenceResult]) -> None:
    """The corpus itself is right: valid cases pass the reference, broken ones fail it."""
    result = reference[name]
    assert result.valid == expected_valid(name), f"{RULES[name]}\nreference errors: {result.errors}"


@pytest.mark.parametrize("name", ALL_NAMES)
def test_verdict_matches_reference(
    name: str, corpus: dict[str, Path], reference: dict[str, ReferenceResult], ours: dict[str, Any]
) -> None:
    _present(name, corpus)
    report = our_report(name, corpus, ours)
    assert report.valid == reference[name].valid, _describe(name, reference[name], report)


@pytest.mark.parametrize("name", ALL_NAMES)
def test_every_reference_error_is_matched(
    name: str, corpus: dict[str, Path], reference: dict[str, ReferenceResult], ours: dict[str, Any]
) -> None:
    from cellportal.schema.codes import match_reference_message

    _present(name, corpus)
    report = our_report(name, corpus, ours)
    our_codes = {found.code for found in report.errors}
    unmatched = []
    for message in reference[name].errors:
        if message.startswith(REFERENCE_CRASH):
            continue  # the reference crashed there; the verdict test still requires us to reject the file
        codes = match_reference_message(message)
        if not set(codes) & our_codes:
            unmatched.append(f"{message[:300]}\n    registry codes for it: {codes or 'none'}")
    assert not unmatched, (
        _describe(name, reference[name], report) + "\nunmatched reference errors:\n  " + "\n  ".join(unmatched)
    )


@pytest.mark.parametrize("name", VALID_NAMES)
def test_labels_match_reference(
    name: str, corpus: dict[str, Path], reference: dict[str, ReferenceResult], tmp_path: Path
) -> None:
    from cellportal.schema import add_labels

    _present(name, corpus)
    result = reference[name]
    if result.labelled is None:
        pytest.fail(f"the reference wrote no labelled file: {result.errors or result.label_errors}")
    ours_path = tmp_path / "ours.h5ad"
    add_labels(corpus[name], ours_path)
    theirs, mine = ad.read_h5ad(result.labelled), ad.read_h5ad(ours_path)

    differences = _frame_differences("obs", theirs.obs, mine.obs, OBS_LABELS)
    differences += _frame_differences("var", theirs.var, mine.var, VAR_LABELS)
    if theirs.raw is not None or mine.raw is not None:
        if theirs.raw is None or mine.raw is None:
            differences.append(f"raw: reference has raw={theirs.raw is not None}, ours={mine.raw is not None}")
        else:
            differences += _frame_differences("raw.var", theirs.raw.var, mine.raw.var, VAR_LABELS)
    differences += _uns_differences(theirs.uns, mine.uns)
    assert not differences, f"{name}: labels differ from the reference's:\n  " + "\n  ".join(differences)


def _frame_differences(where: str, theirs: pd.DataFrame, mine: pd.DataFrame, labels: tuple[str, ...]) -> list[str]:
    found = []
    for column in labels:
        if column not in theirs and column not in mine:
            continue
        if column not in theirs or column not in mine:
            found.append(f"{where}[{column!r}]: in reference={column in theirs}, in ours={column in mine}")
            continue
        expected, actual = theirs[column].astype(str).to_numpy(), mine[column].astype(str).to_numpy()
        if not np.array_equal(expected, actual):
            bad = np.flatnonzero(expected != actual)[:3]
            examples = [f"{theirs.index[i]}: {expected[i]!r} vs ours {actual[i]!r}" for i in bad]
            found.append(f"{where}[{column!r}]: {(expected != actual).sum()} values differ, e.g. {examples}")
    return found


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in sorted(value.items())}
    if isinstance(value, np.ndarray):
        return [_plain(item) for item in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _uns_differences(theirs: dict[str, Any], mine: dict[str, Any]) -> list[str]:
    found = []
    if set(theirs) != set(mine):
        found.append(f"uns keys: reference only {sorted(set(theirs) - set(mine))}, "
                     f"ours only {sorted(set(mine) - set(theirs))}")  # fmt: skip
    for key in sorted(set(theirs) & set(mine)):
        if _plain(theirs[key]) != _plain(mine[key]):
            found.append(f"uns[{key!r}]: reference {_plain(theirs[key])!r} vs ours {_plain(mine[key])!r}")
    return found
