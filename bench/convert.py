"""Benchmark the download-format converters against the obvious reference tools.

    .venv/bin/python bench/convert.py --cells 100000 400000 --write-doc

For each size a dataset is generated once (cellportal.demo.generator, ~2,000 genes, raw counts + X,
UMAP and 50 PCs) into --data-dir. Every step then runs in a fresh child process of this script; the
parent waits for it with os.wait4 and reports the child's wall time and `ru_maxrss`, the kernel's peak
resident set size of that one process (what `/usr/bin/time -v` calls "Maximum resident set size").

References (each the straightforward way to make the same file):
- h5ad: anndata `read_h5ad`, set `uns["citation"]`, `write_h5ad(compression="gzip")`.
- loom: `AnnData.write_loom(write_obsm_varm=True)` (CELLxGENE's old call) and `loompy.create` with X and
  the counts layer.
- rds: rds2py's own writer on the whole matrices (`rds2py.write_rds` of a list of the counts and data
  dgCMatrix): only the two matrices, so a lower bound on what building a Seurat object that way costs.
- explorer: no standard tool makes this store; the reference is the in-memory route (read X whole,
  `tocsc()`, write both orientations with h5py).

`--write-doc` replaces the `## Conversions` section of docs/PERFORMANCE.md (other sections untouched).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from _performance_doc import write_section  # bench/ is on sys.path when a script runs

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "PERFORMANCE.md"
SECTION = "## Conversions"

OURS = ["h5ad", "explorer", "rds", "loom"]
REFERENCES = {
    "h5ad": ["anndata-write_h5ad"],
    "explorer": ["in-memory-tocsc"],
    "rds": ["rds2py-write_rds"],
    "loom": ["anndata-write_loom", "loompy-create"],
}

# They hold each layer dense in memory (loompy 3.0.8's LayerManager window spans the whole matrix): 12 GB at 400k.
DENSIFYING = {"anndata-write_loom", "loompy-create"}


# ---- children: one step each --------------------------------------------------------------------


def _context() -> object:
    from cellportal.formats.conversion import ConversionContext

    return ConversionContext(
        dataset_version_id="bench-version",
        dataset_id="bench-dataset",
        collection_id="bench-collection",
        collection_version_id="bench-collection-version",
        public_url="https://cells.example.org",
        portal_name="cellportal bench",
        doi="10.1234/bench",
    )


def run_ours(step: str, source: Path, dest: Path) -> str:
    from cellportal.formats.registry import get_converter

    ctx = _context()
    result = get_converter(step).convert(source, dest, ctx)  # type: ignore[arg-type]
    return f"{result.status} {result.reason or ''}".strip()


def run_reference(name: str, source: Path, dest: Path) -> str:
    import anndata as ad
    import numpy as np

    adata = ad.read_h5ad(source)
    if name == "anndata-write_h5ad":
        adata.uns["citation"] = "Publication: ... (bench)"
        adata.write_h5ad(dest, compression="gzip")
    elif name == "anndata-write_loom":
        adata.write_loom(dest, write_obsm_varm=True)
    elif name == "loompy-create":
        import loompy

        counts = adata.raw.X if adata.raw is not None else adata.X
        loompy.create(
            str(dest),
            {"": adata.X.T.tocoo(), "counts": counts.T.tocoo()},
            row_attrs={"Gene": np.asarray(adata.var_names), "Accession": np.asarray(adata.var_names)},
            col_attrs={"CellID": np.asarray(adata.obs_names), "X_umap": adata.obsm["X_umap"]},
        )
    elif name == "rds2py-write_rds":
        from rds2py import write_rds

        counts = adata.raw.X if adata.raw is not None else adata.X
        write_rds({"counts": counts.T.tocsc(), "data": adata.X.T.tocsc()}, str(dest))
    elif name == "in-memory-tocsc":
        import h5py

        x = adata.X
        csc = x.tocsc()
        with h5py.File(dest, "w") as f:
            for group, m in (("cell_major", x), ("gene_major", csc)):
                for part in ("indptr", "indices", "data"):
                    f.create_dataset(f"{group}/{part}", data=getattr(m, part), compression="gzip", compression_opts=1)
    else:
        raise SystemExit(f"unknown reference {name}")
    return "written"


# ---- parent --------------------------------------------------------------------------------------


def measure(kind: str, step: str, source: Path, dest: Path) -> dict[str, object]:
    dest.unlink(missing_ok=True)
    out_path = dest.with_suffix(dest.suffix + ".outcome")
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        kind,
        step,
        str(source),
        str(dest),
        str(out_path),
    ]
    load = round(os.getloadavg()[0], 1)
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    outcome = out_path.read_text() if out_path.exists() else f"failed (exit {process.returncode})"
    out_path.unlink(missing_ok=True)
    size = dest.stat().st_size if dest.exists() else 0
    dest.unlink(missing_ok=True)
    return {
        "kind": kind,
        "step": step,
        "seconds": round(wall, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),  # ru_maxrss is in KiB on Linux
        "size_mb": round(size / 1e6, 1),
        "outcome": outcome,
        "load": load,
    }


def dataset(data_dir: Path, n_cells: int, n_genes: int) -> Path:
    path = data_dir / f"bench-{n_cells}x{n_genes}.h5ad"
    if not path.exists():
        from cellportal.demo.generator import generate_dataset

        generate_dataset(path, n_cells=n_cells, n_genes=n_genes, preset="human_blood", seed=7)
    return path


def labelled_view(upload: Path) -> Path:
    """What the pipeline's label step gives the converters (rewritten each run: the labeller may change)."""
    from cellportal.schema.labeller import write_labelled_view

    view = upload.with_name(upload.stem + "-labelled-view.h5ad")
    write_labelled_view(upload, view)
    return view


def nnz_of(path: Path) -> int:
    import h5py

    with h5py.File(path) as f:
        return int(f["X/indptr"][-1])


def render(
    results: list[dict[str, object]],
    sizes: list[tuple[int, int, int]],
    command: str,
    dense_limit: int,
    note: str = "",
) -> str:
    lines = [
        SECTION,
        "",
        f"Measured by `bench/convert.py` ({time.strftime('%Y-%m-%d', time.gmtime())}, {os.cpu_count()} cores; "
        f"command: `{command}`). Each step runs in a fresh child process; **peak RSS** is that child's "
        "`ru_maxrss` from `os.wait4` (the kernel's maximum resident set size of the process, as `/usr/bin/time -v` "
        "reports it), **time** is its wall clock including Python start-up and imports (about 1.5 s).",
        "",
        "Inputs (cellportal.demo.generator, preset human_blood): "
        + "; ".join(f"{c:,} cells × {g:,} genes, {nnz:,} non-zeros in X and in raw.X" for c, g, nnz in sizes)
        + ". Ours read what the pipeline gives them: the labelled view of the generated upload "
        "(`cellportal.schema.labeller.write_labelled_view`, written once per size before the steps: labelled "
        "obs/var/uns, the upload's matrices by external link); the references read the generated upload.",
        "",
        "| step | tool | "
        + " | ".join(
            f"{c // 1000}k time (s) | {c // 1000}k peak RSS (MB) | {c // 1000}k size (MB)" for c, _, _ in sizes
        )
        + " |",
        "|---|---|" + "---|---|---|" * len(sizes),
    ]
    order = [(s, "ours", s) for s in OURS] + [(s, "reference", r) for s in OURS for r in REFERENCES[s]]
    for step_group, kind, step in order:
        row = [r for r in results if r["kind"] == kind and r["step"] == step]
        if not row:
            continue
        by_cells = {r["cells"]: r for r in row}
        tool = "cellportal" if kind == "ours" else step
        cells = []
        for c, _, _ in sizes:
            r = by_cells.get(c)
            cells.append(f"{r['seconds']} | {r['peak_rss_mb']:,} | {r['size_mb']}" if r else "– | – | –")
        lines.append(f"| {step_group} | {tool} | " + " | ".join(cells) + " |")
    skipped_refs = sorted({r for r in DENSIFYING if any(c > dense_limit for c, _, _ in sizes)})
    if skipped_refs:
        lines += [
            "",
            f"Not run above the dense-reference limit: {', '.join(skipped_refs)} — they make every layer dense in "
            "memory (4 bytes × genes × cells per layer, 3.2 GB per layer at 400k cells) and would take about 10 GB "
            "on a machine shared with other work.",
        ]
    loads = [r["load"] for r in results if "load" in r]
    if loads:
        lines += [
            "",
            f"1-minute load average when the steps started: {min(loads)}–{max(loads)} ({os.cpu_count()} cores).",
        ]
    if note:
        lines += ["", note]
    notes = [r for r in results if not str(r["outcome"]).startswith(("CONVERTED", "written"))]
    if notes:
        lines += ["", "Outcomes other than success:"]
        lines += [f"- {r['step']} ({r['kind']}, {r['cells']:,} cells): {r['outcome']}" for r in notes]
    return "\n".join(lines) + "\n"


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        kind, step, source, dest, outcome = sys.argv[2:7]
        runner = run_ours if kind == "ours" else run_reference
        Path(outcome).write_text(runner(step, Path(source), Path(dest)))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", type=int, nargs="+", default=[100_000, 400_000])
    parser.add_argument("--genes", type=int, default=2000)
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "cellportal-bench")
    parser.add_argument("--steps", nargs="+", default=OURS, choices=OURS)
    parser.add_argument("--no-reference", action="store_true", help="time our converters only")
    parser.add_argument(
        "--dense-reference-max-cells",
        type=int,
        default=100_000,
        help="skip the loom references (they densify each layer: ~3 GB at 100k cells) above this size",
    )
    parser.add_argument("--write-doc", action="store_true", help="update the Conversions section of PERFORMANCE.md")
    parser.add_argument("--from-log", type=Path, help="render from the JSON lines a previous run printed")
    parser.add_argument("--note", default="", help="a paragraph added under the table (e.g. machine conditions)")
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    results: list[dict[str, object]] = []
    sizes = []
    if args.from_log:
        lines = [line for line in args.from_log.read_text().splitlines() if line.startswith("{")]
        results = [json.loads(line) for line in lines]
        args.cells = sorted({int(r["cells"]) for r in results})
    for n_cells in args.cells:
        source = dataset(args.data_dir, n_cells, args.genes)
        sizes.append((n_cells, args.genes, nnz_of(source)))
        if args.from_log:
            continue
        view = labelled_view(source)
        for step in args.steps:
            plan = [("ours", step)]
            if not args.no_reference:
                plan += [
                    ("reference", ref)
                    for ref in REFERENCES[step]
                    if ref not in DENSIFYING or n_cells <= args.dense_reference_max_cells
                ]
            for kind, name in plan:
                dest = args.data_dir / f"out-{kind}-{name}-{n_cells}"
                result = measure(kind, name, view if kind == "ours" else source, dest) | {"cells": n_cells}
                results.append(result)
                print(json.dumps(result), flush=True)
    command = "python bench/convert.py " + " ".join(sys.argv[1:])
    if args.from_log:
        cells = " ".join(str(c) for c in args.cells)
        command = (
            f"python bench/convert.py --cells {cells} --write-doc`, table re-rendered from its output with `--from-log"
        )
    text = render(results, sizes, command, args.dense_reference_max_cells, args.note)
    print(text)
    if args.write_doc:
        write_section(SECTION, text)


if __name__ == "__main__":
    main()
