"""The ASGI app: wiring only. Routers live in api/ and explorer/ (and later web/); nothing is decided here."""

from __future__ import annotations

from typing import Literal

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from cellportal import __version__
from cellportal.api.discover.routes import router as discover_router
from cellportal.api.downloads import router as downloads_router
from cellportal.api.errors import install_error_handlers
from cellportal.api.portal_status import router as portal_status_router
from cellportal.api.uploads import router as uploads_router
from cellportal.auth.middleware import ShareLinkMiddleware
from cellportal.auth.principals import StaticTokens, TokenResolver
from cellportal.config import Settings
from cellportal.explorer import mount_explorer
from cellportal.runtime import Runtime
from cellportal.web.account import router as account_router
from cellportal.web.curator import router as curator_router
from cellportal.web.identity import install_identity
from cellportal.web.routes import STATIC as PORTAL_STATIC
from cellportal.web.routes import router as web_router


def create_app(
    settings_or_runtime: Settings | Runtime,
    *,
    token_resolver: TokenResolver | None = None,
    s3_downloads: Literal["redirect", "proxy"] | None = None,
) -> FastAPI:
    """Build the app from settings (it then owns a Runtime) or from a Runtime the caller owns.

    `token_resolver` maps a bearer token to a principal; the default knows only the optional admin token
    (``settings.admin_token``). The accounts issue passes its own.
    `s3_downloads` (default: ``settings.s3_downloads``): answer downloads from S3 with a presigned redirect,
    or stream them through the app
    (see api/downloads.py).
    """
    owned = not isinstance(settings_or_runtime, Runtime)
    runtime = settings_or_runtime if isinstance(settings_or_runtime, Runtime) else Runtime(settings_or_runtime)
    app = FastAPI(
        title="cellportal",
        version=__version__,
        description="Public Discover API (the read operations of the CELLxGENE Discover Curation API) "
        "and permanent dataset downloads.",
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    app.state.runtime = runtime
    app.state.s3_downloads = s3_downloads or runtime.settings.s3_downloads
    app.state.token_resolver = token_resolver or StaticTokens.admin(runtime.settings.admin_token)
    install_error_handlers(app)
    install_identity(app)  # pages that need a signed-in user redirect to /login
    app.add_middleware(ShareLinkMiddleware)  # ?share=<token> on any URL

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(discover_router)
    app.include_router(downloads_router)
    # Before the reader pages: /collections/new must not be taken for a collection id.
    app.include_router(curator_router)
    app.include_router(web_router)  # the first portal pages
    app.include_router(uploads_router)  # resumable (tus) uploads and upload-from-URL
    app.include_router(portal_status_router)  # live processing status of dataset versions
    app.include_router(account_router)  # login, signup, API keys, admin users, collection sharing
    app.mount("/static/portal", StaticFiles(directory=PORTAL_STATIC), name="portal-static")
    mount_explorer(app, runtime)  # /e/<id>: the explorer page and its data API
    if owned:
        # Shutdown handlers rather than a lifespan, so the mounted parts can add theirs (the explorer does).
        app.router.add_event_handler("shutdown", runtime.close)
    return app
