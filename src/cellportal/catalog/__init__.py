"""The catalog: collections, datasets, their versions and artifacts, and the rules that keep links permanent."""

from cellportal.catalog import guards as _guards  # noqa: F401  (registers the flush guard on every Session)
