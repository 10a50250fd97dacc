"""Session fixtures of the conformance suite: the corpus on disk, the reference's and our verdicts on it."""

from __future__ import annotations

import hashlib
import shutil
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.conformance.corpus import CASES, build_corpus
from tests.conformance.reference import CACHE, REPO, ReferenceResult, locked, reference_python, run_reference
from tests.conftest import require

FIXTURES_DIR = Path("/work/shared/reference/fixtures")
# The reference's own test fixtures: one valid, one invalid in many ways.
FIXTURES = {"fixture_example_valid": "example_valid.h5ad", "fixture_example_invalid_CL": "example_invalid_CL.h5ad"}
VALID_FIXTURES = {"fixture_example_valid"}


def corpus_fingerprint() -> str:
    """Changes whenever the files could change: the corpus, the generator, or the libraries writing them."""
    digest = hashlib.sha256()
    sources = [Path(__file__).with_name("corpus.py"), *sorted((REPO / "src/cellportal/demo").glob("*.py"))]
    for source in sources:
        digest.update(source.read_bytes())
    for package in ("anndata", "h5py", "numpy", "pandas", "scipy"):
        digest.update(f"{package}=={version(package)}".encode())
    return digest.hexdigest()[:16]


@pytest.fixture(scope="session")
def corpus() -> dict[str, Path]:
    """Every corpus file (built once per code version and shared by workers) plus the reference fixtures."""
    directory = CACHE / "corpus" / corpus_fingerprint()
    with locked("corpus"):
        if not (directory / ".complete").exists():
            shutil.rmtree(directory, ignore_errors=True)
            build_corpus(directory, processes=2)
            (directory / ".complete").write_text("ok\n")
    paths = {item.name: directory / f"{item.name}.h5ad" for item in CASES}
    for name, filename in FIXTURES.items():
        if (FIXTURES_DIR / filename).exists():
            paths[name] = FIXTURES_DIR / filename
    return paths


def expected_valid(name: str) -> bool:
    return name in VALID_FIXTURES or any(item.name == name and item.valid for item in CASES)


@pytest.fixture(scope="session")
def reference(corpus: dict[str, Path]) -> dict[str, ReferenceResult]:
    python = reference_python()
    require(python is not None, "the reference validator (CELLPORTAL_REFERENCE_PYTHON; make install-ref)")
    assert python is not None
    results = run_reference(python, {path: expected_valid(name) for name, path in corpus.items()})
    return {name: results[path] for name, path in corpus.items()}


@pytest.fixture(scope="session")
def ours() -> dict[str, object]:
    """Our reports, computed once per file and shared by the tests of this worker."""
    return {}
