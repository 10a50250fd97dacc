"""Shared shape of the listing commands: a Rich table on the terminal, or the same rows as JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import typer
from rich.console import Console
from rich.table import Table


def show(rows: Sequence[dict[str, Any]], columns: Sequence[str], *, title: str, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(list(rows), indent=2, default=str))
        return
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
    Console().print(table)
