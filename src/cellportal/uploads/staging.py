"""Uploads in progress, on disk: ``<work_dir>/uploads/<id>/`` holds ``data`` (the bytes received so far),
``state.json`` (metadata and the durable offset) and ``lock``.

Why the offset lives in ``state.json`` and not in the size of ``data``: bytes are only counted once they
are fsynced, and the state is replaced atomically (write + rename), so after a crash the recorded offset
never claims bytes that are not on disk. Bytes past it (written, not yet recorded) are cut off before the
next append. One writer at a time per upload, across threads and processes: an exclusive ``flock`` on
``lock``, taken without waiting (a second PATCH is told 423 Locked and retries).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import IO

_ID = re.compile(r"^[0-9a-f]{32}$")
STATE = "state.json"
DATA = "data"
LOCK = "lock"


class UploadNotFound(LookupError):
    """No upload has this id (never created, terminated, or expired and cleaned up)."""


class UploadBusy(RuntimeError):
    """Another request is writing to this upload right now."""


@dataclass(frozen=True)
class UploadState:
    id: str
    owner_id: str
    collection_version_id: str
    filename: str
    length: int
    replace_dataset_id: str | None = None
    offset: int = 0
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    # Set once the finished file is in the blob store (its bytes then leave the upload area).
    blob_sha256: str | None = None
    # Set once the finished file became a dataset version (the upload is then only a receipt).
    dataset_version_id: str | None = None
    job_id: str | None = None

    @property
    def complete(self) -> bool:
        return self.offset == self.length

    @property
    def finalised(self) -> bool:
        return self.dataset_version_id is not None


class UploadArea:
    """The folder of all uploads in progress."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def folder(self, upload_id: str) -> Path:
        if not _ID.match(upload_id):  # also rules out path traversal
            raise UploadNotFound(upload_id)
        return self.root / upload_id

    def data_path(self, upload_id: str) -> Path:
        return self.folder(upload_id) / DATA

    def create(self, **fields: object) -> UploadState:
        state = UploadState(id=uuid.uuid4().hex, **fields)  # type: ignore[arg-type]
        folder = self.folder(state.id)
        folder.mkdir(parents=True)
        (folder / DATA).touch()
        (folder / LOCK).touch()
        self.save(state)
        return state

    def load(self, upload_id: str) -> UploadState:
        try:
            raw = (self.folder(upload_id) / STATE).read_text()
        except FileNotFoundError:
            raise UploadNotFound(upload_id) from None
        return UploadState(**json.loads(raw))

    def save(self, state: UploadState) -> UploadState:
        """Replace the state atomically (a reader sees the old or the new file, never half of one)."""
        state = replace(state, updated_at=time.time())
        folder = self.folder(state.id)
        temp = folder / f".{STATE}.{uuid.uuid4().hex}"
        with open(temp, "w") as out:
            json.dump(asdict(state), out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, folder / STATE)
        return state

    @contextlib.contextmanager
    def locked(self, upload_id: str) -> Iterator[None]:
        """Exclusive use of one upload, or UploadBusy at once."""
        try:
            handle = open(self.folder(upload_id) / LOCK, "a+b")  # noqa: SIM115 (held for the block)
        except FileNotFoundError:
            raise UploadNotFound(upload_id) from None
        with handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise UploadBusy(upload_id) from None
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def open_for_append(self, state: UploadState) -> IO[bytes]:
        """The data file positioned at the recorded offset; unrecorded bytes past it are cut off."""
        handle = open(self.data_path(state.id), "r+b")  # noqa: SIM115 (the caller closes it)
        handle.truncate(state.offset)
        handle.seek(state.offset)
        return handle

    def delete(self, upload_id: str) -> None:
        shutil.rmtree(self.folder(upload_id), ignore_errors=True)

    def ids(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for child in self.root.iterdir():
            if child.is_dir() and _ID.match(child.name):
                yield child.name

    def expire_stale(self, *, max_age_seconds: float, now: float | None = None) -> list[str]:
        """Delete uploads untouched for longer than `max_age_seconds`; returns their ids.

        An upload being written is skipped (its lock is held), and so is a folder whose state cannot be read
        yet (being created) unless it is itself older than the limit.
        """
        now = time.time() if now is None else now
        removed = []
        for upload_id in list(self.ids()):
            folder = self.folder(upload_id)
            try:
                touched = self.load(upload_id).updated_at
            except (UploadNotFound, ValueError, TypeError):
                touched = _mtime(folder)
            if touched is None or now - touched <= max_age_seconds:
                continue
            try:
                with self.locked(upload_id):
                    self.delete(upload_id)
            except (UploadBusy, UploadNotFound):
                continue
            removed.append(upload_id)
        return removed


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return None
