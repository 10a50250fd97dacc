"""What the pipeline writes: statuses, extracted metadata and artifacts (one row per type, even when retried)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cellportal.catalog import service
from cellportal.catalog.errors import InvalidInput, NotFound
from cellportal.catalog.models import Artifact, Job
from tests.fixtures.builders import make_collection
from tests.fixtures.database import UnitOfWork


def _new_dataset_version_id(uow: UnitOfWork) -> str:
    with uow() as db:
        version = make_collection(db, datasets=0, published=False)
        return service.create_dataset(db, collection_version_id=version.id, original_filename="lung.h5ad").id


def test_a_retried_job_ends_with_exactly_one_set_of_artifacts(uow: UnitOfWork) -> None:
    version_id = _new_dataset_version_id(uow)
    for attempt, sha in enumerate(["a" * 64, "b" * 64]):  # two runs of the same job, each its own transaction
        with uow() as db:
            service.record_artifact(db, dataset_version_id=version_id, type="h5ad", status="CONVERTING")
            service.record_artifact(
                db, dataset_version_id=version_id, type="h5ad", status="CONVERTED", sha256=sha, size=10 + attempt
            )
            service.record_artifact(
                db, dataset_version_id=version_id, type="rds", status="FAILED", message=f"attempt {attempt}"
            )
    with uow() as db:
        rows = db.scalars(select(Artifact).where(Artifact.dataset_version_id == version_id)).all()
        assert sorted((a.type, a.status, a.sha256, a.size, a.status_message) for a in rows) == [
            ("h5ad", "CONVERTED", "b" * 64, 11, None),
            ("rds", "FAILED", None, None, "attempt 1"),
        ]


def test_statuses_and_metadata(uow: UnitOfWork) -> None:
    version_id = _new_dataset_version_id(uow)
    with uow() as db:
        service.set_dataset_status(db, dataset_version_id=version_id, upload_status="UPLOADED")
        service.set_dataset_status(
            db,
            dataset_version_id=version_id,
            processing_status="FAILURE",
            validation_status="INVALID",
            validation_errors=[{"code": "obs.missing", "message": "obs lacks 'assay_ontology_term_id'"}],
        )
        service.set_dataset_metadata(
            db, dataset_version_id=version_id, metadata={"title": "Lung", "schema_version": "7.1.0", "cell_count": 5}
        )
    with uow() as db:
        _, version = service.resolve_dataset(db, version_id)
        assert (version.upload_status, version.processing_status, version.validation_status) == (
            "UPLOADED",
            "FAILURE",
            "INVALID",
        )
        assert version.validation_errors[0]["code"] == "obs.missing"
        assert (version.title, version.schema_version, version.dataset_metadata["cell_count"]) == ("Lung", "7.1.0", 5)


def test_unknown_values_are_refused(uow: UnitOfWork) -> None:
    version_id = _new_dataset_version_id(uow)
    with uow() as db:
        with pytest.raises(InvalidInput, match="'DONE' is not one of"):
            service.set_dataset_status(db, dataset_version_id=version_id, processing_status="DONE")
        with pytest.raises(InvalidInput, match="'pdf' is not one of"):
            service.record_artifact(db, dataset_version_id=version_id, type="pdf", status="CONVERTED")
        with pytest.raises(NotFound):
            service.set_dataset_status(db, dataset_version_id="no-such-version", processing_status="PENDING")


def test_removing_a_dataset_while_its_job_runs_keeps_the_job_row(uow: UnitOfWork) -> None:
    version_id = _new_dataset_version_id(uow)
    with uow() as db:
        service.set_dataset_status(db, dataset_version_id=version_id, processing_status="PENDING")
        job = Job(kind="dataset.process", dataset_version_id=version_id)
        db.add(job)
        db.flush()
        job_id = job.id
    with uow() as db:
        _, version = service.resolve_dataset(db, version_id)
        collection_version = service.open_revision(db, collection_id=version.dataset.collection_id)
        assert collection_version is not None
        service.remove_dataset(db, collection_version_id=collection_version.id, dataset_id=version.dataset_id)
    with uow() as db:
        assert db.get(Job, job_id).dataset_version_id is None  # the job's history stays; the pipeline finds no version
        with pytest.raises(NotFound):
            service.set_dataset_status(db, dataset_version_id=version_id, processing_status="SUCCESS")
