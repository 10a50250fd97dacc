"""Demo data: realistic, schema-valid single-cell datasets generated on demand (see ``generator``)."""
