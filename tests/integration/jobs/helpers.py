"""Assertions about what a processed dataset left behind, shared by the jobs tests."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from cellportal.catalog.db import transaction
from cellportal.catalog.models import Artifact, DatasetVersion, Job
from cellportal.catalog.statuses import ConversionStatus
from cellportal.runtime import Runtime

ALL_TYPES = {"raw_h5ad", "h5ad", "explorer", "rds", "loom"}


def job_row(runtime: Runtime, job_id: str) -> Job:
    with transaction(runtime.sessions) as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


def version_row(runtime: Runtime, dataset_version_id: str) -> DatasetVersion:
    with transaction(runtime.sessions) as session:
        version = session.get(DatasetVersion, dataset_version_id)
        assert version is not None
        return version


def artifacts_of(runtime: Runtime, dataset_version_id: str) -> list[Artifact]:
    with transaction(runtime.sessions) as session:
        return list(session.scalars(select(Artifact).where(Artifact.dataset_version_id == dataset_version_id)))


def assert_one_verified_set_of_artifacts(runtime: Runtime, dataset_version_id: str) -> dict[str, Artifact]:
    """Exactly one row per artifact type, each CONVERTED (or SKIPPED with a reason), each blob intact."""
    rows = artifacts_of(runtime, dataset_version_id)
    counts = Counter(a.type for a in rows)
    assert set(counts) == ALL_TYPES, counts
    assert all(n == 1 for n in counts.values()), counts
    for artifact in rows:
        if artifact.status == ConversionStatus.SKIPPED:
            assert artifact.status_message, artifact.type
            continue
        assert artifact.status == ConversionStatus.CONVERTED, (artifact.type, artifact.status, artifact.status_message)
        assert artifact.sha256 and artifact.size
        assert runtime.blobs.size(artifact.sha256) == artifact.size
        assert runtime.blobs.verify(artifact.sha256), f"{artifact.type} blob does not match its sha256"
    return {a.type: a for a in rows}
