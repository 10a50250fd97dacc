"""Status vocabularies, shared by the catalog, the pipeline and the APIs.

Names and values follow CELLxGENE Discover's where it has the same notion, so API clients see the
strings they already know.
"""

from __future__ import annotations

from enum import StrEnum


class ProcessingStatus(StrEnum):
    INITIALIZED = "INITIALIZED"  # version row exists, no file yet
    PENDING = "PENDING"  # file received, pipeline queued or running
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"


class UploadStatus(StrEnum):
    NA = "NA"
    WAITING = "WAITING"
    UPLOADING = "UPLOADING"
    UPLOADED = "UPLOADED"
    FAILED = "FAILED"


class ValidationStatus(StrEnum):
    NA = "NA"
    VALIDATING = "VALIDATING"
    VALID = "VALID"
    INVALID = "INVALID"


class ConversionStatus(StrEnum):
    NA = "NA"
    CONVERTING = "CONVERTING"
    CONVERTED = "CONVERTED"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"


class ArtifactType(StrEnum):
    RAW_H5AD = "raw_h5ad"  # the original upload, kept as received
    H5AD = "h5ad"  # labelled, with citation
    RDS = "rds"
    LOOM = "loom"
    EXPLORER = "explorer"


class JobState(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class CollectionLinkType(StrEnum):
    DOI = "DOI"
    RAW_DATA = "RAW_DATA"
    PROTOCOL = "PROTOCOL"
    LAB_WEBSITE = "LAB_WEBSITE"
    OTHER = "OTHER"
    DATA_SOURCE = "DATA_SOURCE"


def api_status(processing_status: str, validation_status: str) -> str:
    """The Curation API's word for a dataset version's state (CELLxGENE Discover's contract): a failure says
    whether validation refused the file or the pipeline broke, and a version not yet picked up is PENDING."""
    if processing_status == ProcessingStatus.FAILURE:
        return "VALIDATION_FAILURE" if validation_status == ValidationStatus.INVALID else "PIPELINE_FAILURE"
    if processing_status == ProcessingStatus.INITIALIZED:
        return "PENDING"
    return str(processing_status)
