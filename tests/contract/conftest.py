"""The contract tests run the same app over the same real catalog as the API integration tests."""

from __future__ import annotations

from tests.integration.api.conftest import client, put_blob, runtime, storage_backend, write  # noqa: F401
