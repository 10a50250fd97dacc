"""The upload area on a real directory: durable offsets, one writer at a time, and expiry of abandoned uploads."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from cellportal.uploads.staging import UploadArea, UploadBusy, UploadNotFound


def new_upload(area: UploadArea, length: int = 100) -> str:
    return area.create(owner_id="u1", collection_version_id="cv", filename="a.h5ad", length=length).id


def test_bytes_past_the_recorded_offset_are_cut_before_the_next_append(tmp_path: Path) -> None:
    area = UploadArea(tmp_path)
    upload_id = new_upload(area)
    state = area.load(upload_id)
    with area.open_for_append(state) as handle:
        handle.write(b"written but never recorded (a crash before the state was saved)")
    with area.open_for_append(area.load(upload_id)) as handle:
        handle.write(b"abc")
    assert area.data_path(upload_id).read_bytes() == b"abc"


def test_one_writer_at_a_time(tmp_path: Path) -> None:
    area = UploadArea(tmp_path)
    upload_id = new_upload(area)
    with area.locked(upload_id), pytest.raises(UploadBusy), area.locked(upload_id):
        pass
    with area.locked(upload_id):  # released: usable again
        pass


def test_ids_that_are_not_ours_are_unknown(tmp_path: Path) -> None:
    area = UploadArea(tmp_path)
    for bad in ("../etc", "abc", "A" * 32, ""):
        with pytest.raises(UploadNotFound):
            area.load(bad)


def age(area: UploadArea, upload_id: str, seconds: float) -> None:
    """Make an upload look last touched `seconds` ago (as if its browser went away then)."""
    path = area.folder(upload_id) / "state.json"
    state = json.loads(path.read_text())
    state["updated_at"] = time.time() - seconds
    path.write_text(json.dumps(state))


def test_abandoned_uploads_expire_and_active_ones_stay(tmp_path: Path) -> None:
    area = UploadArea(tmp_path)
    old, busy, fresh = new_upload(area), new_upload(area), new_upload(area)
    age(area, old, 7200)
    age(area, busy, 7200)
    with area.locked(busy):
        removed = area.expire_stale(max_age_seconds=3600)
    assert removed == [old]
    assert not area.folder(old).exists()
    assert area.folder(busy).exists()  # being written right now: skipped this round
    assert area.folder(fresh).exists()
    assert area.expire_stale(max_age_seconds=3600) == [busy]
    assert area.expire_stale(max_age_seconds=3600) == []
    assert list(area.ids()) == [fresh]
