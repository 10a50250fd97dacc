"""Sign in through the installation's OpenID Connect provider (authorization code flow, PKCE S256).

- ``GET /login/oidc?next=``: sends the browser to the provider's authorization endpoint with a fresh
  ``state``, ``nonce`` and PKCE verifier, kept meanwhile in the short-lived signed ``cp_oidc`` cookie.
- ``GET /login/oidc/callback``: checks ``state``, exchanges the code at the token endpoint, validates the ID
  token (signature against the provider's JWKS, ``iss``, ``aud``, ``exp``, ``nonce``), finds the user by
  (issuer, ``sub``) or creates one, and starts a web session exactly as the password login does.

Both answer 404 while OIDC is not configured. Every failure shows the login page with a sentence (400 when
starting again helps, 502 when the provider is at fault) and creates nothing. An SSO identity is never
linked to an existing account by e-mail: whoever controls an address at the provider would get that account.
The provider's metadata is fetched once per process; its keys again when a token names an unknown key.
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cellportal.api.deps import RuntimeDep, SessionDep
from cellportal.api.errors import not_found
from cellportal.auth import accounts
from cellportal.auth.cookies import CookiePolicy, sign, unsign
from cellportal.auth.models import User
from cellportal.config import Settings
from cellportal.runtime import Runtime
from cellportal.web.account.sessions import _login_context, _signed_in_response, safe_next
from cellportal.web.templating import templates


def _configured(runtime: RuntimeDep) -> None:
    if not runtime.settings.oidc_enabled:
        raise not_found("This page")


router = APIRouter(include_in_schema=False, dependencies=[Depends(_configured)])  # 404 without a provider
log = logging.getLogger(__name__)

CALLBACK_PATH = "/login/oidc/callback"
FLOW_COOKIE = "cp_oidc"
FLOW_COOKIE_PATH = "/login/oidc"  # sent to the start and the callback only
FLOW_SECONDS = 10 * 60  # time to sign in at the provider
HTTP_TIMEOUT = httpx.Timeout(10.0)
CLOCK_LEEWAY = 60  # seconds of clock difference tolerated on exp/iat
# Public-key algorithms only: with HS256 the "key" would be our own client secret, which the provider shares.
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
USERNAME_ROOM = 56  # leaves room for a "-<n>" suffix within the 64 characters of a username


class SignInFailed(Exception):
    """A sign-in that cannot finish; the message is shown to the person signing in."""

    def __init__(self, message: str, status: int = 400, *, detail: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail  # for the log: what exactly went wrong (not shown, it helps nobody at the browser)


# --- the provider --------------------------------------------------------------------------------------------


@dataclass
class Provider:
    """What discovery said about the provider, plus its signing keys once fetched."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    algorithms: list[str]
    token_auth_methods: list[str]
    keys: KeySet | None = field(default=None, repr=False)


_providers: dict[str, Provider] = {}
_providers_lock = threading.Lock()


def _unreachable(settings: Settings, detail: str) -> SignInFailed:
    return SignInFailed(
        f"The {settings.oidc_label} service could not be reached or answered wrongly; try again in a few "
        "minutes. If it keeps failing, tell the portal's operator.",
        502,
        detail=detail,
    )


def _get_json(settings: Settings, url: str) -> dict[str, Any]:
    try:
        response = httpx.get(url, timeout=HTTP_TIMEOUT, headers={"Accept": "application/json"})
        response.raise_for_status()
        payload = response.json()
    except (httpx.HTTPError, ValueError) as error:
        raise _unreachable(settings, f"GET {url}: {error}") from None
    if not isinstance(payload, dict):
        raise _unreachable(settings, f"GET {url}: not a JSON object")
    return payload


def provider_for(settings: Settings) -> Provider:
    """The configured provider's metadata: discovery runs once per process (a failed one is not kept)."""
    configured = settings.oidc_issuer or ""
    with _providers_lock:
        known = _providers.get(configured)
    if known is not None:
        return known
    metadata = _get_json(settings, configured.rstrip("/") + "/.well-known/openid-configuration")
    issuer = metadata.get("issuer")
    # OpenID Connect Discovery 1.0 §4.3: the metadata must name the issuer we asked (no one else's keys).
    if not isinstance(issuer, str) or issuer.rstrip("/") != configured.rstrip("/"):
        raise _unreachable(settings, f"discovery names issuer {issuer!r}, configured {configured!r}")
    try:
        provider = Provider(
            issuer=issuer,
            authorization_endpoint=str(metadata["authorization_endpoint"]),
            token_endpoint=str(metadata["token_endpoint"]),
            jwks_uri=str(metadata["jwks_uri"]),
            algorithms=[str(a) for a in metadata.get("id_token_signing_alg_values_supported") or ["RS256"]],
            token_auth_methods=[
                str(m) for m in metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
            ],
        )
    except KeyError as missing:
        raise _unreachable(settings, f"discovery lacks {missing}") from None
    with _providers_lock:
        return _providers.setdefault(configured, provider)


def _key_set(settings: Settings, provider: Provider, *, refresh: bool = False) -> KeySet:
    if provider.keys is None or refresh:
        document = _get_json(settings, provider.jwks_uri)
        try:
            provider.keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
        except (JoseError, ValueError, KeyError, TypeError) as error:
            raise _unreachable(settings, f"JWKS at {provider.jwks_uri}: {error}") from None
    return provider.keys


# --- the flow cookie: state, nonce, PKCE verifier and next, signed with the secret key ----------------------


@dataclass(frozen=True)
class Flow:
    state: str
    nonce: str
    verifier: str
    next: str
    expires: int


def seal_flow(secret_key: str, flow: Flow) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(flow.__dict__).encode()).decode().rstrip("=")
    return sign(secret_key, FLOW_COOKIE, payload)


def open_flow(secret_key: str, value: str | None, now: float | None = None) -> Flow | None:
    """The flow of a ``cp_oidc`` cookie, or None when it is missing, forged, malformed or expired."""
    payload = unsign(secret_key, FLOW_COOKIE, value)
    if payload is None:
        return None
    try:
        flow = Flow(**json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))
    except (ValueError, TypeError):
        return None
    return flow if flow.expires > (now if now is not None else time.time()) else None


def _flow_cookie(settings: Settings) -> dict[str, Any]:
    kwargs = CookiePolicy.for_public_url(settings.public_url).kwargs(max_age=FLOW_SECONDS)
    return {**kwargs, "path": FLOW_COOKIE_PATH}


def _forget_flow(response: Response, settings: Settings) -> None:
    """One flow, one callback: the cookie goes whatever the outcome, so a second use finds no state."""
    policy = CookiePolicy.for_public_url(settings.public_url)
    response.delete_cookie(FLOW_COOKIE, path=FLOW_COOKIE_PATH, secure=policy.secure, httponly=True, samesite="lax")


def redirect_uri(settings: Settings) -> str:
    """The URI to register at the provider."""
    return settings.public_url.rstrip("/") + CALLBACK_PATH


# --- routes -------------------------------------------------------------------------------------------------


@router.get("/login/oidc")
def start(request: Request, runtime: RuntimeDep, next: str | None = None) -> Response:
    settings = runtime.settings
    try:
        provider = provider_for(settings)
    except SignInFailed as failure:
        return _failure_page(request, runtime, next, failure)
    flow = Flow(
        state=generate_token(32),
        nonce=generate_token(32),
        verifier=generate_token(64),  # RFC 7636: 43 to 128 characters
        next=safe_next(next),
        expires=int(time.time()) + FLOW_SECONDS,
    )
    url = prepare_grant_uri(
        provider.authorization_endpoint,
        client_id=settings.oidc_client_id,
        response_type="code",
        redirect_uri=redirect_uri(settings),
        scope=settings.oidc_scopes,
        state=flow.state,
        nonce=flow.nonce,
        code_challenge=create_s256_code_challenge(flow.verifier),
        code_challenge_method="S256",
    )
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(FLOW_COOKIE, seal_flow(settings.secret_key, flow), **_flow_cookie(settings))
    return response


@router.get(CALLBACK_PATH, response_class=HTMLResponse)
def callback(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    state: str = "",
    code: str = "",
    error: str = "",
) -> Response:
    settings = runtime.settings
    flow = open_flow(settings.secret_key, request.cookies.get(FLOW_COOKIE))
    next_url = flow.next if flow is not None else None
    try:
        user = _finish(session, settings, flow, state=state, code=code, error=error)
    except SignInFailed as failure:
        response = _failure_page(request, runtime, next_url, failure)
    else:
        response = _signed_in_response(runtime, session, user, next_url)
    _forget_flow(response, settings)
    return response


def _failure_page(request: Request, runtime: Runtime, next_url: str | None, failure: SignInFailed) -> Response:
    log.warning("OpenID Connect sign-in failed (%s): %s", failure.status, failure.detail or failure)
    context = _login_context(runtime, next_url, error=str(failure))
    return templates.TemplateResponse(request, "account/login.html", context, status_code=failure.status)


# --- the callback's steps -----------------------------------------------------------------------------------


def _finish(session: Session, settings: Settings, flow: Flow | None, *, state: str, code: str, error: str) -> User:
    """Check, exchange, validate, then find or create the user. The catalog is touched only at the end, after
    the provider has answered: on SQLite a transaction holds the write lock."""
    label = settings.oidc_label
    if error:
        if error == "access_denied":
            raise SignInFailed(f"Sign-in with {label} was cancelled. Sign in again, or use your password.")
        raise SignInFailed(
            f"{label} did not sign you in. Try again; if it keeps failing, tell the portal's operator.",
            detail=f"provider error {error[:100]!r}",
        )
    if flow is None or not state or not hmac.compare_digest(state.encode(), flow.state.encode()):
        raise SignInFailed(
            "This sign-in expired or was started in another browser or tab. Start again from the sign-in page.",
            detail="state missing or different from the flow cookie's",
        )
    if not code:
        raise SignInFailed(f"{label} sent no sign-in code back. Start again.", detail="callback without code")
    provider = provider_for(settings)
    tokens = _exchange(settings, provider, code, flow.verifier)
    claims = _validate_id_token(settings, provider, tokens, flow.nonce)
    return _user_for(session, settings, provider.issuer, claims)


def _token_auth_method(settings: Settings, provider: Provider) -> str:
    if not settings.oidc_client_secret:
        return "none"  # a public client: PKCE alone binds the code to this browser's flow
    if "client_secret_basic" in provider.token_auth_methods:
        return "client_secret_basic"
    if "client_secret_post" in provider.token_auth_methods:
        return "client_secret_post"
    return "client_secret_basic"  # the default of RFC 6749; the provider says so if it disagrees


def _exchange(settings: Settings, provider: Provider, code: str, verifier: str) -> dict[str, Any]:
    body = prepare_token_request(
        "authorization_code", code=code, redirect_uri=redirect_uri(settings), code_verifier=verifier
    )
    headers = {"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"}
    auth = ClientAuth(settings.oidc_client_id, settings.oidc_client_secret, _token_auth_method(settings, provider))
    url, headers, body = auth.prepare("POST", provider.token_endpoint, headers, body)
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=HTTP_TIMEOUT)
        payload = response.json()
    except (httpx.HTTPError, ValueError) as error:
        raise _unreachable(settings, f"token endpoint: {error}") from None
    if not isinstance(payload, dict):
        raise _unreachable(settings, f"token endpoint answered {response.status_code} without a JSON object")
    if payload.get("error") == "invalid_grant":
        # A code is good once and for minutes: a reload of the callback, the back button or a slow return.
        raise SignInFailed(
            "This sign-in code was already used or has expired. Start again from the sign-in page.",
            detail=f"invalid_grant: {str(payload.get('error_description'))[:200]}",
        )
    if "error" in payload or response.status_code != 200:
        raise SignInFailed(
            f"{settings.oidc_label} refused to finish the sign-in. Tell the portal's operator (the portal's "
            "client registration may be wrong).",
            502,
            detail=f"token endpoint {response.status_code}: {str(payload.get('error'))[:100]}",
        )
    if not isinstance(payload.get("id_token"), str):
        raise _unreachable(settings, "token response without an id_token (is 'openid' among the scopes?)")
    return payload


def _validate_id_token(settings: Settings, provider: Provider, tokens: dict[str, Any], nonce: str) -> CodeIDToken:
    algorithms = [a for a in provider.algorithms if a in SIGNING_ALGORITHMS] or ["RS256"]
    registry = JWSRegistry(algorithms=algorithms, strict_check_header=False)  # providers add header fields
    try:
        try:
            token = jwt.decode(tokens["id_token"], _key_set(settings, provider), registry=registry)
        except InvalidKeyIdError:  # the provider rotated its keys since we fetched them
            token = jwt.decode(tokens["id_token"], _key_set(settings, provider, refresh=True), registry=registry)
        client_id = settings.oidc_client_id
        claims = CodeIDToken(
            token.claims,
            token.header,
            {"iss": {"essential": True, "value": provider.issuer}, "aud": {"essential": True, "value": client_id}},
            {"nonce": nonce, "client_id": client_id, "access_token": tokens.get("access_token")},
        )
        claims.validate(leeway=CLOCK_LEEWAY)  # also: sub/exp/iat present, exp not past, nonce, azp, at_hash
    except JoseError as error:
        raise SignInFailed(
            f"The answer from {settings.oidc_label} could not be verified, so you were not signed in. Start "
            "again; if it keeps failing, tell the portal's operator.",
            detail=f"ID token refused: {error}",
        ) from None
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise SignInFailed(
            f"{settings.oidc_label} did not say who you are. Tell the portal's operator.",
            502,
            detail=f"unusable sub {subject!r}",
        )
    return claims


def _user_for(session: Session, settings: Settings, issuer: str, claims: CodeIDToken) -> User:
    subject = claims["sub"]
    identity = select(User).where(User.oidc_issuer == issuer, User.oidc_subject == subject)
    user = session.scalars(identity).first()
    if user is None:
        try:
            with session.begin_nested():  # a savepoint: a lost race below must not spoil the request's transaction
                user = _create_user(session, issuer, subject, claims)
        except IntegrityError:
            # The same person signing in twice at once (two tabs), or another sign-up taking the name meanwhile.
            user = session.scalars(identity).first()
            if user is None:
                raise SignInFailed("Your account could not be created just now. Try again.") from None
    if not user.is_active:
        raise SignInFailed("This account is disabled. Ask an administrator of this portal.", 403)
    return user


def _create_user(session: Session, issuer: str, subject: str, claims: CodeIDToken) -> User:
    """A new SSO-only account (no password). The e-mail is kept only when the provider verified it and no other
    account has it; that other account is not linked (see the module docstring)."""
    email = accounts.normalize_email(claims.get("email") if isinstance(claims.get("email"), str) else None)
    verified = claims.get("email_verified") in (True, "true")  # some providers send the string
    taken = email and session.scalar(select(func.count()).select_from(User).where(User.email == email))
    keep_email = email if verified and email and accounts.EMAIL.match(email) and not taken else None
    username = _free_username(session, _username_base(claims))
    try:
        user = accounts.create_user(session, username, None, email=keep_email)
    except accounts.AccountError as error:  # the username and e-mail were checked: a race with another sign-up
        raise SignInFailed("Your account could not be created just now. Try again.", detail=str(error)) from None
    user.oidc_issuer = issuer
    user.oidc_subject = subject
    session.flush()
    return user


def _username_base(claims: CodeIDToken) -> str:
    email = claims.get("email")
    local_part = email.partition("@")[0] if isinstance(email, str) else None
    for candidate in (claims.get("preferred_username"), local_part):
        if not isinstance(candidate, str):
            continue
        name = re.sub(r"[^a-z0-9._-]+", "-", accounts.normalize_username(candidate)).strip("._-")
        name = name[:USERNAME_ROOM].strip("._-")
        if len(name) >= 2:
            return name
    return "user"


def _free_username(session: Session, base: str) -> str:
    """`base`, or `base-2`, `base-3`, ...: the first not taken (an SSO user never takes over a local name)."""

    def taken(name: str) -> bool:
        return bool(session.scalar(select(func.count()).select_from(User).where(User.username == name)))

    if not taken(base):
        return base
    for n in range(2, 1000):
        if not taken(candidate := f"{base}-{n}"):
            return candidate
    return f"{base}-{generate_token(6).lower()}"
