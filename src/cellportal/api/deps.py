"""Request-scoped plumbing shared by the routers: one request = one transaction, and the runtime."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from cellportal.auth.policy import Principal
from cellportal.auth.principals import resolve_principal
from cellportal.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def db_session(request: Request) -> Iterator[Session]:
    """Commit when the route returns, roll back when it raises (the error propagates into this generator)."""
    runtime = get_runtime(request)
    with runtime.sessions() as session, session.begin():
        yield session


# scope="function": the transaction ends when the route function returns, *before* the response is sent.
# With the default scope it would stay open while a multi-GB download streams, and on SQLite every
# transaction holds the write lock (BEGIN IMMEDIATE): the worker could not write for the whole download.
# It also means a failed commit is an error response, never a 200 for work that was rolled back.
SessionDep = Annotated[Session, Depends(db_session, scope="function")]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
PrincipalDep = Annotated[Principal, Depends(resolve_principal)]
