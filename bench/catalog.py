"""Benchmark faceted browse and search on a catalog of 10,000 datasets in 1,000 collections.

    .venv/bin/python bench/catalog.py --write-doc            # SQLite, and PostgreSQL when it answers
    .venv/bin/python bench/catalog.py --datasets 2000 --runs 10 --no-postgres

The catalog is generated straight into the database (bulk inserts in the shape the catalog service
leaves: published collection versions, their dataset versions with labeller metadata and artifacts),
with realistic term mixes from ``cellportal.browse.synthetic`` (real UBERON/CL/EFO/MONDO terms; the
browse index carries the real ontology ancestors). Then each operation runs ``--runs`` times and we report
p50 and p95 wall time:

- query layer (``cellportal.browse.queries``, one unit of work per call as a request has, anonymous reader):
  facet counts of all nine facets with no filter, with 2 filters (organism + disease), with the roll-up
  filter tissue = brain, and a full-text query; the first page of results; the range facets; the collections
  page; the home page's totals; everything the /datasets page asks, together; and the facet engine's reload
  (what the first request after a catalog change pays: ``cellportal.browse.snapshot.load``);
- HTTP (a real ``uvicorn`` process on 127.0.0.1, one client with keep-alive): the /datasets page for the
  same four selections and /collections, each page computing every facet, both ranges and the rows.

``--write-doc`` replaces the ``## Catalog`` section of docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import random
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

from _performance_doc import write_section  # bench/ is on sys.path when a script runs
from sqlalchemy import Engine, create_engine, insert, text, update

from cellportal.auth.policy import ANONYMOUS
from cellportal.browse import queries, snapshot, synthetic
from cellportal.browse.index import dataset_rows, generation
from cellportal.browse.models import BrowseCollectionToken, BrowseDataset, BrowseDatasetToken, BrowseTerm
from cellportal.browse.selection import Selection
from cellportal.browse.terms import collection_texts, tokens
from cellportal.catalog import migrate
from cellportal.catalog.db import make_engine, make_session_factory
from cellportal.catalog.models import (
    Artifact,
    Collection,
    CollectionVersion,
    CollectionVersionDataset,
    Dataset,
    DatasetVersion,
)

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Catalog"
POSTGRES_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BRAIN = "UBERON:0000955"
TARGET_MS = 50.0


def generate(engine: Engine, datasets: int, collections: int, seed: int = 1) -> str:
    """Insert the catalog; return a search word that a few collections carry (an author's surname)."""
    rng = random.Random(seed)
    start = datetime(2018, 1, 1, tzinfo=UTC)
    sizes = [1] * collections
    for _ in range(datasets - collections):
        sizes[rng.randrange(collections)] += 1
    rows: dict[str, list[dict[str, Any]]] = {
        k: [] for k in ("c", "cv", "d", "dv", "cvd", "a", "bd", "bt", "btok", "bctok")
    }
    for number, size in enumerate(sizes):
        text_ = synthetic.collection_text(rng, number)
        collection_id, version_id = str(uuid4()), str(uuid4())
        when = start + timedelta(hours=rng.randrange(24 * 365 * 8))
        rows["c"].append(
            {
                "id": collection_id,
                "owner_id": f"curator-{number % 50}",
                "created_at": when,
                "originally_published_at": when,
            }
        )
        rows["cv"].append(
            {
                "id": version_id,
                "collection_id": collection_id,
                "name": text_["name"],
                "description": text_["description"],
                "contact_name": "Bench Curator",
                "contact_email": "bench@example.org",
                "links": [{"link_type": "DOI", "link_name": None, "link_url": f"https://doi.org/{text_['doi']}"}],
                "consortia": text_["consortia"],
                "publisher_metadata": text_["publisher_metadata"],
                "created_at": when,
            }
        )
        words = tokens(
            *collection_texts(
                text_["name"], text_["description"], text_["doi"], text_["consortia"], text_["publisher_metadata"]
            )
        )
        rows["bctok"] += [{"token": w, "collection_version_id": version_id} for w in sorted(words)]
        for position in range(size):
            dataset_id, dv_id = str(uuid4()), str(uuid4())
            metadata = synthetic.dataset_metadata(rng, synthetic.title(rng))
            rows["d"].append(
                {"id": dataset_id, "collection_id": collection_id, "created_at": when, "published_at": when}
            )
            rows["dv"].append(
                {
                    "id": dv_id,
                    "dataset_id": dataset_id,
                    "created_at": when,
                    "processing_status": "SUCCESS",
                    "upload_status": "UPLOADED",
                    "validation_status": "VALID",
                    "dataset_metadata": metadata,
                    "title": metadata["title"],
                    "schema_version": "7.1.0",
                    "validation_errors": [],
                    "validation_warnings": [],
                }
            )
            rows["cvd"].append({"collection_version_id": version_id, "dataset_version_id": dv_id, "position": position})
            for kind in ("h5ad", "rds", "loom", "explorer"):
                digest = hashlib.sha256(f"{dv_id}{kind}".encode()).hexdigest()
                rows["a"].append(
                    {
                        "id": str(uuid4()),
                        "dataset_version_id": dv_id,
                        "type": kind,
                        "status": "CONVERTED",
                        "sha256": digest,
                        "size": metadata["cell_count"] * 900,
                        "format_version": "1",
                        "created_at": when,
                        "updated_at": when,
                    }
                )
            dataset, facet_rows, token_rows = dataset_rows(dv_id, metadata, metadata["title"])
            rows["bd"].append(dataset)
            rows["bt"] += facet_rows
            rows["btok"] += token_rows
    with engine.begin() as connection:
        for key, table in (
            ("c", Collection),
            ("cv", CollectionVersion),
            ("d", Dataset),
            ("dv", DatasetVersion),
            ("cvd", CollectionVersionDataset),
            ("a", Artifact),
            ("bd", BrowseDataset),
            ("bt", BrowseTerm),
            ("btok", BrowseDatasetToken),
            ("bctok", BrowseCollectionToken),
        ):
            for i in range(0, len(rows[key]), 5000):
                connection.execute(insert(table), rows[key][i : i + 5000])
        # Publish: versions first (the immutability triggers allow setting published_at once), then the canonical rows.
        connection.execute(update(CollectionVersion).values(published_at=CollectionVersion.created_at))
        connection.execute(update(DatasetVersion).values(published_at=DatasetVersion.created_at))
        connection.execute(update(Collection).values(published_version_id=select_version("collection")))
        connection.execute(update(Dataset).values(published_version_id=select_version("dataset")))
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("ANALYZE"))
        else:
            connection.execute(text("ANALYZE"))
        connection.commit()
    surname = synthetic.SURNAMES[3]
    return surname


def select_version(kind: str) -> Any:
    from sqlalchemy import select

    if kind == "collection":
        return select(CollectionVersion.id).where(CollectionVersion.collection_id == Collection.id).scalar_subquery()
    return select(DatasetVersion.id).where(DatasetVersion.dataset_id == Dataset.id).scalar_subquery()


def timed(operation: Callable[[], Any], runs: int) -> tuple[float, float]:
    operation()  # warm: first-use costs (statement compilation, page cache) are not what a reader waits for
    samples = []
    for _ in range(runs):
        begin = time.perf_counter()
        operation()
        samples.append((time.perf_counter() - begin) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]


def selections(word: str) -> dict[str, Selection]:
    return {
        "no filter": Selection(),
        "2 filters (organism, disease)": Selection(
            terms={"organism": ("NCBITaxon:9606",), "disease": ("PATO:0000461",)}
        ),
        "roll-up (tissue = brain)": Selection(terms={"tissue": (BRAIN,)}),
        f"full text ({word!r})": Selection(q=word),
    }


def measure_queries(engine: Engine, word: str, runs: int) -> list[tuple[str, float, float]]:
    sessions = make_session_factory(engine)

    def request(call: Callable[[Any], Any]) -> Callable[[], Any]:
        def run() -> Any:
            with sessions() as session:  # one session per call, as each request has its own
                return call(session)

        return run

    def whole_page(session: Any, selection: Selection) -> None:
        queries.dataset_page(session, ANONYMOUS, selection)
        queries.facet_counts(session, ANONYMOUS, selection)
        queries.cell_count_ranges(session, ANONYMOUS, selection)
        queries.publication_years(session, ANONYMOUS, selection)

    chosen = selections(word)
    two = chosen["2 filters (organism, disease)"]
    operations: list[tuple[str, Callable[[Any], Any]]] = [
        (f"facet counts, {name}", lambda s, sel=selection: queries.facet_counts(s, ANONYMOUS, sel))
        for name, selection in chosen.items()
    ]
    operations += [
        ("first page of results (25, newest first) + total", lambda s: queries.dataset_page(s, ANONYMOUS, Selection())),
        ("first page of results, 2 filters", lambda s: queries.dataset_page(s, ANONYMOUS, two)),
        (
            "cell-count ranges + publication years, 2 filters",
            lambda s: (queries.cell_count_ranges(s, ANONYMOUS, two), queries.publication_years(s, ANONYMOUS, two)),
        ),
        (
            "collections page + facet counts by collection",
            lambda s: (
                queries.collection_page(s, ANONYMOUS, Selection()),
                queries.facet_counts(s, ANONYMOUS, Selection(), by="collections"),
            ),
        ),
        ("home page totals", lambda s: queries.totals(s, ANONYMOUS)),
        ("everything /datasets asks (rows, facets, ranges), no filter", lambda s: whole_page(s, Selection())),
        ("everything /datasets asks, 2 filters", lambda s: whole_page(s, two)),
    ]
    results = [(name, *timed(request(call), runs)) for name, call in operations]
    with sessions() as session:
        token = generation(session)
        reloads = max(3, min(runs, 5))
        p50, p95 = timed(lambda: snapshot.load(session, token), reloads)
        results.append((f"facet engine reload after a catalog change ({reloads} runs)", p50, p95))
    return results


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure_http(database_url: str, data_dir: Path, word: str, runs: int) -> list[tuple[str, float, float]]:
    import httpx

    port = _free_port()
    env = {**os.environ, "CELLPORTAL_DATA_DIR": str(data_dir), "CELLPORTAL_DATABASE_URL": database_url}
    app = "cellportal.app:create_app"
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import uvicorn; from cellportal.app import create_app; from cellportal.config import Settings; "
            f"uvicorn.run(create_app(Settings()), host='127.0.0.1', port={port}, log_level='warning')",
        ],
        env=env,
    )
    del app
    results = []
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=60) as client:
            for _ in range(600):
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            for name, selection in selections(word).items():
                url = selection.url("/datasets")

                def fetch(url: str = url) -> None:
                    response = client.get(url)
                    assert response.status_code == 200, (url, response.status_code)

                p50, p95 = timed(fetch, runs)
                results.append((f"GET {url}  ({name})", p50, p95))
            p50, p95 = timed(lambda: client.get("/collections").raise_for_status(), runs)
            results.append(("GET /collections", p50, p95))
    finally:
        server.terminate()
        server.wait(timeout=30)
    return results


def run_backend(label: str, url: str, data_dir: Path, args: argparse.Namespace) -> list[tuple[str, str, float, float]]:
    engine = make_engine(url)
    migrate.upgrade(engine)
    began = time.perf_counter()
    word = generate(engine, args.datasets, args.collections)
    print(f"[{label}] generated {args.datasets} datasets in {time.perf_counter() - began:.0f} s", flush=True)
    # A live database has planner statistics (PostgreSQL's autovacuum, SQLite's optimize); a bulk load has none
    # until analysed, and plans made without them are not what a running portal gets.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE"))
    rows = [(label, *r) for r in measure_queries(engine, word, args.runs)]
    engine.dispose()
    for row in rows:
        print(f"[{label}] {row[1]}: p50 {row[2]:.1f} ms, p95 {row[3]:.1f} ms", flush=True)
    if not args.no_http:
        http = [(f"{label}, HTTP", *r) for r in measure_http(url, data_dir, word, args.runs)]
        for row in http:
            print(f"[{label}] {row[1]}: p50 {row[2]:.1f} ms, p95 {row[3]:.1f} ms", flush=True)
        rows += http
    return rows


def postgres_url() -> str | None:
    try:
        admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
        name = f"cellportal_bench_{os.getpid()}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    except Exception as error:
        print(f"PostgreSQL not available ({error.__class__.__name__}); SQLite only", flush=True)
        return None


def drop_postgres(url: str) -> None:
    admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


def document(
    rows: list[tuple[str, str, float, float]], args: argparse.Namespace, load: tuple[float, ...], command: str
) -> str:
    lines = [
        SECTION,
        "",
        f"Faceted browse and search over {args.datasets:,} datasets in {args.collections:,} collections "
        f"(`{command}`, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC). p50/p95 of {args.runs} runs after one warm-up; "
        f"target p50 < {TARGET_MS:.0f} ms. Machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the start (shared with other work: "
        "numbers on a quiet machine are lower).",
        "",
        "| backend | operation | p50 ms | p95 ms | p50 < 50 ms |",
        "|---|---|---:|---:|:-:|",
    ]
    for backend, name, p50, p95 in rows:
        lines.append(f"| {backend} | {name} | {p50:.1f} | {p95:.1f} | {'yes' if p50 < TARGET_MS else 'no'} |")
    lines += [
        "",
        "Facets, search, ranges and pages are answered by the in-memory facet engine "
        "(`cellportal.browse.engine`): a snapshot of the browse index (each listed dataset's terms plus, for "
        "tissue and cell type, all their ontology ancestors, as sparse postings) counted with numpy. Each request "
        "still makes two small SQL queries, once per transaction however many questions its page asks: the "
        "browse generation token (is the snapshot current?) and the collections this principal may see "
        "(`visible_collections_clause`). The first request after a catalog "
        "change reloads the snapshot (the reload row) and the requests meanwhile wait for it. An HTTP page adds "
        "the 25 rows with their download dialogs and the template.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", type=int, default=10_000)
    parser.add_argument("--collections", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--write-doc", action="store_true")
    args = parser.parse_args()
    load = os.getloadavg()
    command = "bench/catalog.py " + shlex.join(sys.argv[1:])
    rows = []
    with tempfile.TemporaryDirectory(prefix="cellportal-bench-catalog-") as tmp:
        sqlite_dir = Path(tmp) / "sqlite"
        sqlite_dir.mkdir()
        rows += run_backend("SQLite", f"sqlite:///{sqlite_dir / 'catalog.sqlite'}", sqlite_dir, args)
        if not args.no_postgres and (url := postgres_url()) is not None:
            try:
                pg_dir = Path(tmp) / "postgres"
                pg_dir.mkdir()
                rows += run_backend("PostgreSQL", url, pg_dir, args)
            finally:
                drop_postgres(url)
    text_ = document(rows, args, load, command)
    print(text_)
    if args.write_doc:
        write_section(SECTION, text_)


if __name__ == "__main__":
    main()
