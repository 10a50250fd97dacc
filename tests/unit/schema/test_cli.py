"""`cellportal validate` and `cellportal reference`: exit codes, text and JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .conftest import INVALID_FIXTURE, VALID_FIXTURE


def run(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from cellportal.cli import main; main()", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=os.environ.copy(), check=False)


def test_valid_file_exits_0_with_a_text_report() -> None:
    result = run("validate", str(VALID_FIXTURE))
    assert result.returncode == 0, result.stderr
    assert "VALID" in result.stdout and "features.filtered" in result.stdout


def test_invalid_file_exits_1_and_lists_errors_before_warnings() -> None:
    result = run("validate", str(INVALID_FIXTURE))
    assert result.returncode == 1
    assert result.stdout.index("Errors:") < result.stdout.index("Warnings:")
    assert "ontology_term.invalid [obs.cell_type_ontology_term_id]" in result.stdout


def test_unreadable_file_exits_2(tmp_path: Path) -> None:
    junk = tmp_path / "junk.h5ad"
    junk.write_text("hello")
    assert run("validate", str(junk)).returncode == 2
    assert run("validate", str(tmp_path / "missing.h5ad")).returncode == 2


def test_json_report_shape() -> None:
    result = run("validate", str(INVALID_FIXTURE), "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert set(report) == {"valid", "schema_version", "errors", "warnings"}
    assert report["valid"] is False and report["schema_version"] == "7.1.0"
    cell_type = next(e for e in report["errors"] if e.get("values") == ["CL:12312"])
    assert cell_type["code"] == "ontology_term.invalid"
    assert cell_type["location"] == "obs.cell_type_ontology_term_id"
    assert cell_type["count"] == 1 and len(cell_type["examples"]) == 1
    assert all({"code", "message"} <= set(item) for item in report["errors"] + report["warnings"])


def test_add_labels_writes_only_valid_files(tmp_path: Path) -> None:
    out = tmp_path / "labelled.h5ad"
    assert run("validate", str(INVALID_FIXTURE), "--add-labels", str(out)).returncode == 1
    assert not out.exists()
    result = run("validate", str(VALID_FIXTURE), "--add-labels", str(out))
    assert result.returncode == 0, result.stderr
    assert out.exists()
    # A labelled file has reserved columns, so it only passes with --ignore-labels.
    assert run("validate", str(out)).returncode == 1
    assert run("validate", str(out), "--ignore-labels").returncode == 0
