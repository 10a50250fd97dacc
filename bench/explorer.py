"""Benchmark the explorer's data API against the reference explorer (cellxgene 1.3.0), side by side.

    .venv/bin/python bench/explorer.py --cells 1000000 [--datasets 3] [--no-reference] [--no-browser] [--write-doc]

A dataset is generated once per size (cellportal.demo.generator: ~2,000 genes, ~7.5 % non-zero, UMAP) into
--data-dir and converted to our explorer store. Our server (uvicorn, one process, this script's `serve`
subcommand) serves `--datasets` distinct stores of that size (copies whose root attribute differs, so their
content hashes differ) from one catalog; the reference is `cellxgene launch` on the same .h5ad, one process per
dataset as it requires, from its own venv (`make install-cxg` makes .venv-cxg with cellxgene==1.3.0; without it
the reference is skipped with a note).

Per route: one warm-up, then 30 timed requests from a client that accepts `gzip, deflate, br, zstd` (what
Chrome sends); p50 and p95 of the client's wall time, and for ours the p50 of the server's own time (its
`Server-Timing` header: request in to response out, network and client decompression excluded). Routes: one
gene (30 different genes), a categorical obs column,
a float obs column, the UMAP, and differential expression of two disjoint random 10k-cell sets, and of the
two halves of the dataset (ours also answers Wilcoxon for the table's genes; cellxgene computes Welch's t only).
RSS: VmRSS and VmHWM of the server process after the requests (for ours with every dataset opened and
queried). First paint: headless Chromium (Debian's, SwiftShader) opening /e/<id> until the explorer
reports it has drawn (data-ready), on our server only, with the page's own marks (data in, drawn).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from _performance_doc import write_section  # bench/ is on sys.path when a script runs

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DOC = ROOT / "docs" / "PERFORMANCE.md"
SECTION = "## Explorer"
CXG = ROOT / ".venv-cxg" / "bin" / "cellxgene"
ACCEPT = {"Accept-Encoding": "gzip, deflate, br, zstd"}
REPEATS = 30


# ---- data --------------------------------------------------------------------------------------------


def dataset(data_dir: Path, n_cells: int) -> tuple[Path, Path]:
    from cellportal.demo.generator import generate_dataset
    from cellportal.formats._explorer_store_writer import write_explorer_store
    from cellportal.formats.conversion import ConversionContext
    from cellportal.formats.explorer_store import FORMAT_VERSION

    h5ad = data_dir / f"explorer-{n_cells}.h5ad"
    # The format version in the name: a store left by an older writer is never measured as today's.
    store = data_dir / f"explorer-{n_cells}-v{FORMAT_VERSION}.explorer.h5"
    if not h5ad.exists():
        generate_dataset(h5ad, n_cells=n_cells, seed=3)
    if not store.exists():
        ctx = ConversionContext("bench", "bench", "bench", "bench", "https://cells.example.org", "cellportal bench")
        started = time.perf_counter()
        write_explorer_store(h5ad, store, ctx)
        print(f" explorer store written in {time.perf_counter() - started:.1f} s ({store.stat().st_size:,} bytes)")
    return h5ad, store


def distinct_copy(store: Path, dest: Path, number: int) -> Path:
    """A copy whose content hash differs (another dataset version id in the root attributes)."""
    import h5py

    if not dest.exists():
        shutil.copyfile(store, dest.with_suffix(".partial"))
        with h5py.File(dest.with_suffix(".partial"), "r+") as handle:
            handle.attrs["dataset_version_id"] = f"bench-copy-{number}"
        dest.with_suffix(".partial").rename(dest)
    return dest


def catalog(data_dir: Path, stores: list[Path]) -> list[str]:
    """A fresh catalog and blob store in data_dir with one published dataset per store; their version ids."""
    from cellportal.catalog import migrate
    from cellportal.catalog.db import transaction
    from cellportal.config import Settings
    from cellportal.runtime import Runtime
    from tests.unit.explorer.support import register_explorable

    shutil.rmtree(data_dir, ignore_errors=True)
    runtime = Runtime(Settings(data_dir=data_dir))
    migrate.upgrade(runtime.engine)
    ids = []
    for number, store in enumerate(stores):
        with transaction(runtime.sessions) as session:
            ids.append(register_explorable(session, runtime.blobs, store, name=f"Bench {number}").id)
    runtime.close()
    return ids


# ---- servers -----------------------------------------------------------------------------------------


def serve(data_dir: Path, port: int) -> None:
    """Child process: our app over data_dir."""
    import uvicorn

    from cellportal.app import create_app
    from cellportal.config import Settings
    from cellportal.explorer.routes import mount_explorer
    from cellportal.runtime import Runtime

    runtime = Runtime(Settings(data_dir=data_dir))
    app = create_app(runtime)
    if not hasattr(app.state, "explorer_stores"):
        mount_explorer(app, runtime)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen[bytes], timeout: float = 600) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=5).status_code < 500:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(url)


def memory(pid: int) -> dict[str, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields


# ---- requests ----------------------------------------------------------------------------------------


def timed(client: httpx.Client, method: str, url: str, **kwargs: Any) -> tuple[float, int, float | None]:
    """Client wall time (ms), body size, and the server's own time (ms) when it sends Server-Timing."""
    started = time.perf_counter()
    response = client.request(method, url, **kwargs)
    size = len(response.content)
    elapsed = (time.perf_counter() - started) * 1000
    response.raise_for_status()
    return elapsed, size, server_time(response.headers.get("server-timing"))


def server_time(header: str | None) -> float | None:
    for metric in (header or "").split(","):
        for param in metric.split(";")[1:]:
            key, _, value = param.strip().partition("=")
            if key == "dur":
                return float(value)
    return None


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"p50": statistics.median(ordered), "p95": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]}


def random_sets(n_cells: int, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    chosen = rng.choice(n_cells, 2 * size, replace=False)
    return np.sort(chosen[:size]), np.sort(chosen[size:])


def bits(indices: np.ndarray, n_cells: int) -> bytes:
    mask = np.zeros(n_cells, dtype=np.uint8)
    mask[indices] = 1
    return np.packbits(mask, bitorder="little").tobytes()


def ours_requests(client: httpx.Client, base: str, n_cells: int, n_genes: int) -> dict[str, Any]:
    import struct

    def body(a: np.ndarray, b: np.ndarray) -> bytes:
        x, y = bits(a, n_cells), bits(b, n_cells)
        return struct.pack("<II", len(x), len(y)) + x + y

    small = random_sets(n_cells, 10_000, 1)
    halves = (np.arange(0, n_cells // 2), np.arange(n_cells // 2, n_cells))
    routes: dict[str, list[tuple[str, str, dict[str, Any]]]] = {
        "gene": [("GET", f"{base}/gene/{(37 * k) % n_genes}", {}) for k in range(REPEATS + 1)],
        "obs categorical": [("GET", f"{base}/obs/author_cell_type", {})] * (REPEATS + 1),
        "obs float": [("GET", f"{base}/obs/n_counts", {})] * (REPEATS + 1),
        "embedding": [("GET", f"{base}/embedding/X_umap", {})] * (REPEATS + 1),
        "diffexp 2x10k": [("POST", f"{base}/diffexp?mode=sets", {"content": body(*small)})] * (REPEATS + 1),
        "diffexp 2 halves": [("POST", f"{base}/diffexp?mode=sets", {"content": body(*halves)})] * 11,
    }
    return run_routes(client, routes)


def reference_requests(client: httpx.Client, base: str, n_cells: int, gene_ids: list[str]) -> dict[str, Any]:
    small = random_sets(n_cells, 10_000, 1)
    halves = (np.arange(0, n_cells // 2), np.arange(n_cells // 2, n_cells))

    def de(a: np.ndarray, b: np.ndarray) -> dict[str, Any]:
        sets = {"set1": {"filter": {"obs": {"index": a.tolist()}}}, "set2": {"filter": {"obs": {"index": b.tolist()}}}}
        return {"json": {"mode": "topN", "count": 50, **sets}}

    octet = {"headers": {**ACCEPT, "Accept": "application/octet-stream"}}
    routes: dict[str, list[tuple[str, str, dict[str, Any]]]] = {
        "gene": [
            ("GET", f"{base}/data/var?var:name_0={gene_ids[(37 * k) % len(gene_ids)]}", octet)
            for k in range(REPEATS + 1)
        ],
        "obs categorical": [("GET", f"{base}/annotations/obs?annotation-name=author_cell_type", octet)] * (REPEATS + 1),
        "obs float": [("GET", f"{base}/annotations/obs?annotation-name=n_counts", octet)] * (REPEATS + 1),
        "embedding": [("GET", f"{base}/layout/obs?layout-name=umap", octet)] * (REPEATS + 1),
        "diffexp 2x10k": [("POST", f"{base}/diffexp/obs", de(*small))] * (REPEATS + 1),
        "diffexp 2 halves": [("POST", f"{base}/diffexp/obs", de(*halves))] * 4,
    }
    return run_routes(client, routes)


def run_routes(client: httpx.Client, routes: dict[str, list[tuple[str, str, dict[str, Any]]]]) -> dict[str, Any]:
    results = {}
    for name, requests in routes.items():
        samples, server, size, first = [], [], 0, 0.0
        for k, (method, url, kwargs) in enumerate(requests):
            elapsed, size, on_server = timed(client, method, url, **kwargs)
            if k:
                samples.append(elapsed)
                if on_server is not None:
                    server.append(on_server)
            else:  # the warm-up: for repeated URLs the later ones may be answered from a cache
                first = elapsed
        results[name] = {**summary(samples), "first": first, "bytes": size, "n": len(samples)}
        if server:
            results[name]["server_p50"] = statistics.median(server)
            results[name]["server_p95"] = summary(server)["p95"]
        r = results[name]
        on_server = f"  server p50 {r['server_p50']:8.1f} ms" if server else ""
        print(
            f"  {name:18} first {first:8.1f} ms  p50 {r['p50']:8.1f} ms  p95 {r['p95']:8.1f} ms{on_server}",
            flush=True,
        )
    return results


# ---- runs --------------------------------------------------------------------------------------------


def run_ours(data_dir: Path, stores: list[Path], n_cells: int, n_genes: int, browser: bool) -> dict[str, Any]:
    ids = catalog(data_dir / "server", stores)
    port = free_port()
    process = subprocess.Popen([sys.executable, __file__, "serve", str(data_dir / "server"), str(port)], cwd=ROOT)
    try:
        base = f"http://127.0.0.1:{port}"
        startup = wait_for(f"{base}/healthz", process)
        result: dict[str, Any] = {"startup_s": startup, "datasets": len(ids)}
        with httpx.Client(headers=ACCEPT, timeout=600) as client:
            first_open = time.perf_counter()
            client.get(f"{base}/e/api/v1/{ids[0]}/schema").raise_for_status()
            result["first_open_ms"] = (time.perf_counter() - first_open) * 1000
            for version_id in ids[1:]:  # every dataset open and used, as three readers would
                client.get(f"{base}/e/api/v1/{version_id}/schema").raise_for_status()
                client.get(f"{base}/e/api/v1/{version_id}/gene/1").raise_for_status()
            result["routes"] = ours_requests(client, f"{base}/e/api/v1/{ids[0]}", n_cells, n_genes)
            for version_id in ids[1:]:
                client.get(f"{base}/e/api/v1/{version_id}/embedding/X_umap").raise_for_status()
        result["memory_mib"] = memory(process.pid)
        if browser:
            paints = [first_paint(f"{base}/e/{version_id}") for version_id in ids]
            result["first_paint"] = paints
            result["first_paint_s"] = statistics.median(p["total_s"] for p in paints)
            result["memory_after_paint_mib"] = memory(process.pid)
        return result
    finally:
        process.terminate()
        process.wait(30)


def first_paint(url: str) -> dict[str, Any]:
    """Seconds from navigation to the explorer's first drawn frame in a fresh headless Chromium (cold HTTP
    cache), and the page's own marks (ms since navigation start) of where that time went."""
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM_ARGS

    chromium = shutil.which("chromium")
    if chromium is None:
        return {"total_s": float("nan")}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 850})
        started = time.perf_counter()
        page.goto(url)
        page.wait_for_selector("body[data-ready='1']", timeout=600_000)
        elapsed = time.perf_counter() - started
        marks = page.evaluate("() => window.cellportalExplorer.marks")
        # When the plot rendered frames so far (ms since navigation start): one is enough for the first paint,
        # and each frame of a million cells holds the page's thread for about a second in software WebGL.
        frames = page.evaluate("() => window.cellportalExplorer.frames || []")
        browser.close()
    print(f"  first paint {elapsed:.2f} s; page marks (ms) {marks}; frames at {frames}", flush=True)
    return {"total_s": elapsed, "marks": marks, "frames": frames}


def run_in_process(store: Path, n_cells: int, repeats: int) -> dict[str, Any]:
    """The server's work without HTTP: the same reads, frames and comparisons, timed in this process (what
    Server-Timing measures, minus authorization and compression). For a quick look on a busy machine."""
    from cellportal.explorer.diffexp import Comparison, differential_expression
    from cellportal.explorer.encoding import pack_frame
    from cellportal.explorer.reader import ExplorerData

    data = ExplorerData(store)
    small = random_sets(n_cells, 10_000, 1)
    masks = []
    for chosen in small:
        mask = np.zeros(n_cells, bool)
        mask[chosen] = True
        masks.append(mask)
    first_half = np.zeros(n_cells, bool)
    first_half[: n_cells // 2] = True

    def gene(k: int) -> None:
        cells, values = data.gene((37 * k) % data.n_genes)
        pack_frame({"indices": cells, "values": values})

    work = {
        "gene": gene,
        "obs categorical": lambda k: pack_frame({"codes": data.obs_codes("author_cell_type")}),
        "embedding": lambda k: pack_frame(dict(zip("xy", data.embedding("X_umap"), strict=True))),
        "diffexp 2x10k": lambda k: differential_expression(data, Comparison(masks[0], masks[1], "sets")),
        "diffexp 2 halves": lambda k: differential_expression(data, Comparison(first_half, ~first_half, "sets")),
    }
    results: dict[str, Any] = {}
    for name, run in work.items():
        samples = []
        count = repeats if "halves" not in name else max(3, repeats // 3)
        for k in range(count + 1):
            started = time.perf_counter()
            run(k)
            if k:
                samples.append((time.perf_counter() - started) * 1000)
        results[name] = summary(samples)
        print(f"  in-process {name:18} p50 {results[name]['p50']:8.1f} ms  p95 {results[name]['p95']:8.1f} ms")
    results["memory_mib"] = memory(os.getpid())
    print(f"  in-process memory {results['memory_mib']}", flush=True)
    data.close()
    return results


def run_reference(h5ad: Path, n_cells: int) -> dict[str, Any]:
    import h5py

    with h5py.File(h5ad, "r") as handle:
        index_key = handle["var"].attrs["_index"]
        gene_ids = [v.decode() if isinstance(v, bytes) else str(v) for v in handle["var"][index_key][:]]
    port = free_port()
    command = [str(CXG), "launch", str(h5ad), "--host", "127.0.0.1", "--port", str(port), "--disable-annotations"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}/api/v0.2"
        startup = wait_for(f"{base}/config", process)
        with httpx.Client(headers=ACCEPT, timeout=600) as client:
            routes = reference_requests(client, base, n_cells, gene_ids)
        return {"startup_s": startup, "routes": routes, "memory_mib": memory(process.pid), "datasets": 1}
    finally:
        process.terminate()
        process.wait(30)


def render(results: dict[str, Any], command: str) -> str:
    load = results["load"]
    lines = [
        SECTION,
        "",
        f"`{command}` — {results['when']}; 1-minute load average {load[0]:.1f} at the start and "
        f"{results.get('load_end', [float('nan')])[0]:.1f} at the end, on {os.cpu_count()} cores.",
        "",
    ]
    for n_cells, runs in results["sizes"].items():
        lines += [
            f"### {int(n_cells):,} cells",
            "",
            "| route | ours: server p50 ms | ours: client first; p50 / p95 ms | cellxgene 1.3.0: first; p50 / p95 ms "
            "| ratio (client p50) |",
            "|---|---|---|---|---|",
        ]
        ours, ref = runs.get("ours", {}), runs.get("reference", {})
        for route in ours.get("routes", {}):
            a = ours["routes"][route]
            b = ref.get("routes", {}).get(route)
            other = f"{b['first']:.0f}; {b['p50']:.1f} / {b['p95']:.1f}" if b else "–"
            ratio = f"{b['p50'] / a['p50']:.1f}x" if b and a["p50"] else "–"
            server = f"{a['server_p50']:.1f}" if "server_p50" in a else "–"
            lines.append(
                f"| {route} | {server} | {a['first']:.0f}; {a['p50']:.1f} / {a['p95']:.1f} | {other} | {ratio} |"
            )
        if ours:
            m = ours["memory_mib"]
            lines.append("")
            lines.append(
                f"Ours: {ours['datasets']} datasets open in one process, VmRSS {m['VmRSS']:.0f} MiB,"
                f" peak {m['VmHWM']:.0f} MiB; start {ours['startup_s']:.1f} s; first paint in headless Chromium "
                f"{ours.get('first_paint_s', float('nan')):.2f} s (median over the datasets)."
            )
        if ref:
            m = ref["memory_mib"]
            lines.append(
                f"cellxgene: one dataset per process, VmRSS {m['VmRSS']:.0f} MiB, peak {m['VmHWM']:.0f} MiB;"
                f" start {ref['startup_s']:.1f} s."
            )
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        serve(Path(sys.argv[2]), int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--datasets", type=int, default=3, help="distinct stores our one server holds open")
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "cellportal-bench")
    parser.add_argument("--no-reference", action="store_true")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--write-doc", action="store_true")
    parser.add_argument("--in-process", action="store_true", help="only time the server's work in this process")
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "load": os.getloadavg()}
    results["sizes"] = {}
    for n_cells in args.cells:
        print(f"{n_cells:,} cells", flush=True)
        h5ad, store = dataset(args.data_dir, n_cells)
        if args.in_process:
            run_in_process(store, n_cells, 10)
            continue
        stores = [store] + [
            distinct_copy(store, store.with_name(store.name.replace(".explorer.h5", f"-copy{k}.explorer.h5")), k)
            for k in range(1, args.datasets)
        ]
        runs: dict[str, Any] = {}
        print(" ours", flush=True)
        from cellportal.formats.explorer_store import ExplorerStoreReader

        with ExplorerStoreReader(store) as reader:
            n_genes = reader.n_vars
        runs["ours"] = run_ours(args.data_dir / f"run-{n_cells}", stores, n_cells, n_genes, not args.no_browser)
        if not args.no_reference and CXG.exists():
            print(" cellxgene", flush=True)
            runs["reference"] = run_reference(h5ad, n_cells)
        elif not args.no_reference:
            print(f" cellxgene skipped: {CXG} is missing (make install-cxg)", flush=True)
        results["sizes"][str(n_cells)] = runs
    results["load_end"] = os.getloadavg()
    out = args.data_dir / "explorer-results.json"
    out.write_text(json.dumps(results, indent=2))
    command = "python bench/explorer.py " + " ".join(sys.argv[1:])
    text = render(results, command)
    print(text)
    if args.write_doc:
        write_section(SECTION, text)


if __name__ == "__main__":
    main()
