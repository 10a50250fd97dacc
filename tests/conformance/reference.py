"""What the reference validator (cellxgene-schema, in its own venv) says about files, cached by content.

Results are stored under ``.cache/conformance/reference/`` keyed by the file's sha256, the reference's
installed version and the driver script's own hash, so a rerun only pays for files that changed. A file
lock makes parallel test workers share one reference process instead of racing two (each costs ~3.4 GiB).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".cache" / "conformance"
DRIVER = Path(__file__).with_name("reference_driver.py")
# Generous: a cold run loads the ontologies (~20 s) and validates a couple of hundred small files.
TIMEOUT_SECONDS = 1800


@dataclass(frozen=True)
class ReferenceResult:
    valid: bool
    errors: list[str]
    warnings: list[str]
    labelled: Path | None  # the reference's add-labels output, for valid files when asked
    label_errors: list[str]


REPO_REFERENCE_PYTHON = Path(__file__).resolve().parents[2] / ".venv-ref" / "bin" / "python"  # make install-ref


def reference_python() -> str | None:
    """The reference venv's interpreter: ``CELLPORTAL_REFERENCE_PYTHON`` (the Makefile sets it), else the
    repository's ``.venv-ref``, so a plain ``pytest`` run finds it too."""
    configured = os.environ.get("CELLPORTAL_REFERENCE_PYTHON") or str(REPO_REFERENCE_PYTHON)
    return configured if Path(configured).exists() else None


@cache
def reference_version(python: str) -> str:
    command = [python, "-c", "import importlib.metadata as m; print(m.version('cellxgene-schema'))"]
    return subprocess.run(command, capture_output=True, text=True, check=True, timeout=120).stdout.strip()


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def locked(name: str) -> Iterator[None]:
    """An exclusive lock shared by every process on this machine (pytest-xdist workers included)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_reference(python: str, files: dict[Path, bool]) -> dict[Path, ReferenceResult]:
    """The reference's verdict on each file (and, where the value is True, its labelled copy)."""
    tag = f"{reference_version(python)}-{sha256(DRIVER)[:12]}"
    store = CACHE / "reference" / tag
    keys = {path: sha256(path) for path in files}
    with locked("reference"):
        store.mkdir(parents=True, exist_ok=True)
        missing = {path: label for path, label in files.items() if not _is_cached(store, keys[path], label)}
        if missing:
            _run_driver(python, store, {path: keys[path] for path in missing}, missing)
    return {path: _load(store, keys[path]) for path in files}


def _is_cached(store: Path, key: str, label: bool) -> bool:
    result = store / f"{key}.json"
    if not result.exists():
        return False
    if not label:
        return True
    outcome = json.loads(result.read_text())
    # A valid file asked for labels must have them (or the reference's reason for not writing them).
    return not outcome["valid"] or "label_errors" in outcome


def _run_driver(python: str, store: Path, keys: dict[Path, str], labels: dict[Path, bool]) -> None:
    """Run the reference on the files; the driver stores each outcome in the cache as soon as it has it."""
    with tempfile.TemporaryDirectory(prefix="cellportal-reference-") as tmp:
        request = [
            {
                "path": str(path),
                "result": str(store / f"{key}.json"),
                "labels_out": str(store / f"{key}.labelled.h5ad") if labels[path] else None,
            }
            for path, key in keys.items()
        ]
        request_path = Path(tmp) / "request.json"
        request_path.write_text(json.dumps(request))
        try:
            completed = subprocess.run(
                [python, str(DRIVER), str(request_path)],
                capture_output=True,
                text=True,
                timeout=TIMEOUT_SECONDS,
                check=False,
            )
            exit_code, stderr = completed.returncode, completed.stderr
        except subprocess.TimeoutExpired as expired:
            exit_code, stderr = None, f"timed out after {TIMEOUT_SECONDS} s; {expired.stderr!r}"
    unfinished = [str(path) for path, key in keys.items() if not (store / f"{key}.json").exists()]
    if unfinished:
        raise RuntimeError(
            f"the reference driver stopped (exit {exit_code}) before {len(unfinished)} file(s), "
            f"e.g. {unfinished[:3]}: {stderr[-3000:]}"
        )


def _load(store: Path, key: str) -> ReferenceResult:
    outcome: dict[str, Any] = json.loads((store / f"{key}.json").read_text())
    labelled = store / f"{key}.labelled.h5ad"
    return ReferenceResult(
        valid=outcome["valid"],
        errors=outcome["errors"],
        warnings=outcome["warnings"],
        labelled=labelled if labelled.exists() else None,
        label_errors=outcome.get("label_errors", []),
    )
