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


# Commands on the pipeline's hot path import only their own module: the others pull in the web stack and the
# database (seconds of imports), and `cellportal validate` must answer a small file in well under 2 s.
_FAST_PATH_COMMANDS = ("validate", "reference")


def main() -> None:
    import sys

    command = sys.argv[1] if len(sys.argv) > 1 else None
    if command == "validate" and not {"--help", "-h"} & set(sys.argv[2:]):
        from cellportal.cli._validate_run import main as validate_main

        raise SystemExit(validate_main(sys.argv[2:]))
    if command in _FAST_PATH_COMMANDS:
        importlib.import_module(f"{__name__}.{command}")
    else:
        _register()
    app()
