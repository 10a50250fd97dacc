"""Compact, on-disk indexes of the ontologies that schema 7.1.0 pins (from cellxgene-ontology-guide 1.11.1).

The package ships each ontology as one zstd-compressed JSON object ``{term_id: {label, deprecated,
ancestors, ...}}``. Loading NCBITaxon whole costs 844 MB of JSON and about 3 GB of memory, so instead we
stream-parse each file once into a small SQLite table ``term -> (label, deprecated, anchors)`` kept in the
cache directory. ``anchors`` holds only those ancestors of the term that some schema rule asks about
(:data:`ANCHOR_TERMS`): every rule is "is this term (a descendant of) one of these few terms", so that is
all a check needs. Looking up one term then costs one indexed SQLite read.

Term-id parsing follows the reference's ontology parser: the prefix before ``:`` (or ``_`` for Cellosaurus)
names the ontology, case-insensitively, and imported prefixes map to their host (ZFS -> ZFA,
AfPO -> HANCESTRO).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib.util import find_spec
from pathlib import Path

from cellportal.schema.reference_files import cache_dir, supported_organisms

SCHEMA_ONTOLOGY_VERSION = "7.1.0"
NON_ONTOLOGY_TERMS = frozenset({"unknown", "na"})

# Every term that a rule tests ancestry against. Adding a rule that needs another ancestor means adding it
# here; the index is keyed by a hash of this set, so it is rebuilt automatically.
ANCHOR_TERMS: frozenset[str] = frozenset(
    {
        # cell types and tissues
        "CL:0000000",
        "ZFA:0009000",
        "FBbt:00007002",
        "WBbt:0004017",
        "WBbt:0006803",
        "ZFA:0100000",
        "FBbt:10000000",
        "WBbt:0005766",
        "UBERON:0001062",
        # assays: allowed roots, suspension_type groups, raw-matrix rules, spatial
        "EFO:0002772",
        "EFO:0010183",
        "EFO:0030080",
        "EFO:0010184",
        "EFO:0010010",
        "EFO:0009919",
        "EFO:0007045",
        "EFO:0002761",
        "EFO:0008919",
        "EFO:0008853",
        "EFO:0008953",
        "EFO:0008994",
        "EFO:0010891",
        "EFO:0008913",
        "EFO:0008804",
        "EFO:0000751",
        "EFO:0008939",
        "EFO:0010961",
        "EFO:0022860",
        "EFO:0920001",
        # disease
        "MONDO:0000001",
        "MONDO:0021178",
        # ethnicity
        "HANCESTRO:0601",
        "HANCESTRO:0602",
        # development stages
        "HsapDv:0000001",
        "MmusDv:0000001",
        "ZFS:0100000",
        "FBdv:00007014",
        "FBdv:00005259",
        "WBls:0000803",
        "WBls:0000804",
        "UBERON:0000105",
        # experimental conditions
        "CHEBI:24431",
        "CHEBI:36342",
        "CHEBI:50906",
        "EFO:0002755",
        # organisms: every organism that has a gene table (which includes the allowed ancestors)
        *supported_organisms(),
    }
)

_TERM_PATTERN = re.compile(r"([A-Za-z]+):[A-Za-z0-9]+|([A-Za-z]+)_[A-Za-z0-9]+")
_INDEX_FORMAT = 1


@dataclass(frozen=True)
class Term:
    term_id: str
    ontology: str
    label: str
    deprecated: bool
    anchors: frozenset[str]  # ancestors of the term (itself excluded) that are in ANCHOR_TERMS


class OntologyError(RuntimeError):
    """The ontology data could not be read or indexed."""


def _package_data_dir() -> Path:
    spec = find_spec("cellxgene_ontology_guide")  # found without importing the package
    if spec is None or not spec.submodule_search_locations:
        raise OntologyError("cellxgene-ontology-guide is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


@cache
def supported_ontologies() -> dict[str, dict[str, object]]:
    """Ontology name -> its info (version, id separator, imported prefixes) for schema 7.1.0."""
    with open(_package_data_dir() / "ontology_info.json", encoding="utf-8") as handle:
        return json.load(handle)[SCHEMA_ONTOLOGY_VERSION]["ontologies"]


@cache
def _imported_prefixes() -> dict[str, str]:
    return {
        imported: host
        for host, info in supported_ontologies().items()
        for imported in info.get("additional_ontologies", [])  # type: ignore[union-attr]
    }


def ontology_of(term_id: str) -> str | None:
    """The supported ontology a term id belongs to by its prefix, or None (reference semantics)."""
    if not isinstance(term_id, str):
        return None
    match = _TERM_PATTERN.match(term_id)
    if not match:
        return None
    prefix = match.group(1) or match.group(2)
    ontologies = supported_ontologies()
    name: str | None = None
    if prefix in ontologies:
        name = prefix
    else:
        lowered = prefix.lower()
        name = next((key for key in ontologies if key.lower() == lowered), None)
        if name is None:
            name = _imported_prefixes().get(prefix)
    if name is None:
        return None
    separator = str(ontologies[name].get("id_separator", ":"))
    return name if separator in term_id else None


def _anchor_digest() -> str:
    return hashlib.sha256("\n".join(sorted(ANCHOR_TERMS)).encode()).hexdigest()[:12]


def index_dir() -> Path:
    return cache_dir() / "ontology-index" / f"schema-{SCHEMA_ONTOLOGY_VERSION}"


def _index_path(ontology: str) -> Path:
    version = supported_ontologies()[ontology]["version"]
    return index_dir() / f"{ontology}-{version}-{_anchor_digest()}-v{_INDEX_FORMAT}.sqlite"


def _source_path(ontology: str) -> Path:
    version = supported_ontologies()[ontology]["version"]
    return _package_data_dir() / f"{ontology}-ontology-{version}.json.zst"


def _stream_terms(path: Path) -> Iterator[tuple[str, dict[str, object]]]:
    """Yield (term_id, record) from a ``{term: record, ...}`` JSON object without loading it whole."""
    import zstandard

    decoder = json.JSONDecoder()
    whitespace = " \t\r\n,"
    with open(path, "rb") as raw, zstandard.ZstdDecompressor().stream_reader(raw) as stream:
        buffer = ""
        position = 0
        exhausted = False

        def refill() -> bool:
            nonlocal buffer, position, exhausted
            chunk = stream.read(1 << 22)
            if not chunk:
                exhausted = True
                return False
            # A multi-byte character may straddle the chunk edge: keep decoding incrementally.
            buffer = buffer[position:] + text_decoder.decode(chunk)
            position = 0
            return True

        import codecs

        text_decoder = codecs.getincrementaldecoder("utf-8")()
        refill()
        position = buffer.index("{") + 1
        while True:
            while True:
                while position < len(buffer) and buffer[position] in whitespace:
                    position += 1
                if position < len(buffer) or not refill():
                    break
            if position >= len(buffer) or buffer[position] == "}":
                return
            try:
                key, after_key = decoder.raw_decode(buffer, position)
                colon = buffer.index(":", after_key)
                value_start = colon + 1
                while buffer[value_start] in " \t\r\n":
                    value_start += 1
                value, after_value = decoder.raw_decode(buffer, value_start)
            except (json.JSONDecodeError, ValueError, IndexError):
                if exhausted or not refill():
                    raise OntologyError(f"truncated ontology file {path}") from None
                continue
            yield key, value
            position = after_value


def build_index(ontology: str) -> Path:
    """Stream-parse one ontology file into its SQLite index (atomically); return the index path."""
    target = _index_path(ontology)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    staging.unlink(missing_ok=True)
    connection = sqlite3.connect(staging)
    try:
        connection.execute(
            "CREATE TABLE terms (id TEXT PRIMARY KEY, label TEXT, deprecated INTEGER, anchors TEXT) WITHOUT ROWID"
        )
        batch: list[tuple[str, str, int, str]] = []
        for term_id, record in _stream_terms(_source_path(ontology)):
            ancestors = record.get("ancestors") or {}
            anchors = " ".join(sorted(a for a in ancestors if a in ANCHOR_TERMS))  # type: ignore[union-attr]
            batch.append((term_id, str(record.get("label", "")), int(bool(record.get("deprecated"))), anchors))
            if len(batch) >= 50_000:
                connection.executemany("INSERT OR REPLACE INTO terms VALUES (?, ?, ?, ?)", batch)
                batch.clear()
        connection.executemany("INSERT OR REPLACE INTO terms VALUES (?, ?, ?, ?)", batch)
        connection.commit()
    finally:
        connection.close()
    os.replace(staging, target)
    return target


def _ancestor_index_path(ontology: str) -> Path:
    version = supported_ontologies()[ontology]["version"]
    return index_dir() / f"{ontology}-{version}-ancestors-v{_INDEX_FORMAT}.sqlite"


def build_ancestor_index(ontology: str) -> Path:
    """Every term's full ancestor set (not only the anchors), for browse roll-ups ("brain" finds "cortex")."""
    target = _ancestor_index_path(ontology)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    staging.unlink(missing_ok=True)
    connection = sqlite3.connect(staging)
    try:
        connection.execute("CREATE TABLE ancestors (id TEXT PRIMARY KEY, ancestors TEXT) WITHOUT ROWID")
        rows = (
            (term_id, " ".join(sorted(record.get("ancestors") or {})))  # type: ignore[arg-type]
            for term_id, record in _stream_terms(_source_path(ontology))
        )
        connection.executemany("INSERT OR REPLACE INTO ancestors VALUES (?, ?)", rows)
        connection.commit()
    finally:
        connection.close()
    os.replace(staging, target)
    return target


def build_all_indexes() -> list[Path]:
    """Index every ontology of the schema, terms and full ancestor sets (what ``cellportal reference fetch``
    does ahead of time, so neither the first validation nor the first browse request builds one)."""
    built = []
    for name in _all_names():
        built.append(_index_path(name) if _index_path(name).exists() else build_index(name))
        ancestors = _ancestor_index_path(name)
        built.append(ancestors if ancestors.exists() else build_ancestor_index(name))
    return built


def _all_names() -> list[str]:
    return [name for name in supported_ontologies() if _source_path(name).exists()]


class OntologyIndex:
    """Term lookups over the per-ontology SQLite indexes, building an index the first time it is needed."""

    def __init__(self) -> None:
        self._connections: dict[str, sqlite3.Connection] = {}
        self._terms: dict[str, Term | None] = {}
        self._lock = threading.Lock()

    def _connection(self, ontology: str) -> sqlite3.Connection:
        connection = self._connections.get(ontology)
        if connection is None:
            path = _index_path(ontology)
            if not path.exists():
                build_index(ontology)
            connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
            self._connections[ontology] = connection
        return connection

    def term(self, term_id: str) -> Term | None:
        """The term if it is defined in a supported ontology (deprecated terms included), else None."""
        if term_id in self._terms:
            return self._terms[term_id]
        ontology = ontology_of(term_id)
        found: Term | None = None
        if ontology is not None:
            with self._lock:
                row = (
                    self._connection(ontology)
                    .execute("SELECT label, deprecated, anchors FROM terms WHERE id = ?", (term_id,))
                    .fetchone()
                )
            if row is not None:
                anchors = frozenset(row[2].split()) if row[2] else frozenset()
                found = Term(term_id, ontology, row[0], bool(row[1]), anchors)
        self._terms[term_id] = found
        return found

    def ancestors(self, term_id: str) -> frozenset[str]:
        """All ancestors of a term (itself excluded); empty for a term no supported ontology defines."""
        ontology = ontology_of(term_id)
        if ontology is None:
            return frozenset()
        key = f"ancestors:{ontology}"
        with self._lock:
            connection = self._connections.get(key)
            if connection is None:
                path = _ancestor_index_path(ontology)
                if not path.exists():
                    build_ancestor_index(ontology)
                connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
                self._connections[key] = connection
            row = connection.execute("SELECT ancestors FROM ancestors WHERE id = ?", (term_id,)).fetchone()
        return frozenset(row[0].split()) if row and row[0] else frozenset()

    def is_valid(self, term_id: str, ontology: str | None = None) -> bool:
        found = self.term(term_id)
        return found is not None and (ontology is None or found.ontology == ontology)

    def is_deprecated(self, term_id: str) -> bool:
        found = self.term(term_id)
        return found is not None and found.deprecated

    def label(self, term_id: str) -> str:
        if term_id in NON_ONTOLOGY_TERMS:
            return term_id
        found = self.term(term_id)
        if found is None:
            raise KeyError(f"unknown ontology term {term_id!r}")
        return found.label

    def is_descendant_of(self, term_id: str, ancestor: str, inclusive: bool = False) -> bool:
        """Whether ``ancestor`` is an ancestor of ``term_id`` (or the term itself when ``inclusive``)."""
        if ancestor not in ANCHOR_TERMS:
            raise ValueError(f"{ancestor} is not indexed as an ancestor; add it to ANCHOR_TERMS")
        if inclusive and term_id == ancestor:
            return self.term(term_id) is not None
        found = self.term(term_id)
        return found is not None and ancestor in found.anchors

    def close(self) -> None:
        for connection in self._connections.values():
            connection.close()
        self._connections.clear()


@cache
def ontology_index() -> OntologyIndex:
    """The process-wide index (lookups are cached per term)."""
    return OntologyIndex()
