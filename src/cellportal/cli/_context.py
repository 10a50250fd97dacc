"""What every operating command starts with: the settings, a runtime, and an up-to-date catalog."""

from __future__ import annotations

import logging

from cellportal.config import Settings, load_settings
from cellportal.runtime import Runtime


def open_runtime(settings: Settings | None = None, *, migrate: bool = True) -> Runtime:
    """One Runtime from the shared settings (``CELLPORTAL_*`` variables or the settings file)."""
    runtime = Runtime(settings or load_settings())
    if migrate:
        from cellportal.catalog.migrate import upgrade

        upgrade(runtime.engine)
    return runtime


def configure_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    # Alembic announces every plugin at INFO; only worth seeing when asked.
    logging.getLogger("alembic").setLevel(logging.INFO if verbose else logging.WARNING)
