"""The pages run over the same app fixtures as the API tests."""

from tests.integration.api.conftest import client, put_blob, runtime, storage_backend, write  # noqa: F401
