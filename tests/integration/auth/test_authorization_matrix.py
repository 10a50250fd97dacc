"""Every route x every kind of caller x {private, published, withdrawn}: the outcome the table says.

Routes are read from the app itself (``app.routes``), so a new route without an entry in
`route_expectations.EXPECTATIONS` fails `test_every_route_is_classified`, naming it. One app over one
SQLite catalog is built per module; a request that may change state (anything but GET/HEAD) is followed by
restoring the catalog file, so every call sees the same starting point.
"""

from __future__ import annotations

import shutil
import string
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Mount

from cellportal.app import create_app
from cellportal.auth import accounts, sharing
from cellportal.auth.cookies import CSRF_COOKIE, SESSION_COOKIE, SHARE_COOKIE, sign_link_ids
from cellportal.auth.secrets import new_token
from cellportal.catalog import migrate, service
from cellportal.catalog.db import make_engine, transaction
from cellportal.catalog.statuses import ArtifactType, ConversionStatus
from cellportal.config import Settings
from cellportal.formats.explorer_store import FORMAT_VERSION
from cellportal.runtime import Runtime
from tests.fixtures.builders import DEFAULT_ARTIFACTS, make_collection
from tests.integration.auth import route_expectations as table
from tests.unit.explorer.support import write_labelled_dataset, write_store

PUBLIC_URL = "https://cells.example.org"
EXPECTATIONS_FILE = "tests/integration/auth/route_expectations.py"
# Mounted sub-applications that are not routes of ours to classify (static files).
UNCLASSIFIED_MOUNTS = {"/e/static", "/static/portal"}


@dataclass(frozen=True)
class Fixture:
    """The ids a route's path parameters are filled from, for one collection state."""

    collection_id: str
    collection_version_id: str
    dataset_id: str
    dataset_version_id: str
    collaborator_id: str
    link_id: str
    user_id: str  # an ordinary user's id, for the admin pages
    key_id: str  # the owner's API key
    embedding: str = "X_umap"
    obs_column: str = "n_counts"
    gene: str = "0"

    @property
    def h5ad_filename(self) -> str:
        return f"{self.dataset_version_id}.h5ad"

    @property
    def raw_filename(self) -> str:
        return f"{self.dataset_version_id}.raw.h5ad"


@dataclass
class World:
    client: TestClient
    runtime: Runtime
    database: Path
    snapshot: Path
    fixtures: dict[str, Fixture]  # state -> ids
    cookies: dict[str, dict[str, str]]  # principal -> cookies
    private_names: tuple[str, ...]

    def restore(self) -> None:
        """Put the catalog back as it was built (after a request that may have changed it)."""
        self.runtime.engine.dispose()
        for suffix in ("-wal", "-shm"):
            Path(f"{self.database}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(self.snapshot, self.database)


def app_routes(app: Any) -> list[tuple[str, str]]:
    """(method, path) of every route of the app, mounts included; HEAD only where declared on its own."""
    found: list[tuple[str, str]] = []

    def walk(routes: Any, prefix: str) -> None:
        for context in iter_route_contexts(routes):
            route = context.original_route
            if isinstance(route, Mount):
                path = prefix + route.path
                if path not in UNCLASSIFIED_MOUNTS:
                    walk(route.routes, path)
                continue
            methods = set(getattr(route, "methods", None) or [])
            if "GET" in methods:
                methods.discard("HEAD")  # Starlette adds HEAD to every GET
            found.extend((method, prefix + (context.path or "")) for method in sorted(methods))

    walk(app.routes, "")
    return found


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, _sqlite_template: Path) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("matrix")
    database = folder / "catalog.sqlite"
    shutil.copyfile(_sqlite_template, database)
    migrate.upgrade(f"sqlite:///{database}")  # the template is migrated already; this is a no-op check
    settings = Settings(data_dir=folder / "data", public_url=PUBLIC_URL)
    runtime = Runtime(settings, _engine=make_engine(f"sqlite:///{database}"))
    store = write_store(write_labelled_dataset(folder / "small.h5ad", n_cells=200, n_genes=300), folder / "s.h5")
    put_blob = lambda data: runtime.blobs.put_bytes(data).sha256  # noqa: E731

    with transaction(runtime.sessions) as session:
        users = {
            name: accounts.create_user(session, name.replace(" ", "-"), None, admin=name == table.ADMIN)
            for name in table.USERS
        }
        key = accounts.create_api_key(session, users[table.OWNER], "owner's key").key
        fixtures: dict[str, Fixture] = {}
        live_links, revoked_links, names = [], [], []
        for state in table.STATES:
            name = f"{state.title()} atlas {new_token(4)}"
            version = make_collection(
                session,
                owner_id=users[table.OWNER].id,
                name=name,
                datasets=1,
                published=False,
                artifacts=tuple(t for t in DEFAULT_ARTIFACTS if t != ArtifactType.EXPLORER),
                put_blob=put_blob,
            )
            dataset_version = version.dataset_versions[0]
            info = runtime.blobs.put_file(store)
            service.record_artifact(
                session,
                dataset_version_id=dataset_version.id,
                type=ArtifactType.EXPLORER,
                status=ConversionStatus.CONVERTED,
                sha256=info.sha256,
                size=info.size,
                format_version=FORMAT_VERSION,
            )
            if state != "private":
                service.publish(session, collection_version_id=version.id)
            if state == "tombstoned":
                service.withdraw_collection(session, collection_id=version.collection_id, reason="matrix test")
            else:
                names.append((state, name))
            collection_id = version.collection_id
            viewer = sharing.add_collaborator(session, collection_id, "viewer", "viewer", added_by=None)
            sharing.add_collaborator(session, collection_id, "editor", "editor", added_by=None)
            live = sharing.create_share_link(session, collection_id, created_by=None).link
            revoked = sharing.create_share_link(session, collection_id, created_by=None).link
            sharing.revoke_share_link(session, collection_id, revoked.id)
            live_links.append(live.id)
            revoked_links.append(revoked.id)
            fixtures[state] = Fixture(
                collection_id=collection_id,
                collection_version_id=version.id,
                dataset_id=dataset_version.dataset_id,
                dataset_version_id=dataset_version.id,
                collaborator_id=viewer.id,
                link_id=live.id,
                user_id=users[table.OTHER].id,
                key_id=key.id,
            )
        sessions = {name: accounts.start_session(session, user, timedelta(days=1)) for name, user in users.items()}

    csrf = new_token()
    secret = settings.secret_key
    cookies: dict[str, dict[str, str]] = {
        table.ANONYMOUS: {},
        table.LINK: {SHARE_COOKIE: sign_link_ids(secret, live_links)},
        table.REVOKED_LINK: {SHARE_COOKIE: sign_link_ids(secret, revoked_links)},
        **{name: {SESSION_COOKIE: token} for name, token in sessions.items()},
    }
    for jar in cookies.values():
        jar[CSRF_COOKIE] = csrf

    runtime.engine.dispose()  # checkpoint the WAL into the file before copying it
    snapshot = folder / "snapshot.sqlite"
    shutil.copyfile(database, snapshot)
    app = create_app(runtime)
    with TestClient(app, base_url="https://testserver") as client:
        yield World(
            client, runtime, database, snapshot, fixtures, cookies, tuple(n for s, n in names if s == "private")
        )
    runtime.close()


def _outcome(response: Any) -> str:
    status = response.status_code
    if status == 401 or (300 <= status < 400 and response.headers.get("location", "").startswith("/login")):
        return table.LOGIN
    return {403: table.FORBIDDEN, 404: table.HIDDEN, 410: table.GONE}.get(status, table.ALLOWED)


def _call(world: World, method: str, path: str, expect: table.Expect, principal: str, state: str) -> Any:
    fixture = world.fixtures[state]
    values = {name: getattr(fixture, expect.params.get(name, name)) for name in _parameters(path)}
    url = path.format(**values)
    cookies = world.cookies[principal]
    headers = {"cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
    if method not in ("GET", "HEAD"):
        headers["x-csrf-token"] = cookies[CSRF_COOKIE]
    world.client.cookies.clear()  # only the principal's own cookies, never what an earlier response set
    response = world.client.request(
        method, url, headers=headers, data=expect.data, json=expect.json, follow_redirects=False
    )
    world.client.cookies.clear()
    if method not in ("GET", "HEAD"):
        world.restore()
    return response


def _parameters(path: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(path) if name]


def _expectations(method: str, path: str) -> list[table.Expect]:
    entry = table.EXPECTATIONS[(method, path)]
    return entry if isinstance(entry, list) else [entry]


def test_every_route_is_classified(world: World) -> None:
    routes = app_routes(world.client.app)
    missing = [
        f'    ("{method}", "{path}"): Expect(...),'
        for method, path in routes
        if (method, path) not in table.EXPECTATIONS
    ]
    assert not missing, (
        f"{len(missing)} route(s) have no expected outcome in the authorization matrix. Add an entry for each "
        f"to EXPECTATIONS in {EXPECTATIONS_FILE} (the rules are explained at the top of that file):\n"
        + "\n".join(missing)
    )
    stale = sorted(set(table.EXPECTATIONS) - set(routes))
    assert not stale, f"entries in {EXPECTATIONS_FILE} for routes the app does not have (any more): {stale}"


def test_every_route_answers_every_caller_as_the_table_says(world: World) -> None:
    mismatches: list[str] = []
    for method, path in app_routes(world.client.app):
        if (method, path) not in table.EXPECTATIONS:
            continue  # reported by test_every_route_is_classified
        for expect in _expectations(method, path):
            if expect.covered_by:
                continue  # checked by that test (test_covered_by_names_real_tests keeps the pointer true)
            for state in table.STATES:
                for principal in table.PRINCIPALS:
                    response = _call(world, method, path, expect, principal, state)
                    wanted = expect.rule(principal, state)
                    got = _outcome(response)
                    if response.status_code >= 500 or got != wanted:
                        mismatches.append(
                            f"{method} {path} {dict(expect.params) or ''} [{state}] as {principal}: "
                            f"expected {wanted}, got {response.status_code} ({got})"
                        )
    assert not mismatches, f"{len(mismatches)} mismatches:\n" + "\n".join(mismatches)


def test_covered_by_names_real_tests() -> None:
    root = Path(__file__).resolve().parents[3]
    missing = []
    for key, entry in table.EXPECTATIONS.items():
        for expect in entry if isinstance(entry, list) else [entry]:
            if not expect.covered_by:
                continue
            path, _, name = expect.covered_by.partition("::")
            source = root / path
            if not source.is_file() or f"def {name}(" not in source.read_text():
                missing.append(f"{key}: {expect.covered_by}")
    assert not missing, "covered_by names a test that does not exist:\n" + "\n".join(missing)


def test_listings_never_show_a_private_collection_to_those_who_may_not_read_it(world: World) -> None:
    private = world.fixtures["private"]
    leaks: list[str] = []
    for (method, path), entry in table.EXPECTATIONS.items():
        for expect in entry if isinstance(entry, list) else [entry]:
            if not expect.lists_private:
                continue
            for principal in table.PRINCIPALS:
                response = _call(world, method, path, expect, principal, "private")
                visible = private.collection_id in response.text or any(n in response.text for n in world.private_names)
                if visible and principal not in table.READERS:
                    leaks.append(f"{method} {path} shows the private collection to {principal}")
    assert not leaks, "\n".join(leaks)
