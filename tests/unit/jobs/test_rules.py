"""The job state machine and the reaper's decisions, as plain values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cellportal.catalog.statuses import ConversionStatus, JobState
from cellportal.jobs.rules import (
    ReapAction,
    ReaperPolicy,
    can_transition,
    conversions_succeeded,
    failed_conversions,
    may_claim,
    overall_progress,
    reap_decision,
    worker_alive,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
POLICY = ReaperPolicy(stale_seconds=60, max_attempts=3, resend_seconds=600)


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        (JobState.QUEUED, JobState.RUNNING, True),
        (JobState.QUEUED, JobState.SUCCEEDED, False),
        (JobState.RUNNING, JobState.SUCCEEDED, True),
        (JobState.RUNNING, JobState.QUEUED, True),
        (JobState.RUNNING, JobState.RUNNING, True),
        (JobState.SUCCEEDED, JobState.RUNNING, False),
        (JobState.FAILED, JobState.QUEUED, False),
    ],
)
def test_transitions(current: JobState, target: JobState, allowed: bool) -> None:
    assert can_transition(current, target) is allowed


@pytest.mark.parametrize(
    ("state", "heartbeat", "claimable"),
    [
        (JobState.QUEUED, ago(1), True),
        (JobState.RUNNING, ago(5), False),  # another worker is on it
        (JobState.RUNNING, ago(61), True),  # its worker went silent: a redelivered message takes over
        (JobState.RUNNING, None, True),
        (JobState.SUCCEEDED, ago(1000), False),  # a duplicate message after the job finished
        (JobState.FAILED, ago(1000), False),
    ],
)
def test_may_claim(state: JobState, heartbeat: datetime | None, claimable: bool) -> None:
    assert may_claim(state, heartbeat, NOW, 60) is claimable


@pytest.mark.parametrize(
    ("state", "heartbeat", "attempts", "action"),
    [
        (JobState.RUNNING, ago(10), 1, ReapAction.NONE),
        (JobState.RUNNING, ago(61), 1, ReapAction.REQUEUE),
        (JobState.RUNNING, ago(61), 2, ReapAction.REQUEUE),
        (JobState.RUNNING, ago(61), 3, ReapAction.FAIL),
        (JobState.RUNNING, None, 1, ReapAction.REQUEUE),
        (JobState.QUEUED, ago(61), 0, ReapAction.NONE),  # waiting in a queue is not a failure
        (JobState.QUEUED, ago(601), 0, ReapAction.RESEND),  # its message was probably lost
        (JobState.SUCCEEDED, ago(10_000), 1, ReapAction.NONE),
        (JobState.FAILED, ago(10_000), 3, ReapAction.NONE),
    ],
)
def test_reap_decision(state: JobState, heartbeat: datetime | None, attempts: int, action: ReapAction) -> None:
    assert reap_decision(state, heartbeat, attempts, NOW, POLICY) is action


def test_worker_alive_is_a_fresh_heartbeat() -> None:
    assert worker_alive(ago(5), NOW, 15)
    assert not worker_alive(ago(16), NOW, 15)
    assert not worker_alive(None, NOW, 15)


def test_a_failed_optional_conversion_does_not_fail_the_dataset() -> None:
    statuses = {
        "h5ad": ConversionStatus.CONVERTED,
        "explorer": ConversionStatus.CONVERTED,
        "rds": ConversionStatus.FAILED,
        "loom": ConversionStatus.SKIPPED,
    }
    assert conversions_succeeded(statuses)
    assert failed_conversions(statuses) == ["rds"]


def test_without_the_labelled_h5ad_the_dataset_fails() -> None:
    assert not conversions_succeeded({"h5ad": ConversionStatus.FAILED, "loom": ConversionStatus.CONVERTED})
    assert not conversions_succeeded({})


def test_overall_progress_is_monotonic_across_steps() -> None:
    points = [overall_progress(step, f) for step in ("upload", "validate", "label", "convert") for f in (0, 0.5, 1)]
    assert points == sorted(points)
    assert points[0] == 0.0
    assert points[-1] == pytest.approx(1.0)
    assert overall_progress("validate", 2.0) == overall_progress("validate", 1.0)
