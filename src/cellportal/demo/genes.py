"""The gene panel of a generated dataset: a preset's named genes padded with real protein-coding genes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cellportal.schema.reference_files import gene_table


@dataclass(frozen=True)
class GenePanel:
    """Genes in the order they are stored in ``var`` (the reference table's order, i.e. genomic order)."""

    ids: tuple[str, ...]
    symbols: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.ids)

    def index_of(self) -> dict[str, int]:
        """Column of each gene symbol."""
        return {symbol: column for column, symbol in enumerate(self.symbols)}


def resolve_symbols(organism_term_id: str, symbols: list[str]) -> dict[str, int]:
    """Row of each symbol in the organism's gene table, preferring its first protein-coding gene."""
    table = gene_table(organism_term_id)
    wanted = set(symbols)
    rows: dict[str, int] = {}
    for row, (name, gene_type) in enumerate(zip(table.gene_name, table.gene_type, strict=True)):
        if name not in wanted:
            continue
        # A few symbols have several ids (e.g. on alternate haplotypes); keep the first protein-coding one.
        if name not in rows or (gene_type == "protein_coding" and table.gene_type[rows[name]] != "protein_coding"):
            rows[name] = row
    missing = [symbol for symbol in symbols if symbol not in rows]
    if missing:
        raise ValueError(f"genes not in the {organism_term_id} reference table: {missing}")
    return rows


def build_panel(organism_term_id: str, named: list[str], n_genes: int, rng: np.random.Generator) -> GenePanel:
    """`n_genes` genes: the named ones (as many as fit, in the given order) plus random protein-coding genes."""
    if n_genes < 1:
        raise ValueError("n_genes must be at least 1")
    table = gene_table(organism_term_id)
    named_rows = list(resolve_symbols(organism_term_id, named).values())[:n_genes]
    chosen = set(named_rows)
    candidates = np.array(
        [row for row, kind in enumerate(table.gene_type) if kind == "protein_coding" and row not in chosen]
    )
    n_padding = n_genes - len(named_rows)
    if n_padding > len(candidates):
        raise ValueError(f"{organism_term_id} has only {len(candidates) + len(named_rows)} usable genes")
    padding = rng.choice(candidates, size=n_padding, replace=False) if n_padding else np.array([], dtype=int)
    rows = sorted(named_rows + [int(row) for row in padding])
    return GenePanel(tuple(table.gene_id[row] for row in rows), tuple(table.gene_name[row] for row in rows))
