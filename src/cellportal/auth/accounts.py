"""Users, their web sessions and their API keys: the catalog-side operations behind the account pages and CLI.

Every function takes the caller's session and leaves committing to it (one request = one transaction).
Bad input raises `AccountError` with a message meant for the person who typed it.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from cellportal.auth.models import ApiKey, User, WebSession
from cellportal.auth.passwords import hash_password, needs_rehash, password_problem, verify_password
from cellportal.auth.secrets import digest, new_token

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
API_KEY_PREFIX = "cp_"
# Writing "last used" on every request would make every API call a write (SQLite: the write lock).
TOUCH_EVERY = timedelta(minutes=1)


class AccountError(ValueError):
    """A request about accounts that cannot be done as asked; the message says why and what to do."""


def _now() -> datetime:
    return datetime.now(UTC)


def normalize_username(username: str) -> str:
    return username.strip().lower()


def normalize_email(email: str | None) -> str | None:
    email = (email or "").strip().lower()
    return email or None


def find_user(session: Session, username_or_email: str) -> User | None:
    key = username_or_email.strip().lower()
    if not key:
        return None
    return session.scalars(select(User).where(or_(User.username == key, User.email == key))).first()


def create_user(
    session: Session,
    username: str,
    password: str | None,
    *,
    email: str | None = None,
    admin: bool = False,
) -> User:
    """A new account; `password` None makes one that signs in through OpenID Connect only."""
    name = normalize_username(username)
    if not USERNAME.match(name):
        raise AccountError(
            "A username is 2 to 64 characters: letters, digits, '.', '_' or '-', starting with a letter or digit."
        )
    address = normalize_email(email)
    if address is not None and not EMAIL.match(address):
        raise AccountError(f"'{address}' does not look like an e-mail address.")
    if password is not None and (problem := password_problem(password)):
        raise AccountError(problem)
    if session.scalar(select(func.count()).select_from(User).where(User.username == name)):
        raise AccountError(f"The username '{name}' is taken; choose another.")
    if address and session.scalar(select(func.count()).select_from(User).where(User.email == address)):
        raise AccountError(f"An account with the e-mail address {address} exists already; sign in instead.")
    user = User(
        username=name,
        email=address,
        password_hash=hash_password(password) if password is not None else None,
        is_admin=admin,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username_or_email: str, password: str) -> User | None:
    """The active user with these credentials, or None; the same work whether or not the user exists."""
    user = find_user(session, username_or_email)
    stored = user.password_hash if user is not None else None
    if not verify_password(stored, password) or user is None or not user.is_active:
        return None
    assert user.password_hash is not None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def set_password(session: Session, user: User, password: str) -> None:
    """Change the password and end every web session of the user (a stolen session dies with the old one)."""
    if problem := password_problem(password):
        raise AccountError(problem)
    user.password_hash = hash_password(password)
    end_all_sessions(session, user)


def reset_password(session: Session, user: User) -> str:
    """Give the user a random one-time password (shown once to the admin) and return it."""
    password = new_token(12)
    set_password(session, user, password)
    return password


def set_admin(user: User, admin: bool) -> None:
    user.is_admin = admin


def disable_user(session: Session, user: User) -> None:
    """Refuse the user's sign-ins, sessions and API keys from now on; their collections stay as they are."""
    if user.disabled_at is None:
        user.disabled_at = _now()
    end_all_sessions(session, user)


def enable_user(user: User) -> None:
    user.disabled_at = None


# --- web sessions -------------------------------------------------------------------------------------------


def start_session(session: Session, user: User, lifetime: timedelta) -> str:
    """A new signed-in session; returns the cookie value (only its digest is stored)."""
    token = new_token()
    now = _now()
    session.add(WebSession(token_sha256=digest(token), user_id=user.id, created_at=now, expires_at=now + lifetime))
    session.flush()
    return token


def end_session(session: Session, token: str) -> None:
    row = session.scalars(select(WebSession).where(WebSession.token_sha256 == digest(token))).first()
    if row is not None and row.revoked_at is None:
        row.revoked_at = _now()


def end_all_sessions(session: Session, user: User) -> None:
    now = _now()
    for row in session.scalars(
        select(WebSession).where(WebSession.user_id == user.id, WebSession.revoked_at.is_(None))
    ):
        row.revoked_at = now


def user_for_session(session: Session, token: str) -> User | None:
    """The active user of a live session cookie, or None (unknown, expired, revoked, user disabled)."""
    row = session.scalars(select(WebSession).where(WebSession.token_sha256 == digest(token))).first()
    now = _now()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    if now - row.last_seen_at > TOUCH_EVERY:
        row.last_seen_at = now
    return user


# --- API keys -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewApiKey:
    key: ApiKey
    token: str  # shown once: cp_<prefix>_<secret>


def create_api_key(session: Session, user: User, name: str) -> NewApiKey:
    name = name.strip()
    if not name or len(name) > 100:
        raise AccountError("Give the key a name of 1 to 100 characters (e.g. the script or machine that uses it).")
    prefix = new_token(6).replace("-", "x").replace("_", "y")[:8].lower()
    secret = new_token()
    key = ApiKey(user_id=user.id, name=name, prefix=prefix, secret_sha256=digest(secret))
    session.add(key)
    session.flush()
    return NewApiKey(key, f"{API_KEY_PREFIX}{prefix}_{secret}")


def api_keys_of(session: Session, user: User) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).where(ApiKey.user_id == user.id).order_by(ApiKey.created_at.desc())))


def revoke_api_key(session: Session, user: User, key_id: str) -> ApiKey:
    key = session.get(ApiKey, key_id)
    if key is None or key.user_id != user.id:
        raise AccountError("There is no such API key among yours.")
    if key.revoked_at is None:
        key.revoked_at = _now()
    return key


def looks_like_api_key(token: str) -> bool:
    return token.startswith(API_KEY_PREFIX)


def user_for_api_key(session: Session, token: str) -> User | None:
    """The active user of a live API key, or None."""
    prefix, _, secret = token.removeprefix(API_KEY_PREFIX).partition("_")
    if not prefix or not secret:
        return None
    key = session.scalars(select(ApiKey).where(ApiKey.prefix == prefix)).first()
    valid = key is not None and hmac.compare_digest(key.secret_sha256.encode(), digest(secret).encode())
    if key is None or not valid or key.revoked_at is not None:
        return None
    user = session.get(User, key.user_id)
    if user is None or not user.is_active:
        return None
    now = _now()
    if key.last_used_at is None or now - key.last_used_at > TOUCH_EVERY:
        key.last_used_at = now
    return user
