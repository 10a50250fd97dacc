"""Benchmark our validator against the reference one (cellxgene-schema), side by side, on realistic data.

    .venv/bin/python bench/validate.py --write-doc

For each size a valid dataset is generated once (cellportal.demo.generator, preset human_blood: ~2,000
real human genes, ~7.5 % non-zeros, raw integer counts in raw.X, log1p(CP10k) in X, real ontology terms,
X_pca and X_umap) into --data-dir. Then, for each size and each repetition, both validators run as fresh
child processes, exactly as a user would start them:

- ours: ``.venv/bin/cellportal validate FILE --json``
- reference: ``.venv-ref/bin/cellxgene-schema validate FILE``

The parent waits for each child with ``os.wait4`` and records its wall time and ``ru_maxrss`` (the
kernel's peak resident set size of the process; what ``/usr/bin/time -v`` calls "Maximum resident set
size"). Both verdicts are recorded too: a run where a validator rejects the file is reported as such.

``--write-doc`` replaces the ``## Validator`` section of docs/PERFORMANCE.md (other sections untouched).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from _performance_doc import write_section  # bench/ is on sys.path when a script runs

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "PERFORMANCE.md"
SECTION = "## Validator"
OURS = [str(ROOT / ".venv" / "bin" / "cellportal"), "validate", "{file}", "--json"]
REFERENCE = [str(ROOT / ".venv-ref" / "bin" / "cellxgene-schema"), "validate", "{file}"]
DEFAULT_SIZES = [2_000, 20_000, 100_000, 400_000]
TARGET_SPEEDUP, TARGET_MEMORY_RATIO, TARGET_SMALL_SECONDS = 10.0, 1 / 5, 2.0


@dataclass
class Run:
    tool: str
    cells: int
    seconds: float
    cpu_seconds: float  # user + system CPU of the child: less sensitive than wall time to a busy machine
    peak_rss_mb: float
    exit_code: int
    verdict: str


def dataset(data_dir: Path, n_cells: int, n_genes: int, seed: int) -> Path:
    path = data_dir / f"validate-{n_cells}x{n_genes}-seed{seed}.h5ad"
    if not path.exists():
        from cellportal.demo.generator import generate_dataset

        started = time.perf_counter()
        generate_dataset(path, n_cells=n_cells, n_genes=n_genes, preset="human_blood", seed=seed)
        print(f"generated {path.name} in {time.perf_counter() - started:.1f} s", flush=True)
    return path


def nnz_of(path: Path) -> int:
    import h5py

    with h5py.File(path) as handle:
        return int(handle["raw/X/indptr"][-1])


def measure(tool: str, template: list[str], path: Path, n_cells: int) -> Run:
    """Run one validator in a fresh child; its own peak RSS comes from wait4's rusage."""
    command = [part.replace("{file}", str(path)) for part in template]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    # Drain the pipes before reaping; communicate() would reap the child itself and lose its rusage.
    stdout = process.stdout.read() if process.stdout else b""
    stderr = process.stderr.read() if process.stderr else b""
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = exit_code = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    return Run(tool, n_cells, round(wall, 2), round(cpu, 2), round(usage.ru_maxrss / 1024, 1), exit_code,
               _verdict(tool, exit_code, stdout.decode(errors="replace"), stderr.decode(errors="replace")))  # fmt: skip


def _verdict(tool: str, exit_code: int, stdout: str, stderr: str) -> str:
    if tool == "ours":
        try:
            report = json.loads(stdout)
        except json.JSONDecodeError:
            return f"no JSON (exit {exit_code}): {stderr.strip()[-300:]}"
        if report.get("valid"):
            return "valid"
        return "INVALID: " + "; ".join(e.get("code", "?") for e in report.get("errors", []))
    if exit_code == 0:
        return "valid"
    errors = [line for line in stderr.splitlines() if line.startswith("ERROR:")]
    return f"INVALID (exit {exit_code}): " + " | ".join(errors)[:500]


def machine() -> str:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        total_kb = int(meminfo.read_text().split()[1])
        memory = f", {total_kb / 1024**2:.0f} GiB RAM"
    return f"{os.cpu_count()} cores ({model}){memory}, Linux {platform.release()}, Python {platform.python_version()}"


def render(
    runs: list[Run],
    sizes: dict[int, tuple[int, int, float]],
    command: str,
    repeats: int,
    load: list[float],
    notes: list[str] | tuple[str, ...] = (),
) -> str:
    def best(tool: str, cells: int) -> Run | None:
        mine = [r for r in runs if r.tool == tool and r.cells == cells]
        return min(mine, key=lambda r: r.seconds) if mine else None

    def median(tool: str, cells: int, field: str) -> float:
        return statistics.median(getattr(r, field) for r in runs if r.tool == tool and r.cells == cells)

    lines = [
        SECTION,
        "",
        f"Measured by `bench/validate.py` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; machine: "
        f"{machine()}. Command: `{command}`.",
        "",
        "Method: each validator runs as a fresh child process started the way a user starts it — ours "
        "`.venv/bin/cellportal validate FILE --json`, the reference `.venv-ref/bin/cellxgene-schema validate FILE` "
        "(cellxgene-schema 7.1.2) — alternating ours and the reference for each size. **Time** is the child's wall "
        "clock, start-up and imports included; **CPU** is its user + system CPU time from the same `os.wait4` "
        "rusage (less sensitive than wall time to other work on the machine); **peak RSS** is its `ru_maxrss` "
        "from `os.wait4` (the kernel's "
        "maximum resident set size of that process, as `/usr/bin/time -v` reports it). "
        f"{repeats} run(s) per tool and size; the table shows the median (the fastest in brackets). "
        "The machine is shared with other work, so absolute times carry noise; both tools share it alike "
        f"(1-minute load average {min(load):.1f} to {max(load):.1f} during the run, on {os.cpu_count()} cores).",
        "",
        "Inputs: `cellportal.demo.generator` (preset `human_blood`, seed 1): "
        + "; ".join(
            f"{c:,} cells × {g:,} genes, {nnz:,} non-zeros ({100 * nnz / (c * g):.1f} %), {mb:,.0f} MB"
            for c, (g, nnz, mb) in sizes.items()
        )
        + ". Raw integer counts (float32 CSR) in `raw.X`, log1p(CP10k) in `X`, real Ensembl ids and ontology terms.",
        "",
        "| cells | ours: time (s) | reference: time (s) | speed-up | ours: CPU (s) | reference: CPU (s) | CPU ratio "
        "| ours: peak RSS (MB) | reference: peak RSS (MB) | memory ratio | verdicts (ours / reference) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    verdict_notes = []
    for cells in sizes:
        ours, ref = best("ours", cells), best("reference", cells)
        if ours is None or ref is None:
            continue
        t_ours, t_ref = median("ours", cells, "seconds"), median("reference", cells, "seconds")
        m_ours, m_ref = median("ours", cells, "peak_rss_mb"), median("reference", cells, "peak_rss_mb")
        verdicts = f"{ours.verdict} / {ref.verdict}"
        if len(verdicts) > 40:
            verdict_notes.append(f"- {cells:,} cells: ours {ours.verdict}; reference {ref.verdict}")
            verdicts = "see below"
        c_ours, c_ref = median("ours", cells, "cpu_seconds"), median("reference", cells, "cpu_seconds")
        lines.append(
            f"| {cells:,} | {t_ours:.2f} ({ours.seconds:.2f}) | {t_ref:.1f} ({ref.seconds:.1f}) | "
            f"{t_ref / t_ours:.1f}x | {c_ours:.2f} | {c_ref:.1f} | {c_ref / c_ours:.1f}x | "
            f"{m_ours:,.0f} | {m_ref:,.0f} | 1/{m_ref / m_ours:.1f} | {verdicts} |"
        )
    lines += ["", "Targets: at least 10x faster and at most 1/5 of the reference's peak memory at every size, and "
              "2,000 cells under 2 s."]  # fmt: skip
    for cells in sizes:
        if best("ours", cells) is None or best("reference", cells) is None:
            continue
        t_ours, t_ref = median("ours", cells, "seconds"), median("reference", cells, "seconds")
        m_ours, m_ref = median("ours", cells, "peak_rss_mb"), median("reference", cells, "peak_rss_mb")
        met = [
            f"speed {'met' if t_ref / t_ours >= TARGET_SPEEDUP else 'NOT met'}",
            f"memory {'met' if m_ours <= m_ref * TARGET_MEMORY_RATIO else 'NOT met'}",
        ]
        if cells <= 2_000:
            met.append(f"under 2 s {'met' if t_ours < TARGET_SMALL_SECONDS else 'NOT met'}")
        lines.append(f"- {cells:,} cells: " + ", ".join(met) + ".")
    if verdict_notes:
        lines += ["", "Verdicts:", *verdict_notes]
    for note in notes:
        lines += ["", note]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", type=int, nargs="+", default=DEFAULT_SIZES)
    parser.add_argument("--genes", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=1, help="runs per tool and size (the median is reported)")
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "cellportal-bench")
    parser.add_argument("--no-reference", action="store_true", help="time our validator only")
    parser.add_argument("--write-doc", action="store_true", help="update the Validator section of PERFORMANCE.md")
    parser.add_argument("--json", type=Path, help="also write every run as JSON here")
    parser.add_argument("--note", action="append", default=[], help="a paragraph to add under the table")
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)

    runs: list[Run] = []
    sizes: dict[int, tuple[int, int, float]] = {}
    load = [os.getloadavg()[0]]
    for n_cells in args.cells:
        path = dataset(args.data_dir, n_cells, args.genes, args.seed)
        sizes[n_cells] = (args.genes, nnz_of(path), path.stat().st_size / 1e6)
        for _ in range(args.repeats):
            plan = [("ours", OURS)] + ([] if args.no_reference else [("reference", REFERENCE)])
            for tool, template in plan:
                run = measure(tool, template, path, n_cells)
                runs.append(run)
                load.append(os.getloadavg()[0])
                print(f"{n_cells:>8,} cells  {tool:<9}  {run.seconds:8.2f} s  cpu {run.cpu_seconds:8.2f} s  "
                      f"{run.peak_rss_mb:8.0f} MB  "
                      f"{run.verdict[:120]}", flush=True)  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in runs], indent=1))
    shown = [arg for i, arg in enumerate(sys.argv[1:]) if arg != "--note" and (i == 0 or sys.argv[i] != "--note")]
    command = "python bench/validate.py " + shlex.join(shown)  # notes are printed below the table instead
    text = render(runs, sizes, command.strip(), args.repeats, load, args.note)
    print("\n" + text)
    if args.write_doc:
        write_section(SECTION, text)


if __name__ == "__main__":
    main()
