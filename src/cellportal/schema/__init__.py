"""The CELLxGENE dataset schema (7.1.0): reference data, validator, labeller and metadata extractor."""

from __future__ import annotations
