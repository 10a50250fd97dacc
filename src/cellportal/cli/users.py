"""`cellportal users`: manage accounts from the server, e.g. the first admin: ``cellportal users create ada --admin``.

Passwords are prompted for (hidden, twice), read from stdin with ``--password-stdin`` (scripts), or
generated and printed once with ``--generate-password``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer
from sqlalchemy.orm import Session

from cellportal.cli import app
from cellportal.cli._context import configure_logging, open_runtime
from cellportal.cli._tables import show

if TYPE_CHECKING:
    from cellportal.auth.models import User

users_app = typer.Typer(no_args_is_help=True, help="Create and manage user accounts.")
app.add_typer(users_app, name="users")


@contextmanager
def _catalog() -> Iterator[Session]:
    from cellportal.catalog.db import transaction

    configure_logging()
    runtime = open_runtime()
    try:
        with transaction(runtime.sessions) as session:
            yield session
    finally:
        runtime.close()


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def _password(password_stdin: bool, generate: bool) -> tuple[str, bool]:
    """(password, generated)."""
    from cellportal.auth.secrets import new_token

    if password_stdin and generate:
        raise _fail("use either --password-stdin or --generate-password, not both")
    if generate:
        return new_token(12), True
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n"), False
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True), False


def _user(session: Session, username: str) -> User:
    from cellportal.auth.accounts import find_user

    user = find_user(session, username)
    if user is None:
        raise _fail(f"no user is called or registered as '{username}' (see `cellportal users list`)")
    return user


@users_app.command("create")
def create(
    username: str = typer.Argument(..., help="Login name: 2-64 letters, digits, '.', '_' or '-'."),
    email: str | None = typer.Option(None, "--email", help="E-mail address (optional; also signs in)."),
    admin: bool = typer.Option(False, "--admin", help="Give the account every right (manage users, all data)."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin."),
    generate: bool = typer.Option(False, "--generate-password", help="Make up a password and print it once."),
) -> None:
    """Create an account."""
    from cellportal.auth.accounts import AccountError, create_user

    password, generated = _password(password_stdin, generate)
    with _catalog() as session:
        try:
            user = create_user(session, username, password, email=email, admin=admin)
        except AccountError as error:
            raise _fail(str(error)) from None
        typer.echo(f"created {'admin ' if user.is_admin else ''}user {user.username} ({user.id})")
    if generated:
        typer.echo(f"password (shown once): {password}")


@users_app.command("list")
def list_users(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")) -> None:
    """List every account."""
    from sqlalchemy import select

    from cellportal.auth.models import User

    with _catalog() as session:
        rows = [
            {
                "id": user.id,
                "username": user.username,
                "email": user.email,
                "admin": user.is_admin,
                "status": "disabled" if user.disabled_at else "active",
                "created_at": user.created_at.isoformat(timespec="seconds"),
            }
            for user in session.scalars(select(User).order_by(User.username))
        ]
    show(rows, ["username", "email", "admin", "status", "created_at", "id"], title="Users", as_json=as_json)


@users_app.command("set-admin")
def set_admin(
    username: str = typer.Argument(..., help="Username or e-mail."),
    off: bool = typer.Option(False, "--off", help="Take the admin role away instead."),
) -> None:
    """Make a user an admin (or, with --off, an ordinary user)."""
    from cellportal.auth.accounts import set_admin as set_admin_flag

    with _catalog() as session:
        user = _user(session, username)
        set_admin_flag(user, not off)
        typer.echo(f"{user.username} is {'no longer ' if off else ''}an admin")


@users_app.command("reset-password")
def reset_password(
    username: str = typer.Argument(..., help="Username or e-mail."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the new password from stdin."),
    generate: bool = typer.Option(False, "--generate-password", help="Make up a password and print it once."),
) -> None:
    """Set a new password (and sign the user out everywhere)."""
    from cellportal.auth.accounts import AccountError, set_password

    password, generated = _password(password_stdin, generate)
    with _catalog() as session:
        user = _user(session, username)
        try:
            set_password(session, user, password)
        except AccountError as error:
            raise _fail(str(error)) from None
        typer.echo(f"password of {user.username} changed; their web sessions were ended")
    if generated:
        typer.echo(f"password (shown once): {password}")


@users_app.command("disable")
def disable(
    username: str = typer.Argument(..., help="Username or e-mail."),
    enable: bool = typer.Option(False, "--enable", help="Enable the account again instead."),
) -> None:
    """Refuse a user's sign-ins, sessions and API keys (their collections stay)."""
    from cellportal.auth.accounts import disable_user, enable_user

    with _catalog() as session:
        user = _user(session, username)
        if enable:
            enable_user(user)
        else:
            disable_user(session, user)
        typer.echo(f"{user.username} is {'enabled' if enable else 'disabled'}")
