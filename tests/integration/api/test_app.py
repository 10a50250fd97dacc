"""The app factory's wiring: health, docs, one error shape, and every route behind the authorization path."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute

from cellportal.app import create_app
from cellportal.auth.principals import resolve_principal
from cellportal.catalog import migrate
from cellportal.config import Settings
from tests.fixtures.builders import make_collection

# Routes that read nothing a policy could guard: health, the tus protocol's capability answer, and the
# account forms, which act on whoever is signing in or out (the authorization matrix checks them all too).
PUBLIC_ROUTES = {
    ("GET", "/healthz"),
    ("OPTIONS", "/uploads/"),
    ("OPTIONS", "/uploads/{upload_id}"),
    ("POST", "/login"),
    ("GET", "/signup"),
    ("POST", "/signup"),
    ("POST", "/logout"),
    ("GET", "/login/oidc"),
    ("GET", "/login/oidc/callback"),
}


def _calls(dependant: Dependant) -> Iterator[object]:
    yield dependant.call
    for dependency in dependant.dependencies:
        yield from _calls(dependency)


def _api_routes(routes: Iterable[BaseRoute]) -> Iterator[APIRoute]:
    """Every endpoint, including those of included routers (FastAPI keeps those behind a wrapper)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from _api_routes(route.original_router.routes)


def test_every_route_resolves_its_principal(client: TestClient) -> None:
    """A route that reads catalog data without knowing who asks could leak private data: refuse it here."""
    app: FastAPI = client.app  # type: ignore[assignment]
    routes = [r for r in _api_routes(app.routes) if not {(m, r.path) for m in r.methods} <= PUBLIC_ROUTES]

    assert len(routes) >= 9
    unguarded = [
        f"{sorted(route.methods)} {route.path}"
        for route in routes
        if resolve_principal not in set(_calls(route.dependant))
    ]
    assert unguarded == []


def test_health_docs_and_openapi(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/docs").status_code == 200
    assert client.get("/openapi.json").json()["info"]["title"] == "cellportal"


def test_one_error_shape_for_framework_errors_too(client: TestClient) -> None:
    for response in (
        client.get("/no/such/page"),
        client.post("/curation/v1/collections"),
        client.get("/curation/v1/collections", params={"visibility": "SECRET"}),
        client.get("/curation/v1/collections", headers={"Authorization": "Bearer nobody-knows-me"}),
    ):
        assert response.status_code in {400, 401, 404, 405}
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert body["status"] == response.status_code
        assert body["title"] and body["detail"] and body["type"] == "about:blank"
    invalid = client.get("/curation/v1/collections", params={"visibility": "SECRET"}).json()
    assert invalid["invalid_parameters"][0]["name"] == "visibility"


def test_create_app_from_settings_owns_its_runtime(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, public_url="https://portal.example.org/")
    app = create_app(settings)
    runtime = app.state.runtime
    migrate.upgrade(runtime.engine)
    with runtime.sessions() as session, session.begin():
        version = make_collection(session, datasets=1, put_blob=lambda data: runtime.blobs.put_bytes(data).sha256)
        dataset_version_id = version.dataset_versions[0].id

    with TestClient(app) as client:
        listed = client.get("/curation/v1/datasets").json()
        assert listed[0]["assets"][0]["url"].startswith("https://portal.example.org/datasets/")
        assert client.get(f"/datasets/{dataset_version_id}.h5ad").status_code == 200
    assert (tmp_path / "blobs").is_dir() and (tmp_path / "catalog.sqlite").is_file()
