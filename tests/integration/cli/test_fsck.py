"""`cellportal fsck`: clean store -> 0; a damaged and a missing blob -> non-zero, each artifact named."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from cellportal.catalog.db import transaction
from cellportal.catalog.models import Artifact
from cellportal.config import Settings
from cellportal.runtime import Runtime
from tests.integration.cli.conftest import parse_json

pytestmark = pytest.mark.slow

Cli = Callable[..., subprocess.CompletedProcess[str]]


def test_fsck_finds_a_damaged_and_a_missing_blob(cli: Cli, settings: Settings, small_dataset: Path) -> None:
    ingest = cli(
        "ingest", "--name", "N", "--description", "D", "--contact-name", "C", "--contact-email", "c@example.org",
        "--json", str(small_dataset),
    )  # fmt: skip
    assert ingest.returncode == 0, ingest.stderr
    dataset_version_id = parse_json(ingest)["datasets"][0]["dataset_version_id"]

    clean = cli("fsck", "--json")
    assert clean.returncode == 0, clean.stderr
    assert parse_json(clean) == {"checked": 5, "problems": []}

    runtime = Runtime(settings)
    try:
        with transaction(runtime.sessions) as session:
            blobs = {
                a.type: a.sha256
                for a in session.scalars(select(Artifact).where(Artifact.dataset_version_id == dataset_version_id))
            }
        loom, rds = runtime.blobs.local_path(blobs["loom"]), runtime.blobs.local_path(blobs["rds"])
    finally:
        runtime.close()
    assert loom is not None and rds is not None
    os.chmod(loom, 0o644)  # blobs are written read-only; a disk error or an operator's slip does not care
    with open(loom, "r+b") as handle:
        handle.seek(100)
        handle.write(b"\x00\xff" * 8)
    rds.unlink()

    broken = cli("fsck", "--json")
    assert broken.returncode == 1
    problems = {p["type"]: p["problem"] for p in parse_json(broken)["problems"]}
    assert problems == {"loom": "content does not match its sha256", "rds": "missing from the store"}
    table = cli("fsck")
    assert table.returncode == 1
    assert "loom" in table.stderr and "rds" in table.stderr and "2 of 5" in table.stderr
