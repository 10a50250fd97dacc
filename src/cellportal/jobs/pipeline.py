"""The processing pipeline of one dataset version, as plain steps.

upload (keep the original as the ``raw_h5ad`` artifact) -> validate -> label (metadata to the catalog, and
the labelled *view*: labelled obs/var/uns with the upload's matrices linked, written in seconds) -> convert
(h5ad, explorer, rds, loom: all four read the view, none reads another's output, so they run at once in
child processes, as many as there are cores, the longest first).

Every collaborator comes in as an argument (:class:`Collaborators`), so tests run the real validator and
converters without Celery, and the task stays a thin shell. Every step is idempotent: an artifact already
CONVERTED whose blob is in the store is not made again, and artifacts are upserted per (version, type),
so a job retried after its worker was killed ends with exactly one set of artifacts.

Outcomes: SUCCESS; VALIDATION_FAILURE (the validator's messages are all kept, nothing is converted);
PIPELINE_FAILURE (``failure_reason`` says what broke). A file that is not HDF5 at all, or is truncated,
is a validation failure with a sentence saying so: it is the curator's file to fix.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

import h5py

from cellportal.catalog.statuses import ArtifactType, ConversionStatus, UploadStatus
from cellportal.jobs.conversions import ConversionOutcome, ConversionTask, run_conversions
from cellportal.jobs.recorder import ArtifactState, DatasetRecorder, VersionIdentity
from cellportal.jobs.rules import REQUIRED_TYPES, conversions_succeeded
from cellportal.storage import BlobStore
from cellportal.uploads.rules import Resolver, UploadRefused, UrlPolicy, checked_addresses, resolve_host

log = logging.getLogger(__name__)

ProgressReport = Callable[[str, float], None]
MAX_REDIRECTS = 5


class Outcome(StrEnum):
    SUCCESS = "SUCCESS"
    VALIDATION_FAILURE = "VALIDATION_FAILURE"
    PIPELINE_FAILURE = "PIPELINE_FAILURE"


class Report(Protocol):
    valid: bool

    def to_dict(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class ConverterSpec:
    artifact_type: str
    extension: str
    format_version: str


RunConversions = Callable[..., dict[str, ConversionOutcome]]


@dataclass
class Collaborators:
    blobs: BlobStore
    validate: Callable[[Path], Report]
    extract_metadata: Callable[[Path], Any]
    # (upload, out): write the labelled dataset every converter reads.
    write_labelled: Callable[[Path, Path], None]
    converters: list[ConverterSpec]
    public_url: str
    portal_name: str = "cellportal"
    run_conversions: RunConversions = run_conversions
    parallelism: int | None = None
    context_overrides: dict[str, Any] = field(default_factory=dict)
    source_urls: UrlPolicy = field(default_factory=UrlPolicy)  # what an upload-by-URL may be fetched from


def default_collaborators(
    blobs: BlobStore, *, public_url: str, parallelism: int | None = None, source_urls: UrlPolicy | None = None
) -> Collaborators:
    """The real validator, metadata extractor and format registry."""
    import cellportal.schema as schema
    from cellportal.formats.registry import conversion_order
    from cellportal.schema.labeller import write_labelled_view

    specs = [ConverterSpec(c.artifact_type, c.extension, c.format_version) for c in conversion_order()]
    return Collaborators(
        blobs=blobs,
        validate=schema.validate,
        extract_metadata=schema.extract_metadata,
        write_labelled=write_labelled_view,
        converters=specs,
        public_url=public_url,
        parallelism=parallelism,
        source_urls=source_urls or UrlPolicy(),
    )


class PipelineError(Exception):
    """A step could not go on; the message becomes the dataset's failure_reason."""


def process_dataset(
    recorder: DatasetRecorder, collaborators: Collaborators, work_dir: Path, progress: ProgressReport
) -> Outcome:
    """Run every step not already done; returns the dataset's outcome (also written to the catalog)."""
    if work_dir.exists():
        shutil.rmtree(work_dir)  # left by an attempt whose worker was killed: never trusted
    work_dir.mkdir(parents=True)
    try:
        identity = recorder.identity()
        recorder.started()
        with step_clock("upload"):
            original = store_original(recorder, collaborators, identity, work_dir, progress)
        with step_clock("validate"):
            valid = validate(recorder, collaborators.validate, original, identity, progress)
        if not valid:
            return Outcome.VALIDATION_FAILURE
        return label_and_convert(recorder, collaborators, identity, original, work_dir, progress)
    except PipelineError as error:
        recorder.pipeline_failure(str(error))
        return Outcome.PIPELINE_FAILURE
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


# ---- upload ----------------------------------------------------------------------------------------


def store_original(
    recorder: DatasetRecorder,
    collaborators: Collaborators,
    identity: VersionIdentity,
    work_dir: Path,
    progress: ProgressReport,
) -> Path:
    """The original as a local file, storing it first if only its source is known (upload by URL)."""
    blobs = collaborators.blobs
    progress("upload", 0.0)
    raw = recorder.artifacts().get(ArtifactType.RAW_H5AD)
    if not _present(raw, blobs):
        if not identity.source_uri:
            recorder.upload(UploadStatus.FAILED)
            raise PipelineError("no file was uploaded for this dataset version")
        recorder.upload(UploadStatus.UPLOADING)
        downloaded = fetch_source(identity.source_uri, work_dir / "download.h5ad", collaborators.source_urls)
        info = blobs.put_file(downloaded)
        recorder.artifact(ArtifactType.RAW_H5AD, ConversionStatus.CONVERTED, sha256=info.sha256, size=info.size)
        raw = ArtifactState(ArtifactType.RAW_H5AD, ConversionStatus.CONVERTED, info.sha256, info.size)
    recorder.upload(UploadStatus.UPLOADED)
    assert raw is not None and raw.sha256 is not None
    path = local_copy(blobs, raw.sha256, work_dir / "original.h5ad")
    progress("upload", 1.0)
    return path


def fetch_source(url: str, destination: Path, policy: UrlPolicy, *, resolve: Resolver = resolve_host) -> Path:
    """Download `url`, following at most `MAX_REDIRECTS` redirects by hand: every hop is checked as the
    URL itself was when it was submitted (scheme, and a host that resolves to allowed addresses only), so a
    public URL cannot redirect the server to itself, its network or the cloud metadata service. Each hop
    connects to an address that was checked, never looking the name up again (a DNS answer that changed in
    between, "rebinding", would otherwise reach a private address); the name still goes in the Host header
    and in TLS (SNI and the certificate check)."""
    import httpx

    try:
        with httpx.Client(timeout=60, follow_redirects=False) as client:
            for _ in range(MAX_REDIRECTS + 1):
                address = checked_addresses(url, policy, resolve=resolve)[0]
                target = httpx.URL(url)
                extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
                pinned = client.build_request(
                    "GET", target.copy_with(host=address), headers={"Host": target.netloc.decode("ascii")}
                )
                pinned.extensions.update(extensions)
                response = client.send(pinned, stream=True)
                try:
                    if not response.is_redirect:
                        response.raise_for_status()
                        _save_at_most(response, destination, policy.max_bytes)
                        return destination
                    url = str(target.join(response.headers["location"]))
                finally:
                    response.close()
            raise PipelineError(f"could not fetch the file: more than {MAX_REDIRECTS} redirects")
    except UploadRefused as refused:
        raise PipelineError(f"could not fetch the file from {url}: {refused}") from refused
    except (OSError, ValueError, httpx.HTTPError, httpx.InvalidURL) as error:
        raise PipelineError(f"could not fetch the file from {url}: {error}") from error


def _save_at_most(response: Any, destination: Path, max_bytes: int | None) -> None:
    """The response body into `destination`, refused once it passes `max_bytes` (whatever Content-Length said)."""
    written = 0
    with open(destination, "wb") as out:
        for chunk in response.iter_bytes(1 << 20):
            written += len(chunk)
            if max_bytes is not None and written > max_bytes:
                raise PipelineError(
                    f"the file is larger than the {max_bytes:,} bytes an upload may be (CELLPORTAL_UPLOAD_MAX_BYTES)"
                )
            out.write(chunk)


def local_copy(blobs: BlobStore, sha256: str, destination: Path) -> Path:
    """Read in place from a local store; copy from an object store."""
    return blobs.local_path(sha256) or blobs.fetch_to(sha256, destination)


def _present(artifact: ArtifactState | None, blobs: BlobStore) -> bool:
    return (
        artifact is not None
        and artifact.status == ConversionStatus.CONVERTED
        and artifact.sha256 is not None
        and blobs.exists(artifact.sha256)
    )


# ---- validate --------------------------------------------------------------------------------------


def unreadable_reason(path: Path) -> str | None:
    """Why the file cannot be an .h5ad at all (not HDF5, truncated), in the curator's words; else None."""
    try:
        if not h5py.is_hdf5(path):
            return "The file is not an HDF5 file, so it cannot be an AnnData .h5ad file. Upload an .h5ad file."
        with h5py.File(path, "r") as handle:
            list(handle.keys())
    except OSError as error:
        return f"The file could not be read as HDF5; it may be truncated or damaged ({error}). Upload it again."
    return None


def validate(
    recorder: DatasetRecorder,
    validator: Callable[[Path], Report],
    original: Path,
    identity: VersionIdentity,
    progress: ProgressReport,
) -> bool:
    progress("validate", 0.0)
    if identity.validation_status == "VALID":
        progress("validate", 1.0)
        return True  # an earlier attempt validated this very file (the raw blob cannot change)
    recorder.validating()
    problem = unreadable_reason(original)
    if problem is not None:
        recorder.invalid([{"code": "unreadable_file", "message": problem}], [])
        return False
    try:
        report = validator(original)
    except Exception as error:
        log.exception("validator failed on %s", identity.dataset_version_id)
        raise PipelineError(f"the validator stopped with an error: {type(error).__name__}: {error}") from error
    messages = report.to_dict()
    errors, warnings = list(messages.get("errors", [])), list(messages.get("warnings", []))
    if not report.valid:
        recorder.invalid(errors, warnings)
        return False
    recorder.valid(warnings)
    progress("validate", 1.0)
    return True


# ---- label and convert -----------------------------------------------------------------------------


def conversion_context(collaborators: Collaborators, identity: VersionIdentity) -> dict[str, Any]:
    return {
        "dataset_version_id": identity.dataset_version_id,
        "dataset_id": identity.dataset_id,
        "collection_id": identity.collection_id,
        "collection_version_id": identity.collection_version_id,
        "public_url": collaborators.public_url,
        "portal_name": collaborators.portal_name,
        "doi": identity.doi,
        **collaborators.context_overrides,
    }


def label_and_convert(
    recorder: DatasetRecorder,
    collaborators: Collaborators,
    identity: VersionIdentity,
    original: Path,
    work_dir: Path,
    progress: ProgressReport,
) -> Outcome:
    progress("label", 0.0)
    with step_clock("metadata"):
        try:
            metadata = collaborators.extract_metadata(original)
        except Exception as error:
            raise PipelineError(f"extracting the dataset metadata failed: {type(error).__name__}: {error}") from error
        recorder.metadata(_plain(metadata))
    progress("label", 0.3)
    labelled = work_dir / "labelled.h5ad"
    with step_clock("label"):
        try:
            collaborators.write_labelled(original, labelled)
        except Exception as error:
            log.exception("labelling failed on %s", identity.dataset_version_id)
            raise PipelineError(f"adding the ontology labels failed: {type(error).__name__}: {error}") from error
    progress("label", 1.0)

    progress("convert", 0.0)
    with step_clock("convert"):
        statuses = convert_all(recorder, collaborators, identity, labelled, work_dir, progress)
    if not conversions_succeeded(statuses):
        missing = [t for t in REQUIRED_TYPES if statuses.get(t) != ConversionStatus.CONVERTED]
        states = recorder.artifacts()
        reasons = [
            f"the {t} download could not be made: {getattr(states.get(t), 'message', None) or 'no reason given'}"
            for t in missing
        ]
        recorder.pipeline_failure("; ".join(reasons))
        return Outcome.PIPELINE_FAILURE
    recorder.succeeded()
    progress("convert", 1.0)
    return Outcome.SUCCESS


def convert_all(
    recorder: DatasetRecorder,
    collaborators: Collaborators,
    identity: VersionIdentity,
    labelled: Path,
    work_dir: Path,
    progress: ProgressReport,
) -> dict[str, str]:
    """Run every conversion not already done, in parallel; each artifact's status is recorded as it ends,
    so one failing conversion marks only its own artifact FAILED."""
    context = conversion_context(collaborators, identity)
    blobs = collaborators.blobs
    existing = recorder.artifacts()
    statuses: dict[str, str] = {}
    specs = {spec.artifact_type: spec for spec in collaborators.converters}
    todo: list[ConversionTask] = []
    for spec in collaborators.converters:
        done = existing.get(spec.artifact_type)
        if _present(done, blobs) or (done is not None and done.status == ConversionStatus.SKIPPED):
            statuses[spec.artifact_type] = done.status  # type: ignore[union-attr]
            continue
        recorder.artifact(spec.artifact_type, ConversionStatus.CONVERTING)
        dest = work_dir / "out" / f"{identity.dataset_version_id}.{spec.extension}"
        todo.append(ConversionTask(spec.artifact_type, labelled, dest, context))
    total = max(1, len(todo))
    finished = 0

    def on_done(outcome: ConversionOutcome) -> None:
        nonlocal finished
        statuses[outcome.artifact_type] = record_outcome(recorder, blobs, specs[outcome.artifact_type], outcome)
        finished += 1
        progress("convert", finished / total)

    collaborators.run_conversions(todo, parallelism=collaborators.parallelism, on_done=on_done)
    for task in todo:  # a conversion that never reported (stopped early) must not stay CONVERTING
        if task.artifact_type not in statuses:
            statuses[task.artifact_type] = ConversionStatus.FAILED
            recorder.artifact(task.artifact_type, ConversionStatus.FAILED, message="the conversion did not finish")
    return statuses


@contextmanager
def step_clock(step: str) -> Iterator[None]:
    """Log how long a step took (``bench/pipeline.py`` reads these records for its per-step times)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        seconds = time.perf_counter() - started
        log.info("step %s took %.2f s", step, seconds, extra={"step": step, "seconds": seconds})


def record_outcome(recorder: DatasetRecorder, blobs: BlobStore, spec: ConverterSpec, outcome: ConversionOutcome) -> str:
    if outcome.status == ConversionStatus.CONVERTED:
        if not outcome.dest.exists():
            message = f"the {spec.artifact_type} converter reported success but wrote no file"
            recorder.artifact(spec.artifact_type, ConversionStatus.FAILED, message=message)
            return ConversionStatus.FAILED
        info = blobs.put_file(outcome.dest)
        recorder.artifact(
            spec.artifact_type,
            ConversionStatus.CONVERTED,
            sha256=info.sha256,
            size=info.size,
            format_version=spec.format_version,
        )
        return ConversionStatus.CONVERTED
    if outcome.status == ConversionStatus.SKIPPED:
        recorder.artifact(spec.artifact_type, ConversionStatus.SKIPPED, message=outcome.reason)
        return ConversionStatus.SKIPPED
    log.warning("conversion %s failed: %s", spec.artifact_type, outcome.reason)
    recorder.artifact(spec.artifact_type, ConversionStatus.FAILED, message=outcome.reason)
    return ConversionStatus.FAILED


def _plain(metadata: Any) -> dict[str, Any]:
    if hasattr(metadata, "to_dict"):
        return metadata.to_dict()
    if isinstance(metadata, dict):
        return metadata
    return asdict(metadata)
