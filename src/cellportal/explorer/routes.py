"""The explorer's routes: the page `/e/<dataset id or version id>` and the data API under `/e/api/v1/`.

Data API (every path names a dataset version, whose data never changes):

    GET  /e/api/v1/<version>/schema            JSON: cells, genes, embeddings, obs columns (categories, colours)
    GET  /e/api/v1/<version>/genes             JSON: {"symbols": [...], "ids": [...]} in var order
    GET  /e/api/v1/<version>/embedding/<key>   frame: x, y (float32), first two dimensions of obsm[key]
    GET  /e/api/v1/<version>/obs/<column>      frame: codes (uint8|uint16|int32; missing = len(categories))
                                               or values (float32)
    GET  /e/api/v1/<version>/gene/<gene>       frame: indices (uint32 cells), values (float32): the non-zeros;
                                               <gene> is a var index, a symbol or an Ensembl id
    POST /e/api/v1/<version>/diffexp?mode=sets|rest&top=50
         body: uint32 LE byte length of bitset 1, uint32 LE byte length of bitset 2, bitset 1, bitset 2
         JSON: the top genes up and down by Welch's t, with Wilcoxon, log fold change, BH-adjusted p-values

Frames are described in encoding.py. Reads are synchronous (h5py) and run in the threadpool.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

from cellportal.api.deps import PrincipalDep, RuntimeDep, SessionDep
from cellportal.api.errors import Problem
from cellportal.api.urls import Urls
from cellportal.explorer.access import AccessCache, ExplorableVersion, StoreAccess, explorable_version, panel_facts
from cellportal.explorer.diffexp import SelectionError, comparison_from_bitsets, differential_expression
from cellportal.explorer.encoding import pack_frame
from cellportal.explorer.reader import ExplorerData
from cellportal.explorer.responses import FRAME_TYPE, JSON_TYPE, BodyCache, immutable_response, json_bytes
from cellportal.explorer.stores import OpenStores, blob_opener
from cellportal.explorer.timing import ServerTiming
from cellportal.runtime import Runtime

API_PREFIX = "/e/api/v1"
STATIC_PREFIX = "/e/static"
STATIC_DIR = Path(__file__).resolve().parent.parent / "web" / "static" / "explorer"
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"), autoescape=select_autoescape()
)
MAX_DIFFEXP_BODY = 64 * 1024 * 1024  # two bitsets of 250M cells

router = APIRouter(tags=["explorer"])


def _stores(request: Request) -> OpenStores:
    stores: OpenStores = request.app.state.explorer_stores
    return stores


def _open(request: Request, found: ExplorableVersion | StoreAccess) -> ExplorerData:
    return _stores(request).get(found.store_sha256)


# --- the page -----------------------------------------------------------------------------------------


@router.get("/e/{any_id}", response_class=HTMLResponse, include_in_schema=False)
@router.get("/e/{any_id}/", response_class=HTMLResponse, include_in_schema=False)
def explorer_page(any_id: str, request: Request, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep):
    try:
        found = explorable_version(session, principal, any_id)
    except Problem as problem:
        return _unavailable_page(problem)
    data = _open(request, found)
    facts = panel_facts(session, found.version, Urls(runtime.settings.public_url))
    facts.update(cell_count=data.n_cells, gene_count=data.n_genes)
    config = {
        "api_base": f"{API_PREFIX}/{found.version.id}",
        "default_embedding": data.schema()["default_embedding"],
        "dataset": facts,
    }
    bundle = STATIC_DIR / "explorer.js"
    html = TEMPLATES.get_template("explorer.html").render(
        title=facts["title"] or "Dataset",
        public=found.public,
        static_base=STATIC_PREFIX,
        bundle_built=bundle.exists(),
        asset_version=int(bundle.stat().st_mtime) if bundle.exists() else 0,
        # Inside <script>: "</" would end the element, so it is escaped (JSON allows "<\/").
        config_json=json.dumps(config).replace("</", "<\\/"),
    )
    # A canonical id follows new versions and the bundle changes with deployments: always revalidate.
    return HTMLResponse(html, headers={"Cache-Control": "no-cache" if found.public else "private, no-cache"})


def _unavailable_page(problem: Problem) -> HTMLResponse:
    extensions = getattr(problem, "extensions", {}) or {}
    html = TEMPLATES.get_template("unavailable.html").render(
        title="Withdrawn" if problem.status == 410 else "Not available",
        detail=problem.detail if hasattr(problem, "detail") else str(problem),
        reason=extensions.get("reason"),
    )
    return HTMLResponse(html, status_code=problem.status)


# --- the data API -------------------------------------------------------------------------------------


def _version(request: Request, session: SessionDep, principal: PrincipalDep, version_id: str) -> StoreAccess:
    access: AccessCache = request.app.state.explorer_access
    return access.get(session, principal, version_id)


def _respond(request: Request, found: StoreAccess, media_type: str, make_body: Callable[[], bytes]) -> Response:
    cache: BodyCache = request.app.state.explorer_bodies
    return immutable_response(request, found.store_sha256, found.public, media_type, make_body, cache)


@router.get(f"{API_PREFIX}/{{version_id}}/schema")
def schema(version_id: str, request: Request, session: SessionDep, principal: PrincipalDep) -> Response:
    found = _version(request, session, principal, version_id)
    data = _open(request, found)
    return _respond(request, found, JSON_TYPE, lambda: json_bytes(data.schema()))


@router.get(f"{API_PREFIX}/{{version_id}}/genes")
def genes(version_id: str, request: Request, session: SessionDep, principal: PrincipalDep) -> Response:
    found = _version(request, session, principal, version_id)
    data = _open(request, found)
    return _respond(request, found, JSON_TYPE, lambda: json_bytes({"symbols": data.gene_symbols, "ids": data.gene_ids}))


@router.get(f"{API_PREFIX}/{{version_id}}/embedding/{{name}}")
def embedding(version_id: str, name: str, request: Request, session: SessionDep, principal: PrincipalDep) -> Response:
    found = _version(request, session, principal, version_id)
    data = _open(request, found)
    if name not in data.embedding_names:
        raise Problem(404, "Not Found", f"No embedding {name!r}; this dataset has {data.embedding_names}.")

    def body() -> bytes:
        x, y = data.embedding(name)
        return pack_frame({"x": x, "y": y}, {"name": name, "n_cells": data.n_cells})

    return _respond(request, found, FRAME_TYPE, body)


@router.get(f"{API_PREFIX}/{{version_id}}/obs/{{column}}")
def obs_column(
    version_id: str, column: str, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    found = _version(request, session, principal, version_id)
    data = _open(request, found)
    spec = data.obs_specs.get(column)
    if spec is None:
        raise Problem(404, "Not Found", f"No obs column {column!r} that can colour cells.")

    def body() -> bytes:
        if spec.kind == "categorical":
            return pack_frame({"codes": data.obs_codes(column)}, {"name": column, "kind": spec.kind})
        return pack_frame({"values": data.obs_values(column)}, {"name": column, "kind": spec.kind})

    return _respond(request, found, FRAME_TYPE, body)


@router.get(f"{API_PREFIX}/{{version_id}}/gene/{{gene}}")
def gene(version_id: str, gene: str, request: Request, session: SessionDep, principal: PrincipalDep) -> Response:
    found = _version(request, session, principal, version_id)
    data = _open(request, found)
    index = _gene_index(data, gene)

    def body() -> bytes:
        cells, values = data.gene(index)
        low, high = data.gene_range
        meta = {
            "index": index,
            "symbol": data.gene_symbols[index],
            "id": data.gene_ids[index],
            "n_cells": data.n_cells,
            "min": float(low[index]),
            "max": float(high[index]),
        }
        return pack_frame({"indices": cells, "values": values}, meta)

    return _respond(request, found, FRAME_TYPE, body)


def _gene_index(data: ExplorerData, gene: str) -> int:
    if gene.isdigit():
        index = int(gene)
        if index < data.n_genes:
            return index
    else:
        lookup = data.gene_lookup
        if gene.upper() in lookup:
            return lookup[gene.upper()]
    raise Problem(404, "Not Found", f"No gene {gene!r} in this dataset.")


async def raw_body(request: Request) -> bytes:
    """The request body, read on the event loop so that the route itself can run in the threadpool."""
    body = await request.body()
    if len(body) > MAX_DIFFEXP_BODY:
        raise Problem(413, "Content Too Large", "The selection is larger than any dataset this server holds.")
    return body


@router.post(f"{API_PREFIX}/{{version_id}}/diffexp")
def diffexp(
    version_id: str,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    body: Annotated[bytes, Depends(raw_body)],
    mode: Annotated[str, Query(pattern="^(sets|rest)$")] = "sets",
    top: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Response:
    found = _version(request, session, principal, version_id)
    if len(body) < 8:
        raise Problem(400, "Bad Request", "The body must hold two lengths (uint32) and the bitsets they describe.")
    length1, length2 = struct.unpack("<II", body[:8])
    if 8 + length1 + length2 != len(body):
        raise Problem(400, "Bad Request", "The bitset lengths do not add up to the body's size.")
    bits1 = body[8 : 8 + length1]
    bits2 = body[8 + length1 :] if mode == "sets" else None
    data = _open(request, found)
    try:
        comparison = comparison_from_bitsets(data.n_cells, bits1, bits2)
    except SelectionError as error:
        raise Problem(400, "Bad Request", str(error)) from None
    result = differential_expression(data, comparison, top)
    return Response(json_bytes(result), media_type=JSON_TYPE, headers={"Cache-Control": "no-store"})


# --- wiring -------------------------------------------------------------------------------------------


def mount_explorer(app: FastAPI, runtime: Runtime, capacity: int = 16) -> None:
    """Add the explorer to an app: its routes, its static bundle, and the shared open stores.

    `capacity` stores stay open (least recently used closed first); each costs its metadata and index
    pointers (about 8 bytes per cell), its expression is read from the store file per request.
    """
    stores = OpenStores(blob_opener(runtime.blobs), capacity=capacity)
    app.add_middleware(ServerTiming, prefix=API_PREFIX)
    app.state.explorer_stores = stores
    app.state.explorer_access = AccessCache()
    app.state.explorer_bodies = BodyCache()
    STATIC_DIR.mkdir(parents=True, exist_ok=True)
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC_DIR), name="explorer-static")
    app.include_router(router)
    app.router.add_event_handler("shutdown", stores.close)
