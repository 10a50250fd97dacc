"""Faceted browse and full-text search for the reader's pages: the index (models, index), what the reader
chose (selection), the SQL (queries), and realistic synthetic metadata for benchmarks and tests."""
