"""Run conversions as child processes, as many at once as there are cores (or as asked).

Children die with their parent (PR_SET_PDEATHSIG on Linux), so a killed worker leaves no conversion
writing behind it. Each child is reaped with ``os.wait4``, so its outcome carries its wall time and the
kernel's peak resident set size of that one process (logged, and read by ``bench/pipeline.py``).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cellportal.jobs._process import die_with_parent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConversionTask:
    artifact_type: str
    source: Path
    dest: Path
    context: dict[str, Any]


@dataclass(frozen=True)
class ConversionOutcome:
    artifact_type: str
    status: str  # CONVERTED | SKIPPED | FAILED
    reason: str | None
    dest: Path
    seconds: float | None = None  # wall time of the child process
    peak_rss_mb: float | None = None  # its ru_maxrss (peak resident set size), MiB


def default_parallelism() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def run_conversions(
    tasks: list[ConversionTask],
    *,
    parallelism: int | None = None,
    on_done: Callable[[ConversionOutcome], None] | None = None,
    poll_seconds: float = 0.2,
    should_stop: Callable[[], bool] | None = None,
) -> dict[str, ConversionOutcome]:
    """Run `tasks` in their order, at most `parallelism` at once; `on_done` sees each outcome as it ends."""
    limit = parallelism or default_parallelism()
    waiting = list(tasks)
    running: dict[str, tuple[subprocess.Popen[bytes], ConversionTask, Path, Path, float]] = {}
    outcomes: dict[str, ConversionOutcome] = {}
    try:
        while waiting or running:
            while waiting and len(running) < limit:
                task = waiting.pop(0)
                running[task.artifact_type] = (*_start(task), time.perf_counter())
            for artifact_type, (process, task, outcome_path, log_path, started) in list(running.items()):
                pid, status, usage = os.wait4(process.pid, os.WNOHANG)
                if pid == 0:
                    continue
                process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
                del running[artifact_type]
                outcome = _read_outcome(task, process.returncode, outcome_path, log_path)
                outcome = replace(
                    outcome,
                    seconds=round(time.perf_counter() - started, 2),
                    peak_rss_mb=round(usage.ru_maxrss / 1024, 1),  # KiB on Linux
                )
                log.info(
                    "conversion %s: %s in %.1f s, peak RSS %.0f MiB",
                    artifact_type,
                    outcome.status,
                    outcome.seconds,
                    outcome.peak_rss_mb,
                )
                outcomes[artifact_type] = outcome
                if on_done:
                    on_done(outcome)
            if should_stop and should_stop():
                break
            if running:
                time.sleep(poll_seconds)
    finally:
        for process, *_ in running.values():
            process.kill()
            process.wait()
    return outcomes


def _start(task: ConversionTask) -> tuple[subprocess.Popen[bytes], ConversionTask, Path, Path]:
    task.dest.parent.mkdir(parents=True, exist_ok=True)
    base = task.dest.parent / f".{task.artifact_type}"
    request_path, outcome_path, log_path = (
        Path(f"{base}.request.json"),
        Path(f"{base}.outcome.json"),
        Path(f"{base}.log"),
    )
    outcome_path.unlink(missing_ok=True)
    request_path.write_text(
        json.dumps(
            {
                "artifact_type": task.artifact_type,
                "source": str(task.source),
                "dest": str(task.dest),
                "context": task.context,
                "outcome": str(outcome_path),
            }
        )
    )
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "cellportal.jobs.convert_one", str(request_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
    return process, task, outcome_path, log_path


def _read_outcome(task: ConversionTask, returncode: int, outcome_path: Path, log_path: Path) -> ConversionOutcome:
    if outcome_path.exists():
        data = json.loads(outcome_path.read_text())
        return ConversionOutcome(task.artifact_type, data["status"], data.get("reason"), task.dest)
    tail = log_path.read_text(errors="replace").strip().splitlines()[-3:] if log_path.exists() else []
    how = f"was killed by signal {-returncode}" if returncode < 0 else f"exited with status {returncode}"
    detail = (": " + " | ".join(tail)) if tail else ""
    return ConversionOutcome(
        task.artifact_type, "FAILED", f"the {task.artifact_type} converter {how}{detail}", task.dest
    )
