"""The real app served by uvicorn (a thread, a free port) over a real catalog (sqlite | postgres, migrated)
and a real local blob store, with bearer tokens for an owner, a stranger and an admin.

A real server rather than an in-process transport because the protocol's hard cases are about the
connection: a client that vanishes mid-body must leave its bytes on disk.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from cellportal.app import create_app
from cellportal.auth import accounts, sharing
from cellportal.auth.policy import CollaboratorRole, Principal, Role
from cellportal.auth.principals import StaticTokens
from cellportal.catalog.db import transaction
from cellportal.catalog.models import CollectionVersion
from cellportal.config import Settings
from cellportal.runtime import Runtime
from cellportal.uploads.handoff import LocalJobs
from tests.conftest import free_port
from tests.fixtures.builders import make_collection
from tests.fixtures.server import serving

OWNER = "curator-1"  # the builders' default owner
TOKENS = {
    "owner-token": Principal(user_id=OWNER),
    "stranger-token": Principal(user_id="someone-else"),
    "admin-token": Principal(user_id="root", roles=frozenset({Role.ADMIN})),
}
MAX_BYTES = 8 * 1024 * 1024


def as_(who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {who}-token", "Tus-Resumable": "1.0.0"}


def metadata(**values: str) -> str:
    return ",".join(f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in values.items())


@dataclass
class Server:
    base_url: str
    app: FastAPI
    runtime: Runtime
    port: int

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=30)

    def jobs(self) -> LocalJobs | None:
        return getattr(self.app.state, "upload_jobs", None)


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {}


@pytest.fixture
def runtime(engine: Engine, tmp_path: Path, settings_overrides: dict[str, object]) -> Iterator[Runtime]:
    values: dict[str, object] = {
        "data_dir": tmp_path / "data",
        "public_url": "http://cells.test",
        "upload_max_bytes": MAX_BYTES,
        "broker_url": f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}",
        **settings_overrides,
    }
    yield Runtime(Settings(**values), _engine=engine)  # type: ignore[arg-type]


@pytest.fixture
def server(runtime: Runtime) -> Iterator[Server]:
    app = create_app(runtime, token_resolver=StaticTokens(TOKENS))
    port = free_port()
    with serving(app, port=port, name="upload test server") as base_url:
        server = Server(base_url, app, runtime, port)
        try:
            yield server
        finally:
            jobs = server.jobs()
            if jobs is not None:  # a pipeline still running would write into a removed tmp_path
                jobs.wait(timeout=120)


@pytest.fixture
def private_version(runtime: Runtime) -> str:
    """A private collection version of OWNER with one finished dataset."""
    with transaction(runtime.sessions) as session:
        return make_collection(session, published=False, datasets=1).id


@pytest.fixture
def callers(runtime: Runtime, private_version: str) -> dict[str, dict[str, str]]:
    """Headers per caller of `private_version`: anonymous (a browser that passes the CSRF check), another
    user, and a viewer and an editor of the collection (real accounts, API keys), besides OWNER and admin."""
    with transaction(runtime.sessions) as session:
        collection_id = session.get(CollectionVersion, private_version).collection_id  # type: ignore[union-attr]
        keys = {}
        for role in CollaboratorRole:
            user = accounts.create_user(session, role.value, None)
            sharing.add_collaborator(session, collection_id, user.username, role, added_by=None)
            keys[role.value] = accounts.create_api_key(session, user, "uploads").token
    return {
        "anonymous": {"Cookie": "cp_csrf=t", "X-CSRF-Token": "t", "Tus-Resumable": "1.0.0"},
        "other user": as_("stranger"),
        **{role: {"Authorization": f"Bearer {key}", "Tus-Resumable": "1.0.0"} for role, key in keys.items()},
        "owner": as_("owner"),
        "admin": as_("admin"),
    }


@pytest.fixture
def start_upload(server: Server, private_version: str) -> Callable[..., str]:
    """POST /uploads/ as the owner; returns the upload's URL path."""

    def start(length: int, filename: str = "cells.h5ad", **extra: str) -> str:
        with server.client() as client:
            response = client.post(
                "/uploads/",
                headers={
                    **as_("owner"),
                    "Upload-Length": str(length),
                    "Upload-Metadata": metadata(filename=filename, collection_version_id=private_version, **extra),
                },
            )
        assert response.status_code == 201, response.text
        return response.headers["Location"]

    return start
