"""Permanent download links: ``/datasets/<dataset_version_id>.<ext>`` (and ``/datasets/<dataset_id>.<ext>``).

- A version URL serves one immutable file: ``ETag`` is its sha256, caches may keep it forever.
- A canonical URL redirects (302, not cached) to the latest published version's URL.
- Withdrawn or removed: 410 with the reason; private: only for those allowed, 404 for everyone else.
- ``<id>.raw.h5ad`` is the upload as received, for its owner (and admins) only.

How bytes are sent depends on the store:
- local directory: Starlette's FileResponse, which does Range (206, multi-range, 416, If-Range) itself;
- S3: a 307 redirect to a short-lived presigned URL, so the object store serves the bytes and Ranges
  itself: multi-GB downloads never pass through a web worker, and resumable downloads work unchanged.
  The decision (which file, who may have it) is still ours, taken before the redirect; the bucket stays
  private. ``create_app(..., s3_downloads="proxy")`` streams through the app instead (single ranges),
  for deployments whose bucket endpoint clients cannot reach;
- any other store: the same streaming proxy.
HEAD is answered by the app from the catalog (size, sha256) on every backend: a presigned URL is signed
for GET only.
"""

from __future__ import annotations

import logging
import re
import unicodedata

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, RedirectResponse, StreamingResponse

from cellportal.api.artifacts import Download, is_ready, split_filename
from cellportal.api.deps import PrincipalDep, RuntimeDep, SessionDep
from cellportal.api.discover.queries import readable_dataset_version
from cellportal.api.errors import PROBLEM_JSON, Problem, not_found
from cellportal.api.ranges import RangeNotSatisfiable, parse_range
from cellportal.auth.policy import Action
from cellportal.catalog.models import DatasetVersion
from cellportal.catalog.statuses import ArtifactType
from cellportal.storage import BlobNotFoundError, BlobStore, content_disposition

log = logging.getLogger(__name__)
router = APIRouter(tags=["Downloads"])

IMMUTABLE = "public, max-age=31536000, immutable"
PRIVATE = "private, no-cache"
PRESIGNED_SECONDS_PUBLIC = 3600
PRESIGNED_SECONDS_PRIVATE = 600
_PROBLEM = {"content": {PROBLEM_JSON: {}}}


@router.head("/datasets/{filename}", name="download_head", include_in_schema=False)
@router.get(
    "/datasets/{filename}",
    name="download",
    summary="Download a dataset file (HEAD too)",
    responses={
        200: {"description": "The file (206 for a Range request)"},
        302: {"description": "Canonical dataset id: redirect to the latest published version's file"},
        307: {"description": "S3 storage: redirect to a short-lived presigned URL"},
        404: {"description": "Unknown, not visible to the caller, or no such file for this version", **_PROBLEM},
        410: {"description": "Withdrawn or removed; the body says why and when", **_PROBLEM},
    },
)
def download(
    filename: str, request: Request, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep
) -> Response:
    parsed = split_filename(filename)
    if parsed is None:
        raise not_found(f"File {filename}")
    any_id, kind = parsed
    action = Action.DOWNLOAD_ORIGINAL if kind.artifact_type == ArtifactType.RAW_H5AD else Action.DOWNLOAD
    version = readable_dataset_version(session, principal, any_id, action)
    if any_id != version.id:  # a canonical dataset id: point at the version's permanent URL
        target = request.url_for("download", filename=f"{version.id}.{kind.extension}")
        return RedirectResponse(str(target), status_code=302, headers={"Cache-Control": "no-cache"})
    artifact = version.artifact(kind.artifact_type)
    if artifact is None or not is_ready(artifact):
        raise not_found(f"File {filename}")
    assert artifact.sha256 is not None and artifact.size is not None
    sha256, size = artifact.sha256, artifact.size
    name = download_name(version, kind)
    headers = {
        "ETag": f'"{sha256}"',
        "Cache-Control": IMMUTABLE if version.published_at is not None else PRIVATE,
        "Content-Disposition": content_disposition(name),
        "Accept-Ranges": "bytes",
    }
    if _matches(request.headers.get("if-none-match"), sha256):
        return Response(status_code=304, headers={k: headers[k] for k in ("ETag", "Cache-Control")})
    store: BlobStore = runtime.blobs
    try:
        return _send(request, store, sha256, size, name, kind, headers, version.published_at is not None)
    except BlobNotFoundError:
        log.error("blob %s of %s (%s) is missing from %s", sha256, version.id, kind.artifact_type, store.url)
        raise Problem(
            500, "Internal Server Error", "The file is missing from storage; the operators are told."
        ) from None


def _send(
    request: Request,
    store: BlobStore,
    sha256: str,
    size: int,
    name: str,
    kind: Download,
    headers: dict[str, str],
    published: bool,
) -> Response:
    path = store.local_path(sha256)
    if path is not None:
        return FileResponse(path, headers=headers, media_type=kind.media_type)
    if request.method == "HEAD":
        return Response(status_code=200, headers={**headers, "Content-Length": str(size)}, media_type=kind.media_type)
    if request.app.state.s3_downloads == "redirect":
        expires = PRESIGNED_SECONDS_PUBLIC if published else PRESIGNED_SECONDS_PRIVATE
        url = store.presigned_url(sha256, filename=name, expires_in=expires)
        if url is not None:
            # The presigned URL expires: it must not be cached longer than a moment.
            return RedirectResponse(url, status_code=307, headers={"Cache-Control": "private, no-store"})
    return _stream(request, store, sha256, size, kind, headers)


def _stream(
    request: Request, store: BlobStore, sha256: str, size: int, kind: Download, headers: dict[str, str]
) -> Response:
    requested = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if if_range is not None and not _matches(if_range, sha256):
        requested = None  # the client's partial copy is of other bytes: send everything
    try:
        byte_range = parse_range(requested, size)
    except RangeNotSatisfiable:
        return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    if byte_range is None:
        body = store.iter_range(sha256)
        return StreamingResponse(body, headers={**headers, "Content-Length": str(size)}, media_type=kind.media_type)
    start, end = byte_range
    partial = {**headers, "Content-Length": str(end - start), "Content-Range": f"bytes {start}-{end - 1}/{size}"}
    return StreamingResponse(
        store.iter_range(sha256, start, end), status_code=206, headers=partial, media_type=kind.media_type
    )


def _matches(header: str | None, sha256: str) -> bool:
    if not header:
        return False
    tags = {tag.strip().removeprefix("W/").strip('"') for tag in header.split(",")}
    return sha256 in tags or "*" in tags


def download_name(version: DatasetVersion, kind: Download) -> str:
    """A readable file name: the dataset title, then the version's short id so versions do not collide."""
    title = version.title or (version.dataset_metadata or {}).get("title") or "dataset"
    slug = unicodedata.normalize("NFKC", str(title)).strip()
    slug = re.sub(r"[\\/:*?\"<>|\x00-\x1f]+", " ", slug)
    slug = re.sub(r"\s+", " ", slug).strip(" .")[:120] or "dataset"
    return f"{slug} ({version.id[:8]}).{kind.extension}"
