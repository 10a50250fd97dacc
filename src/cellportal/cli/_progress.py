"""Rich progress bars for uploads and processing, on stderr so ``--json`` keeps stdout clean."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)

from cellportal.jobs.submit import DatasetState, Submitted

stderr = Console(stderr=True)


def upload_bar() -> Progress:
    return Progress(
        TextColumn("[bold]upload[/] {task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=stderr,
        transient=False,
    )


class ProcessingBars:
    """One bar per dataset: its step and progress as the job row tells them."""

    def __init__(self, submitted: Sequence[Submitted]) -> None:
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            console=stderr,
        )
        self._tasks: list[TaskID] = [
            self.progress.add_task(item.filename, total=1.0, status="queued") for item in submitted
        ]

    def __enter__(self) -> ProcessingBars:
        self.progress.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.progress.stop()

    def update(self, states: list[DatasetState]) -> None:
        for task, state in zip(self._tasks, states, strict=True):
            if state.finished:
                self.progress.update(task, completed=1.0, status=state.processing_status)
            else:
                status = state.step or state.job_state.lower()
                self.progress.update(task, completed=state.progress, status=status)
