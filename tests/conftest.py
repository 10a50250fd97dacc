"""Shared test plumbing: optional services are skipped with a visible reason, except under CI=true."""

from __future__ import annotations

import os
import shutil
import socket

import pytest

pytest_plugins = ["tests.fixtures.database", "tests.fixtures.storage"]

IN_CI = os.environ.get("CI", "").lower() == "true"


def require(available: bool, what: str) -> None:
    """Skip the calling test when `what` is missing; under CI a missing service is a failure."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true but is not available", pytrace=False)
    pytest.skip(f"{what} is not available on this machine")


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def r_available() -> bool:
    return shutil.which("Rscript") is not None


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium")
    require(path is not None, "Debian's Chromium (apt-get install chromium)")
    assert path is not None
    return path
