"""One error shape for every API: RFC 7807 ``application/problem+json``, the spec's ``problem`` schema.

Body: ``{"type", "title", "status", "detail"}``, plus extension members where they help a client:
``reason`` and ``tombstoned_at`` on 410 Gone, ``invalid_parameters`` on 400 (as the Curation API does).
"""

from __future__ import annotations

import logging
from datetime import datetime
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger(__name__)


class Problem(Exception):
    """Raise anywhere under a route to answer with a problem document."""

    def __init__(
        self,
        status: int,
        title: str | None = None,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title or HTTPStatus(status).phrase)
        self.status = status
        self.title = title or HTTPStatus(status).phrase
        self.detail = detail or self.title
        self.headers = headers or {}
        self.extensions = extensions


def not_found(what: str) -> Problem:
    return Problem(404, "Not Found", f"{what} does not exist or is not visible to you.")


def gone(detail: str, *, reason: str, tombstoned_at: datetime) -> Problem:
    return Problem(410, "Gone", detail, reason=reason, tombstoned_at=_iso(tombstoned_at))


def problem_response(problem: Problem) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        **problem.extensions,
    }
    return JSONResponse(body, status_code=problem.status, media_type=PROBLEM_JSON, headers=problem.headers)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


async def _on_problem(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return problem_response(exc)


async def _on_http_exception(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    return problem_response(Problem(exc.status_code, None, detail, headers=headers))


async def _on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    invalid = [
        {
            "name": ".".join(str(part) for part in error.get("loc", ())[1:]) or "request",
            "reason": str(error.get("msg", "")),
            "value": str(error.get("input", "")),
        }
        for error in exc.errors()
    ]
    return problem_response(Problem(400, "Bad Request", "Invalid or missing parameter.", invalid_parameters=invalid))


async def _on_unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return problem_response(Problem(500, "Internal Server Error", "Something went wrong on our side."))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(Exception, _on_unexpected)
    _install_catalog_errors(app)


def _install_catalog_errors(app: FastAPI) -> None:
    """The catalog's domain errors, each mapped to one status (see catalog/errors.py)."""
    try:
        from cellportal.catalog import errors as catalog_errors
    except ImportError:  # the catalog service has not landed in this checkout
        return

    statuses = {
        "NotFound": 404,
        "Gone": 410,
        "Conflict": 409,
        "ImmutableVersion": 409,
        "InvalidState": 409,
        "InvalidInput": 400,
    }
    for name, status in statuses.items():
        error_class = getattr(catalog_errors, name, None)
        if error_class is None:
            continue

        async def handler(_request: Request, exc: Exception, status: int = status) -> JSONResponse:
            extensions: dict[str, Any] = {}
            if status == 410:
                extensions = {"reason": getattr(exc, "reason", None), "tombstoned_at": _tombstoned_at(exc)}
            if hasattr(exc, "problems"):
                extensions["problems"] = exc.problems
            return problem_response(Problem(status, None, str(exc), **extensions))

        app.add_exception_handler(error_class, handler)


def _tombstoned_at(exc: Exception) -> str | None:
    moment = getattr(exc, "tombstoned_at", None)
    return _iso(moment) if isinstance(moment, datetime) else None
