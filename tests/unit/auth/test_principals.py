"""Resolving the caller from a request's bearer token."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from starlette.requests import Request

from cellportal.api.errors import Problem
from cellportal.auth.policy import ANONYMOUS, Principal
from cellportal.auth.principals import StaticTokens, resolve_principal

ALICE = Principal(user_id="alice")


def request_with(authorization: str | None) -> Request:
    app = FastAPI()
    app.state.token_resolver = StaticTokens({"alice-token": ALICE})
    headers = [(b"authorization", authorization.encode())] if authorization is not None else []
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers, "app": app})


def test_no_header_is_anonymous() -> None:
    assert resolve_principal(request_with(None)) is ANONYMOUS


def test_known_bearer_token_gives_its_principal() -> None:
    assert resolve_principal(request_with("Bearer alice-token")) == ALICE
    assert resolve_principal(request_with("bearer   alice-token ")) == ALICE


@pytest.mark.parametrize("header", ["Bearer wrong", "Basic YWxpY2U6eA==", "Bearer", "alice-token"])
def test_unknown_or_malformed_tokens_are_401(header: str) -> None:
    with pytest.raises(Problem) as raised:
        resolve_principal(request_with(header))
    assert raised.value.status == 401


def test_admin_token_resolver() -> None:
    resolver = StaticTokens.admin("s3cret")

    assert resolver("s3cret") is not None and resolver("s3cret").is_admin  # type: ignore[union-attr]
    assert resolver("other") is None
    assert StaticTokens.admin(None)("anything") is None
