"""`cellportal users`: an operator creates the first admin, lists, promotes and resets, from the shell."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cellportal.auth import accounts
from cellportal.cli import _register, app
from cellportal.config import Settings
from cellportal.runtime import Runtime


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CELLPORTAL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CELLPORTAL_DATABASE_URL", raising=False)
    monkeypatch.delenv("CELLPORTAL_SETTINGS_FILE", raising=False)
    _register()
    return tmp_path / "data"


def _run(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), input=stdin)
    return result.exit_code, result.output


def test_create_the_first_admin_then_manage_users(data_dir: Path) -> None:
    code, out = _run("users", "create", "ada", "--admin", "--email", "ada@example.org", "--password-stdin",
                     stdin="a-long-password\n")  # fmt: skip
    assert code == 0, out
    assert "created admin user ada" in out

    code, out = _run("users", "create", "bob", "--generate-password")
    assert code == 0, out
    generated = out.split("password (shown once): ")[1].strip()

    code, out = _run("users", "list", "--json")
    rows = {row["username"]: row for row in json.loads(out)}
    assert rows["ada"]["admin"] is True and rows["bob"]["admin"] is False

    assert _run("users", "set-admin", "bob")[0] == 0
    assert _run("users", "disable", "ada")[0] == 0

    runtime = Runtime(Settings(data_dir=data_dir))
    try:
        with runtime.sessions() as session:
            assert accounts.authenticate(session, "bob", generated) is not None
            assert accounts.authenticate(session, "ada", "a-long-password") is None  # disabled
            bob = accounts.find_user(session, "bob")
            assert bob is not None and bob.is_admin
    finally:
        runtime.close()


def test_bad_input_is_a_clear_error(data_dir: Path) -> None:
    code, out = _run("users", "create", "x", "--password-stdin", stdin="a-long-password\n")
    assert code == 1 and "username is 2 to 64 characters" in out
    code, out = _run("users", "create", "carol", "--password-stdin", stdin="short\n")
    assert code == 1 and "at least 8 characters" in out
    code, out = _run("users", "reset-password", "nobody", "--generate-password")
    assert code == 1 and "no user is called" in out
