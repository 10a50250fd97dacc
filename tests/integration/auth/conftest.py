"""Accounts and sharing run over the same app fixtures as the API tests (real catalog, real blob store)."""

from tests.integration.api.conftest import client, put_blob, runtime, storage_backend, write  # noqa: F401
