"""The whole pipeline of one dataset version, ours against what the reference takes to validate and label.

    .venv/bin/python bench/pipeline.py --cells 100000 400000 --write-doc

For each size a dataset is generated once (cellportal.demo.generator, preset human_blood, 2,000 genes, seed 7:
the same files as bench/convert.py) into --data-dir. Then, in one run, alternating per size:

- **reference**: cellxgene-schema 7.1.2 from `.venv-ref`, as a curator runs it to validate and label:
  `cellxgene-schema validate --add-labels OUT FILE`, one child process; its wall time and peak RSS
  (`ru_maxrss` from `os.wait4`).
- **ours**: a child process that is a worker as `cellportal ingest` runs one when no worker is alive: a fresh
  SQLite catalog and local blob store in a scratch folder, the file submitted (`upload_dataset`: staged and
  put into the blob store), then the job run by `cellportal.jobs.runner.run_job` with the real validator,
  labeller and converters (each conversion in its own child process, as many at once as there are cores).
  Reported: wall time from the submission to the last artifact stored, the pipeline's per-step times (from
  its `step ... took` log records), each conversion child's wall time and peak RSS, and the worker
  process's own peak RSS.

`--write-doc` replaces the `## Pipeline` section of docs/PERFORMANCE.md (other sections untouched).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _performance_doc import write_section  # bench/ is on sys.path when a script runs
from convert import dataset, nnz_of

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Pipeline"
REFERENCE_BIN = Path(os.environ.get("CELLPORTAL_REFERENCE_PYTHON", ROOT / ".venv-ref" / "bin" / "python")).parent
CONVERSIONS = ("h5ad", "explorer", "rds", "loom")


# ---- the child that is our worker ----------------------------------------------------------------------


class _StepTimes(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.steps: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        step, seconds = getattr(record, "step", None), getattr(record, "seconds", None)
        if step is not None and seconds is not None:
            self.steps[str(step)] = round(float(seconds), 2)


def run_ours(source: Path, scratch: Path) -> dict[str, Any]:
    import resource

    from cellportal.catalog import service as catalog
    from cellportal.catalog.db import transaction
    from cellportal.catalog.migrate import upgrade
    from cellportal.config import Settings
    from cellportal.jobs.conversions import run_conversions
    from cellportal.jobs.pipeline import default_collaborators
    from cellportal.jobs.runner import run_job, worker_identity
    from cellportal.jobs.submit import upload_dataset
    from cellportal.runtime import Runtime

    handler = _StepTimes()
    for name in ("cellportal.jobs.pipeline", "cellportal.jobs.conversions"):
        logging.getLogger(name).addHandler(handler)
        logging.getLogger(name).setLevel(logging.INFO)

    shutil.rmtree(scratch, ignore_errors=True)
    runtime = Runtime(Settings(data_dir=scratch, public_url="https://cells.example.org"))  # type: ignore[call-arg]
    upgrade(runtime.engine)
    with transaction(runtime.sessions) as session:
        collection_version_id = catalog.create_collection(
            session,
            owner_id="bench",
            name="Pipeline benchmark",
            description="bench/pipeline.py",
            contact_name="Bench",
            contact_email="bench@example.org",
        ).id
    children: dict[str, dict[str, Any]] = {}

    def recording_run_conversions(tasks: list[Any], **options: Any) -> dict[str, Any]:
        outcomes = run_conversions(tasks, **options)
        for artifact_type, outcome in outcomes.items():
            children[artifact_type] = {
                "status": outcome.status,
                "reason": outcome.reason,
                "seconds": outcome.seconds,
                "peak_rss_mb": outcome.peak_rss_mb,
            }
        return outcomes

    collaborators = default_collaborators(runtime.blobs, public_url=runtime.settings.public_url)
    collaborators.run_conversions = recording_run_conversions

    started = time.perf_counter()
    submitted = upload_dataset(runtime, collection_version_id=collection_version_id, path=source, use_worker=False)
    submit_seconds = time.perf_counter() - started
    outcome = run_job(runtime, submitted.job_id, owner=worker_identity("bench"), collaborators=collaborators)
    total = time.perf_counter() - started
    sizes = {}
    from cellportal.jobs.recorder import DatasetRecorder

    for artifact_type, state in DatasetRecorder(runtime.sessions, submitted.dataset_version_id).artifacts().items():
        sizes[str(artifact_type)] = round((state.size or 0) / 1e6, 1)
    runtime.close()
    return {
        "outcome": str(outcome),
        "seconds": round(total, 1),
        "submit_seconds": round(submit_seconds, 1),
        "steps": handler.steps,
        "children": children,
        "sizes_mb": sizes,
        "worker_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


# ---- the parent -----------------------------------------------------------------------------------------


def timed(command: list[str], log_path: Path) -> dict[str, Any]:
    """Run `command`; its wall time, the kernel's peak RSS of that one process, and its exit code."""
    load = round(os.getloadavg()[0], 1)
    started = time.perf_counter()
    with open(log_path, "ab") as log:
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "exit": process.returncode,
        "load": load,
    }


def reference(source: Path, work: Path) -> dict[str, Any]:
    """cellxgene-schema as a curator runs it to validate and label: one process, `validate --add-labels`."""
    cli = str(REFERENCE_BIN / "cellxgene-schema")
    labelled = work / "reference-labelled.h5ad"
    labelled.unlink(missing_ok=True)
    run = timed([cli, "validate", "--add-labels", str(labelled), str(source)], work / "reference.log")
    written = labelled.exists()
    labelled.unlink(missing_ok=True)
    return {**run, "labelled_written": written}


def ours(source: Path, work: Path) -> dict[str, Any]:
    result_path = work / "ours.json"
    result_path.unlink(missing_ok=True)
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        str(source),
        str(work / "ours"),
        str(result_path),
    ]
    process = timed(command, work / "ours.log")
    result = json.loads(result_path.read_text()) if result_path.exists() else {"outcome": f"exit {process['exit']}"}
    shutil.rmtree(work / "ours", ignore_errors=True)
    return {"process": process, **result}


def render(runs: list[dict[str, Any]], command: str, note: str) -> str:
    lines = [
        SECTION,
        "",
        f"Measured by `bench/pipeline.py` ({time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {os.cpu_count()} "
        f"cores; command: `{command}`). **Ours** is the whole pipeline of one dataset version as a worker runs it: "
        "the file submitted into a local blob store and a SQLite catalog, then validate, label, and the four "
        "downloads (h5ad, explorer store, Seurat rds, loom) made in child processes, as many at once as there are "
        "cores, each stored in the blob store — timed from the submission to the last artifact stored. "
        "**Reference** is cellxgene-schema 7.1.2 as a curator runs it to validate and label: "
        "`cellxgene-schema validate --add-labels OUT FILE` (one process). "
        "Peak RSS is each process's `ru_maxrss` from `os.wait4`.",
        "",
        "| cells | non-zeros (X, raw.X each) | ours: whole pipeline (s) | reference: validate --add-labels (s) "
        "| ratio | ours: worker peak RSS (MB) | ours: largest conversion peak RSS (MB) | reference: peak RSS (MB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        mine, ref = run["ours"], run["reference"]
        children = mine.get("children", {})
        largest = max((c["peak_rss_mb"] or 0 for c in children.values()), default=0)
        ref_rss = ref["peak_rss_mb"]
        ratio = f"{ref['seconds'] / mine['seconds']:.2f}x faster" if mine.get("seconds") else "–"
        lines.append(
            f"| {run['cells']:,} | {run['nnz']:,} | {mine.get('seconds', '–')} | {ref['seconds']} | {ratio} "
            f"| {mine.get('worker_peak_rss_mb', '–'):,} | {largest:,.0f} | {ref_rss:,} |"
        )
    lines += [
        "",
        "Where our time goes (seconds; the conversions overlap, so their times add up to more than the convert step):",
        "",
        "| cells | submit | validate | metadata | label | convert (all four) | "
        + " | ".join(f"{c} (s / peak MB / size MB)" for c in CONVERSIONS)
        + " |",
        "|---|---|---|---|---|---|" + "---|" * len(CONVERSIONS),
    ]
    for run in runs:
        mine = run["ours"]
        steps, children, sizes = mine.get("steps", {}), mine.get("children", {}), mine.get("sizes_mb", {})
        cells = []
        for c in CONVERSIONS:
            child = children.get(c)
            cells.append(
                f"{child['seconds']} / {child['peak_rss_mb']:.0f} / {sizes.get(c, '–')}" if child else "– (not run)"
            )
        lines.append(
            f"| {run['cells']:,} | {mine.get('submit_seconds', '–')} | {steps.get('validate', '–')} "
            f"| {steps.get('metadata', '–')} | {steps.get('label', '–')} | {steps.get('convert', '–')} | "
            + " | ".join(cells)
            + " |"
        )
    loads = [run["ours"]["process"]["load"] for run in runs] + [run["reference"]["load"] for run in runs]
    lines += [
        "",
        f"1-minute load average when each measured process started: {min(loads)}–{max(loads)} "
        f"({os.cpu_count()} cores). Outcomes: "
        + "; ".join(
            f"{run['cells']:,} cells: ours {run['ours'].get('outcome')}, reference exit {run['reference']['exit']}"
            f" (labelled file {'written' if run['reference']['labelled_written'] else 'NOT written'})"
            for run in runs
        )
        + ".",
    ]
    failed = [
        f"{run['cells']:,} cells, {name}: {child['status']} {child.get('reason') or ''}".strip()
        for run in runs
        for name, child in run["ours"].get("children", {}).items()
        if child["status"] != "CONVERTED"
    ]
    if failed:
        lines += ["", "Conversions that did not succeed: " + "; ".join(failed) + "."]
    if note:
        lines += ["", note]
    return "\n".join(lines) + "\n"


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        source, scratch, result = sys.argv[2:5]
        Path(result).write_text(json.dumps(run_ours(Path(source), Path(scratch))))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", type=int, nargs="+", default=[100_000, 400_000])
    parser.add_argument("--genes", type=int, default=2000)
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "cellportal-bench")
    parser.add_argument("--no-reference", action="store_true", help="time ours only (no ratio is reported)")
    parser.add_argument("--write-doc", action="store_true", help="update the Pipeline section of PERFORMANCE.md")
    parser.add_argument("--json", type=Path, help="also write every measurement to this file")
    parser.add_argument("--from-json", type=Path, help="render from a previous run's --json file")
    parser.add_argument("--note", default="", help="a paragraph added under the tables (e.g. machine conditions)")
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    command = f"python bench/pipeline.py --cells {' '.join(map(str, args.cells))}" + (
        " --write-doc" if args.write_doc else ""
    )
    if args.from_json:
        saved = json.loads(args.from_json.read_text())
        runs, command = saved["runs"], saved["command"]
    else:
        runs = []
        for n_cells in args.cells:
            source = dataset(args.data_dir, n_cells, args.genes)
            work = args.data_dir / f"pipeline-{n_cells}"
            work.mkdir(exist_ok=True)
            run: dict[str, Any] = {"cells": n_cells, "nnz": nnz_of(source), "ours": ours(source, work)}
            print(json.dumps(run["ours"]), flush=True)
            if not args.no_reference:
                run["reference"] = reference(source, work)
                print(json.dumps(run["reference"]), flush=True)
            runs.append(run)
            if args.json:  # after every size, so an interrupted run keeps what it measured
                args.json.write_text(json.dumps({"command": command, "runs": runs}, indent=1))
    if any("reference" not in run for run in runs):
        print(json.dumps(runs, indent=1))
        return
    text = render(runs, command, args.note)
    print(text)
    if args.write_doc:
        write_section(SECTION, text)


if __name__ == "__main__":
    main()
