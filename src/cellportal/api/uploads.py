"""Uploads from the browser: the tus 1.0.0 endpoints under ``/uploads/`` and upload-from-URL.

tus (https://tus.io/protocols/resumable-upload): ``POST /uploads/`` creates an upload (metadata:
``filename``, ``collection_version_id``, optional ``replace_dataset_id``), ``HEAD /uploads/<id>`` says how many
bytes arrived, ``PATCH /uploads/<id>`` appends, ``DELETE /uploads/<id>`` abandons. The request body is
streamed to disk and never held in memory; the bytes that arrived before a dropped connection are kept, so
the client resumes from there. When the last byte arrives the file becomes a dataset version and its job is
queued; the response (and any later HEAD) carries ``Upload-Dataset-Version-Id``.

Every request is authorized twice: the upload belongs to the user who created it (anyone else gets 404), and
that user must still be allowed to EDIT the collection (checked at creation, on every PATCH, at completion).
Requests with a session cookie need the ``X-CSRF-Token`` header (`verify_csrf`).
"""

from __future__ import annotations

import email.utils
import hmac
import logging
import os
import time
from dataclasses import replace
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from cellportal.api.deps import PrincipalDep, RuntimeDep
from cellportal.api.errors import Problem
from cellportal.auth.policy import Principal
from cellportal.catalog.db import transaction
from cellportal.catalog.errors import CatalogError
from cellportal.runtime import Runtime
from cellportal.uploads import protocol
from cellportal.uploads.access import editable_collection_version
from cellportal.uploads.handoff import LocalJobs, finalise_upload, submit_url
from cellportal.uploads.protocol import TUS_VERSION, TusError
from cellportal.uploads.rules import (
    UploadRefused,
    UrlPolicy,
    check_length,
    check_source_url,
    clean_filename,
    filename_from_url,
)
from cellportal.uploads.staging import UploadArea, UploadBusy, UploadNotFound, UploadState
from cellportal.web.identity import verify_csrf

log = logging.getLogger(__name__)
router = APIRouter(tags=["uploads"])
CSRF = [Depends(verify_csrf)]
TUS = {"Tus-Resumable": TUS_VERSION}
DATASET_VERSION_HEADER = "Upload-Dataset-Version-Id"
WRITE_BUFFER = 1 << 20  # bytes gathered before one write (in a thread, off the event loop)
CHECKPOINT = 32 << 20  # bytes between fsync + recorded offset: a crash loses at most this much
CLEANUP_EVERY = 600.0  # seconds between two sweeps of expired uploads (per process)


def upload_area(runtime: RuntimeDep) -> UploadArea:
    return UploadArea(runtime.settings.work_dir / "uploads")


def local_jobs(request: Request, runtime: RuntimeDep) -> LocalJobs:
    """The app's runner of jobs no worker takes (made on first use, then kept on the app)."""
    jobs = getattr(request.app.state, "upload_jobs", None)
    if jobs is None:
        jobs = request.app.state.upload_jobs = LocalJobs(runtime)
    return jobs


AreaDep = Annotated[UploadArea, Depends(upload_area)]
LocalJobsDep = Annotated[LocalJobs, Depends(local_jobs)]


def tus_problem(status: int, detail: str, **headers: str) -> Problem:
    title = "Checksum Mismatch" if status == protocol.CHECKSUM_MISMATCH else None  # not a registered status
    return Problem(status, title, detail, headers={**TUS, **headers})


def _refusal(refused: UploadRefused) -> Problem:
    # tus clients retry a 409 (for them it means "offset mismatch"); a refusal that will not change is 422.
    return tus_problem(422 if refused.status == 409 else refused.status, str(refused))


def _check_version(request: Request) -> None:
    try:
        protocol.check_version(request.headers)
    except TusError as error:
        raise tus_problem(error.status, error.detail, **{"Tus-Version": TUS_VERSION}) from None


def _authorize(runtime: Runtime, principal: Principal, collection_version_id: str, replace_id: str | None) -> None:
    with transaction(runtime.sessions) as session:
        editable_collection_version(session, principal, collection_version_id, replace_id)


def _own_upload(area: UploadArea, principal: Principal, upload_id: str) -> UploadState:
    """The upload, if `principal` created it; anyone else is told it does not exist."""
    try:
        state = area.load(upload_id)
    except UploadNotFound:
        raise tus_problem(404, "No such upload (it may have expired or been cancelled).") from None
    if principal.user_id is None or not hmac.compare_digest(state.owner_id, principal.user_id):
        raise tus_problem(404, "No such upload (it may have expired or been cancelled).")
    return state


def _expires(runtime: Runtime, state: UploadState) -> str:
    moment = state.updated_at + runtime.settings.upload_expiry_hours * 3600
    return email.utils.formatdate(moment, usegmt=True)


def _receipt_headers(runtime: Runtime, state: UploadState) -> dict[str, str]:
    headers = {**TUS, "Upload-Offset": str(state.offset), "Cache-Control": "no-store"}
    if state.dataset_version_id:
        headers[DATASET_VERSION_HEADER] = state.dataset_version_id
    elif not state.complete:
        headers["Upload-Expires"] = _expires(runtime, state)
    return headers


_last_cleanup = 0.0


def _sweep_expired(runtime: Runtime, area: UploadArea) -> None:
    """Delete abandoned uploads now and then (creation is a natural moment: someone is uploading)."""
    global _last_cleanup
    if time.monotonic() - _last_cleanup < CLEANUP_EVERY:
        return
    _last_cleanup = time.monotonic()
    removed = area.expire_stale(max_age_seconds=runtime.settings.upload_expiry_hours * 3600)
    if removed:
        log.info("removed %d expired uploads", len(removed))


@router.options("/uploads/", include_in_schema=False)
@router.options("/uploads/{upload_id}", include_in_schema=False)
def discover(runtime: RuntimeDep) -> Response:
    return Response(status_code=204, headers=protocol.discovery_headers(runtime.settings.upload_max_bytes))


@router.post("/uploads/", status_code=201, dependencies=CSRF, summary="Start a resumable (tus) upload")
def create_upload(request: Request, principal: PrincipalDep, runtime: RuntimeDep, area: AreaDep) -> Response:
    _check_version(request)
    try:
        if "upload-defer-length" in request.headers:
            raise TusError(400, "Announce the file size (Upload-Length); deferred lengths are not supported.")
        length = protocol.non_negative_int(request.headers, "Upload-Length")
        metadata = protocol.parse_metadata(request.headers.get("upload-metadata"))
    except TusError as error:
        raise tus_problem(error.status, error.detail) from None
    collection_version_id = metadata.get("collection_version_id", "").strip()
    replace_id = metadata.get("replace_dataset_id", "").strip() or None
    try:
        filename = clean_filename(metadata.get("filename"))
        check_length(length, runtime.settings.upload_max_bytes)
        if not collection_version_id:
            raise UploadRefused("Say which collection version the dataset goes to (collection_version_id).")
        _authorize(runtime, principal, collection_version_id, replace_id)
    except UploadRefused as refused:
        raise _refusal(refused) from None
    assert principal.user_id is not None  # anonymous callers were refused above
    _sweep_expired(runtime, area)
    state = area.create(
        owner_id=principal.user_id,
        collection_version_id=collection_version_id,
        replace_dataset_id=replace_id,
        filename=filename,
        length=length,
    )
    log.info("upload %s started: %s (%d bytes) by %s", state.id, filename, length, principal.user_id)
    headers = {**TUS, "Location": f"/uploads/{state.id}", "Upload-Expires": _expires(runtime, state)}
    return Response(status_code=201, headers=headers)


@router.head("/uploads/{upload_id}", include_in_schema=False)
def upload_offset(
    upload_id: str, request: Request, principal: PrincipalDep, runtime: RuntimeDep, area: AreaDep, jobs: LocalJobsDep
) -> Response:
    _check_version(request)
    state = _own_upload(area, principal, upload_id)
    if state.complete and not state.finalised:
        state = _complete_unfinished(runtime, area, state, jobs, principal)
    headers = _receipt_headers(runtime, state)
    headers["Upload-Length"] = str(state.length)
    metadata = {"filename": state.filename, "collection_version_id": state.collection_version_id}
    headers["Upload-Metadata"] = protocol.encode_metadata(metadata)
    return Response(status_code=200, headers=headers)


def _complete_unfinished(
    runtime: Runtime, area: UploadArea, state: UploadState, jobs: LocalJobs, principal: Principal
) -> UploadState:
    """All bytes are here but the file was not handed on yet: its last PATCH is still finishing it (423:
    the client asks again shortly), or that request died before it could (finish it now). Either way the
    client that lost the last response learns what became of its file instead of a bare "complete"."""
    try:
        with area.locked(state.id):
            state = area.load(state.id)
            if state.finalised:
                return state
            try:
                _authorize(runtime, principal, state.collection_version_id, state.replace_dataset_id)
                return finalise_upload(runtime, area, state, jobs)
            except UploadRefused as refused:
                raise _refusal(refused) from None
            except CatalogError as error:
                raise tus_problem(422, f"The file arrived but could not be added: {error}") from None
    except UploadBusy:
        raise tus_problem(423, "The upload is being finished; ask again in a moment.") from None
    except UploadNotFound:
        raise tus_problem(404, "No such upload (it may have expired or been cancelled).") from None


@router.patch("/uploads/{upload_id}", dependencies=CSRF, include_in_schema=False)
async def append_chunk(
    upload_id: str,
    request: Request,
    principal: PrincipalDep,
    runtime: RuntimeDep,
    area: AreaDep,
    jobs: LocalJobsDep,
) -> Response:
    _check_version(request)
    state = _own_upload(area, principal, upload_id)
    try:
        with area.locked(upload_id):
            state = area.load(upload_id)  # re-read under the lock: another request may have appended
            try:
                protocol.check_patch(request.headers, offset=state.offset)
                checksum = protocol.parse_checksum(request.headers.get("upload-checksum"))
            except TusError as error:
                raise tus_problem(error.status, error.detail, **{"Upload-Offset": str(state.offset)}) from None
            if state.finalised:
                raise tus_problem(409, "This upload is complete already.", **{"Upload-Offset": str(state.offset)})
            try:
                await run_in_threadpool(
                    _authorize, runtime, principal, state.collection_version_id, state.replace_dataset_id
                )
            except UploadRefused as refused:
                raise _refusal(refused) from None
            state = await _receive(request, area, state, checksum)
            if state.complete:
                state = await _finalise(runtime, area, state, jobs, principal)
            return Response(status_code=204, headers=_receipt_headers(runtime, state))
    except UploadBusy:
        raise tus_problem(423, "Another request is writing to this upload; retry in a moment.") from None
    except UploadNotFound:
        raise tus_problem(404, "No such upload (it may have expired or been cancelled).") from None


async def _receive(
    request: Request, area: UploadArea, state: UploadState, checksum: protocol.Checksum | None
) -> UploadState:
    """Append the request body at the recorded offset, streaming; keep what arrived if the client vanishes."""
    declared = request.headers.get("content-length")
    room = state.length - state.offset
    if declared is not None and declared.isdigit() and int(declared) > room:
        raise tus_problem(413, f"The chunk has {declared} bytes but only {room} remain of Upload-Length.")
    start = state.offset
    digest = checksum.new_hash() if checksum else None
    handle = await run_in_threadpool(area.open_for_append, state)
    buffer = bytearray()
    written = 0
    disconnected = too_long = False

    async def flush() -> None:
        nonlocal written
        if buffer:
            chunk = bytes(buffer)
            buffer.clear()
            await anyio.to_thread.run_sync(handle.write, chunk)
            written += len(chunk)

    async def checkpoint() -> UploadState:
        await flush()
        await anyio.to_thread.run_sync(_sync, handle)
        return await run_in_threadpool(area.save, replace(state, offset=start + written))

    try:
        try:
            async for piece in request.stream():
                if written + len(buffer) + len(piece) > room:
                    too_long = True
                    piece = piece[: room - written - len(buffer)]
                buffer.extend(piece)
                if digest is not None:
                    digest.update(piece)
                if too_long:
                    break
                if len(buffer) >= WRITE_BUFFER:
                    await flush()
                if digest is None and start + written - state.offset >= CHECKPOINT:
                    state = await checkpoint()
        except ClientDisconnect:
            disconnected = True  # keep every byte that arrived: the client resumes after them
        await flush()
        if too_long:
            # Bytes past Upload-Length mean the client and the server disagree about the file: keep none of it.
            await run_in_threadpool(area.save, replace(state, offset=start))
            raise tus_problem(413, "The request carried more bytes than Upload-Length; the chunk was discarded.")
        if digest is not None and (disconnected or digest.digest() != checksum.digest):  # type: ignore[union-attr]
            # A chunk with a checksum is all or nothing: an incomplete or damaged one is discarded.
            state = await run_in_threadpool(area.save, replace(state, offset=start))
            if disconnected:
                return state
            raise tus_problem(protocol.CHECKSUM_MISMATCH, "Checksum mismatch: the chunk was discarded; send it again.")
        state = await checkpoint()
    finally:
        await anyio.to_thread.run_sync(handle.close)
    return state


def _sync(handle: Any) -> None:
    handle.flush()
    os.fsync(handle.fileno())


async def _finalise(
    runtime: Runtime, area: UploadArea, state: UploadState, jobs: LocalJobs, principal: Principal
) -> UploadState:
    try:
        await run_in_threadpool(_authorize, runtime, principal, state.collection_version_id, state.replace_dataset_id)
        receipt = await run_in_threadpool(finalise_upload, runtime, area, state, jobs)
    except UploadRefused as refused:
        raise _refusal(refused) from None
    except CatalogError as error:
        raise tus_problem(422, f"The file arrived but could not be added: {error}") from None
    log.info("upload %s complete: dataset version %s", state.id, receipt.dataset_version_id)
    return receipt


@router.delete("/uploads/{upload_id}", status_code=204, dependencies=CSRF, include_in_schema=False)
def terminate_upload(
    upload_id: str, request: Request, principal: PrincipalDep, runtime: RuntimeDep, area: AreaDep
) -> Response:
    """Abandon an upload and free its disk space (a finished one's dataset stays: remove that on its page)."""
    _check_version(request)
    _own_upload(area, principal, upload_id)
    try:
        with area.locked(upload_id):
            area.delete(upload_id)
    except UploadBusy:
        raise tus_problem(423, "The upload is being written; pause it first, then cancel.") from None
    except UploadNotFound:
        pass  # gone already: the outcome the caller asked for
    return Response(status_code=204, headers=TUS)


class UrlUpload(BaseModel):
    collection_version_id: str
    url: str
    replace_dataset_id: str | None = None


@router.post("/portal/api/uploads/from-url", status_code=201, dependencies=CSRF, summary="Add a dataset from a URL")
def upload_from_url(
    body: UrlUpload, principal: PrincipalDep, runtime: RuntimeDep, jobs: LocalJobsDep
) -> dict[str, Any]:
    """The pipeline downloads the file as its first step; follow it at the status URL returned."""
    replace_id = (body.replace_dataset_id or "").strip() or None
    try:
        _authorize(runtime, principal, body.collection_version_id, replace_id)
        url = check_source_url(body.url, UrlPolicy.of(runtime.settings))
    except UploadRefused as refused:
        raise Problem(refused.status, None, str(refused)) from None
    submitted = submit_url(
        runtime,
        jobs,
        collection_version_id=body.collection_version_id,
        url=url,
        filename=filename_from_url(url),
        replace_dataset_id=replace_id,
    )
    return {
        "dataset_id": submitted.dataset_id,
        "dataset_version_id": submitted.dataset_version_id,
        "status_url": f"/portal/api/dataset-versions/{submitted.dataset_version_id}/status",
    }
