"""The hosted explorer: the page at /e/<id> and its binary data API over the explorer store.

`routes.router` carries the HTTP routes; `mount_explorer(app, runtime)` adds them to an app together with
the state they share (the open stores).
"""

from __future__ import annotations

__all__ = ["mount_explorer"]


def __getattr__(name: str) -> object:
    # Imported lazily so `cellportal.explorer.de` and friends stay usable without the web stack loaded.
    if name == "mount_explorer":
        from cellportal.explorer.routes import mount_explorer

        return mount_explorer
    raise AttributeError(name)
