"""Decisions about jobs, as plain functions of values: who may run a job, what the reaper does, and
what a finished pipeline means for its dataset. No session, no clock: callers pass ``now`` in.

A job row moves QUEUED -> RUNNING -> SUCCEEDED | FAILED. A RUNNING job whose heartbeat went silent
(its worker was killed) goes back to QUEUED until it has used its attempts, then to FAILED.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from cellportal.catalog.statuses import ArtifactType, ConversionStatus, JobState

# Kind of the job rows this package runs; other kinds are ignored by the reaper.
DATASET_PROCESS = "dataset.process"
# A worker's presence is a row of the job table too (state RUNNING, heartbeat_at fresh while it lives),
# so `ingest` can tell whether a worker will pick its jobs up without a table of its own.
WORKER_PRESENCE = "worker.presence"

_TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    JobState.QUEUED: frozenset({JobState.RUNNING, JobState.FAILED}),
    JobState.RUNNING: frozenset({JobState.RUNNING, JobState.QUEUED, JobState.SUCCEEDED, JobState.FAILED}),
    JobState.SUCCEEDED: frozenset(),
    JobState.FAILED: frozenset(),
}


def can_transition(current: str, target: str) -> bool:
    """RUNNING -> RUNNING is a take-over of a job whose worker went silent."""
    return JobState(target) in _TRANSITIONS[JobState(current)]


def is_stale(heartbeat_at: datetime | None, now: datetime, stale_seconds: float) -> bool:
    return heartbeat_at is None or now - heartbeat_at > timedelta(seconds=stale_seconds)


def may_claim(state: str, heartbeat_at: datetime | None, now: datetime, stale_seconds: float) -> bool:
    """A delivered message runs its job only if nobody else is running it.

    Brokers may deliver a message twice (RabbitMQ redelivers after a dead connection while the reaper
    also re-queues); the job row, not the message, decides who works.
    """
    if state == JobState.QUEUED:
        return True
    return state == JobState.RUNNING and is_stale(heartbeat_at, now, stale_seconds)


class ReapAction(StrEnum):
    NONE = "none"
    REQUEUE = "requeue"  # RUNNING, silent: its worker died; run it again
    FAIL = "fail"  # RUNNING, silent, out of attempts
    RESEND = "resend"  # QUEUED for long: its message may have been lost (send failed, broker lost it)


@dataclass(frozen=True)
class ReaperPolicy:
    stale_seconds: float
    max_attempts: int
    # A QUEUED job is sent again after this long; a duplicate message is harmless (see may_claim).
    resend_seconds: float


def reap_decision(
    state: str, heartbeat_at: datetime | None, attempts: int, now: datetime, policy: ReaperPolicy
) -> ReapAction:
    if state == JobState.RUNNING and is_stale(heartbeat_at, now, policy.stale_seconds):
        return ReapAction.FAIL if attempts >= policy.max_attempts else ReapAction.REQUEUE
    if state == JobState.QUEUED and is_stale(heartbeat_at, now, policy.resend_seconds):
        return ReapAction.RESEND
    return ReapAction.NONE


def worker_alive(heartbeat_at: datetime | None, now: datetime, stale_seconds: float) -> bool:
    return not is_stale(heartbeat_at, now, stale_seconds)


# Artifacts produced by conversion, in the order they are shown; raw_h5ad is the stored original.
CONVERTED_TYPES: tuple[ArtifactType, ...] = (
    ArtifactType.H5AD,
    ArtifactType.EXPLORER,
    ArtifactType.RDS,
    ArtifactType.LOOM,
)
# Without these a dataset cannot be offered at all; the others may fail alone (their artifact says FAILED).
REQUIRED_TYPES: frozenset[ArtifactType] = frozenset({ArtifactType.H5AD})


def conversions_succeeded(statuses: Mapping[str, str]) -> bool:
    """True when every required artifact was converted; an optional one may be FAILED or SKIPPED."""
    return all(statuses.get(t) == ConversionStatus.CONVERTED for t in REQUIRED_TYPES)


def failed_conversions(statuses: Mapping[str, str]) -> list[str]:
    return [t for t, s in statuses.items() if s == ConversionStatus.FAILED]


# Step names written to the job row, with the share of the whole job each one takes (for progress bars).
STEP_WEIGHTS: dict[str, float] = {
    "upload": 0.05,
    "validate": 0.25,
    "label": 0.15,
    "convert": 0.55,
}


def overall_progress(step: str, fraction: float) -> float:
    """Progress of the whole job when `step` is `fraction` done."""
    done = 0.0
    for name, weight in STEP_WEIGHTS.items():
        if name == step:
            return min(1.0, done + weight * max(0.0, min(1.0, fraction)))
        done += weight
    return done
