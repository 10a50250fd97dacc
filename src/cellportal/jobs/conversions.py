"""Run conversions as child processes, as many at once as there are cores (or as asked).

Children die with their parent (PR_SET_PDEATHSIG on Linux), so a killed worker leaves no conversion
writing behind it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cellportal.jobs._process import die_with_parent


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
    limit = parallelism or default_parallelism()
    waiting = list(tasks)
    running: dict[str, tuple[subprocess.Popen[bytes], ConversionTask, Path, Path]] = {}
    outcomes: dict[str, ConversionOutcome] = {}
    try:
        while waiting or running:
            while waiting and len(running) < limit:
                task = waiting.pop(0)
                running[task.artifact_type] = _start(task)
            for artifact_type, (process, task, outcome_path, log_path) in list(running.items()):
                if process.poll() is None:
                    continue
                del running[artifact_type]
                outcome = _read_outcome(task, process.returncode, outcome_path, log_path)
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
