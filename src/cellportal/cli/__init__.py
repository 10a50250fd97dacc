"""The ``cellportal`` command. Each sub-command lives in its own module of this package.

A module registers its commands on :data:`app` when imported; :func:`main` imports every module here,
so adding a command means adding a file, not editing a list.
"""

from __future__ import annotations

import importlib
import pkgutil

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, help="cellportal: publish single-cell data.")


@app.callback()
def _root() -> None:
    """cellportal: publish single-cell data with permanent links."""


def _register() -> None:
    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")


def main() -> None:
    _register()
    app()
