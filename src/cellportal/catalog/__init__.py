"""The catalog: collections, datasets, their versions and artifacts, and the rules that keep links permanent."""
