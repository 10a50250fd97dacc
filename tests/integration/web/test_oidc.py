"""Sign-in through OpenID Connect (web/account/oidc.py) against a real provider of our own on 127.0.0.1.

The browser is played by hand: the portal's TestClient for the portal, plain httpx for the provider, and the
provider's redirect back is followed into the portal's callback, cookies and all.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from joserfc.jwk import RSAKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cellportal.app import create_app
from cellportal.auth import accounts
from cellportal.auth.cookies import SESSION_COOKIE, SHARE_COOKIE, sign
from cellportal.auth.models import User, WebSession
from cellportal.catalog.db import transaction
from cellportal.config import Settings
from cellportal.runtime import Runtime
from cellportal.web.account import oidc
from cellportal.web.account.oidc import FLOW_COOKIE, Flow, open_flow, seal_flow
from tests.conftest import free_port
from tests.fixtures.accounts import create_user
from tests.fixtures.oidc_provider import IdentityProvider, serve_provider, signing_key
from tests.integration.api.conftest import PUBLIC_URL

CLIENT_ID = "cellportal-test"
CLIENT_SECRET = "client-secret-1"
CALLBACK = f"{PUBLIC_URL}/login/oidc/callback"
LABEL = "Consortium ID"


@pytest.fixture(autouse=True)
def fresh_discovery(monkeypatch: pytest.MonkeyPatch) -> None:
    """oidc keeps each issuer's metadata and keys for the process; a provider of an earlier test on a reused
    port must not lend its cached settings (auth methods, keys) to this one."""
    monkeypatch.setattr(oidc, "_providers", {})


@pytest.fixture(scope="module")
def idp_key() -> RSAKey:
    return signing_key()


@pytest.fixture
def provider(idp_key: RSAKey) -> Iterator[IdentityProvider]:
    with serve_provider(idp_key, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uri=CALLBACK) as idp:
        yield idp


def _portal(runtime: Runtime, issuer: str) -> TestClient:
    settings = runtime.settings.model_copy(
        update={
            "oidc_issuer": issuer,
            "oidc_client_id": CLIENT_ID,
            "oidc_client_secret": CLIENT_SECRET,
            "oidc_label": LABEL,
        }
    )
    # https, as the public URL: the identity cookies are Secure there.
    return TestClient(create_app(Runtime(settings, _engine=runtime.engine)), base_url="https://testserver")


@pytest.fixture
def portal(runtime: Runtime, provider: IdentityProvider) -> Iterator[TestClient]:
    with _portal(runtime, provider.issuer) as client:
        yield client


def _local(url: str) -> str:
    assert url.startswith(PUBLIC_URL + "/"), url
    return url.removeprefix(PUBLIC_URL)


def start(portal: TestClient, next_url: str | None = "/account/api-keys") -> str:
    """Open /login/oidc; returns where the portal sends the browser (the provider)."""
    response = portal.get("/login/oidc", params={"next": next_url} if next_url else None, follow_redirects=False)
    assert response.status_code == 303, response.text[:300]
    return response.headers["location"]


def at_provider(authorize_url: str) -> str:
    """The provider's answer to the browser: the callback URL it redirects to (path and query)."""
    response = httpx.get(authorize_url, follow_redirects=False)
    assert response.status_code == 302, response.text[:300]
    return _local(response.headers["location"])


def sign_in(portal: TestClient, next_url: str | None = "/account/api-keys") -> httpx.Response:
    return portal.get(at_provider(start(portal, next_url)), follow_redirects=False)


def counts(runtime: Runtime) -> tuple[int, int]:
    """(users, web sessions) in the catalog."""
    with transaction(runtime.sessions) as session:
        users = session.scalar(select(func.count()).select_from(User))
        sessions = session.scalar(select(func.count()).select_from(WebSession))
        return int(users or 0), int(sessions or 0)


def sso_user(runtime: Runtime, issuer: str, subject: str = "subject-alice") -> dict[str, Any] | None:
    with transaction(runtime.sessions) as session:
        user = session.scalars(select(User).where(User.oidc_issuer == issuer, User.oidc_subject == subject)).first()
        if user is None:
            return None
        return {"id": user.id, "username": user.username, "email": user.email, "password_hash": user.password_hash}


def sets_session(response: httpx.Response) -> bool:
    return any(h.startswith(f"{SESSION_COOKIE}=") for h in response.headers.get_list("set-cookie"))


def alert(response: httpx.Response) -> str:
    """The sentence the login page shows."""
    marker = 'role="alert">'
    assert marker in response.text, response.text[:500]
    return html.unescape(response.text.split(marker, 1)[1].split("</p>", 1)[0])


# --- success -------------------------------------------------------------------------------------------------


def test_first_sign_in_creates_the_user_and_signs_in(
    runtime: Runtime, portal: TestClient, provider: IdentityProvider
) -> None:
    response = sign_in(portal, "/account/api-keys")

    assert response.status_code == 303
    assert response.headers["location"] == "/account/api-keys"
    assert sets_session(response)
    asked = provider.last_authorize
    assert asked["client_id"] == CLIENT_ID and asked["redirect_uri"] == CALLBACK
    assert asked["code_challenge_method"] == "S256" and asked["code_challenge"] and asked["nonce"]
    assert "openid" in asked["scope"].split()
    user = sso_user(runtime, provider.issuer)
    assert user is not None
    assert user["username"] == "alice" and user["email"] == "alice@uni.example"
    assert user["password_hash"] is None  # SSO only
    page = portal.get("/account/api-keys", follow_redirects=False)  # a page that needs a signed-in user
    assert page.status_code == 200
    assert "alice" in page.text
    assert FLOW_COOKIE not in portal.cookies  # one flow, one callback


def test_second_sign_in_finds_the_same_user(runtime: Runtime, portal: TestClient, provider: IdentityProvider) -> None:
    assert sign_in(portal).status_code == 303
    first = sso_user(runtime, provider.issuer)
    provider.claims = {**provider.claims, "preferred_username": "alice-renamed"}  # the same sub decides
    portal.cookies.clear()

    assert sign_in(portal).status_code == 303

    assert sso_user(runtime, provider.issuer) == first
    assert counts(runtime) == (1, 2)
    assert provider.hits["discovery"] == 1  # cached per process


def test_keys_rotated_at_the_provider_are_fetched_again(
    runtime: Runtime, portal: TestClient, provider: IdentityProvider
) -> None:
    assert sign_in(portal).status_code == 303
    provider.key = signing_key(kid="test-key-2")  # the JWKS now publishes only the new key, which signs
    portal.cookies.clear()

    assert sign_in(portal).status_code == 303  # the token names a kid we had not fetched
    assert provider.hits["jwks"] == 2


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_the_client_authenticates_as_the_provider_allows(
    runtime: Runtime, portal: TestClient, provider: IdentityProvider, method: str
) -> None:
    provider.auth_methods = [method]

    assert sign_in(portal).status_code == 303
    assert provider.auth_methods_used == [method]


def test_an_account_with_the_same_email_or_name_is_not_taken_over(
    runtime: Runtime, portal: TestClient, provider: IdentityProvider
) -> None:
    local = create_user(runtime, "alice", "password-1234", email="alice@uni.example")

    response = sign_in(portal)

    assert response.status_code == 303
    user = sso_user(runtime, provider.issuer)
    assert user is not None and user["id"] != local.id
    assert user["username"] == "alice-2"
    assert user["email"] is None  # the address belongs to the password account; nothing is linked
    page = portal.get("/account/api-keys", follow_redirects=False)
    assert "alice-2" in page.text


@pytest.mark.parametrize(
    ("claims", "username", "email"),
    [
        (
            {"preferred_username": "Ada Lovelace", "email": "ada@uni.example", "email_verified": False},
            "ada-lovelace",
            None,
        ),
        ({"email": "bob.smith@uni.example", "email_verified": True}, "bob.smith", "bob.smith@uni.example"),
        ({"preferred_username": "x", "email": "cy@uni.example", "email_verified": "true"}, "cy", "cy@uni.example"),
        ({}, "user", None),
    ],
)
def test_username_and_email_come_from_the_claims(
    runtime: Runtime,
    portal: TestClient,
    provider: IdentityProvider,
    claims: dict[str, Any],
    username: str,
    email: str | None,
) -> None:
    provider.claims = claims

    assert sign_in(portal).status_code == 303

    user = sso_user(runtime, provider.issuer)
    assert user is not None and (user["username"], user["email"]) == (username, email)


@pytest.mark.parametrize(
    ("next_url", "landing"),
    [
        ("/collections?page=2", "/collections?page=2"),
        ("//evil.example/phish", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        (None, "/"),
    ],
)
def test_next_is_kept_and_open_redirects_are_refused(portal: TestClient, next_url: str | None, landing: str) -> None:
    response = sign_in(portal, next_url)

    assert response.status_code == 303
    assert response.headers["location"] == landing


# --- refusals ------------------------------------------------------------------------------------------------


def _forge(provider: IdentityProvider, how: str) -> None:
    now = int(time.time())
    if how == "wrong nonce":
        provider.id_token_changes = {"nonce": "not-the-one-we-sent"}
    elif how == "wrong audience":
        provider.id_token_changes = {"aud": "another-client"}
    elif how == "wrong issuer":
        provider.id_token_changes = {"iss": "https://evil.example"}
    elif how == "expired":
        provider.id_token_changes = {"iat": now - 7200, "exp": now - 3600}
    elif how == "tampered":
        provider.tamper = True
    elif how == "unpublished key":
        provider.signing_key = signing_key(kid=provider.key.kid)  # same kid, another key
    else:
        raise AssertionError(how)


@pytest.mark.parametrize(
    "how", ["wrong nonce", "wrong audience", "wrong issuer", "expired", "tampered", "unpublished key"]
)
def test_an_id_token_that_does_not_verify_is_refused(
    runtime: Runtime, portal: TestClient, provider: IdentityProvider, how: str
) -> None:
    _forge(provider, how)

    response = sign_in(portal)

    assert response.status_code == 400
    assert "could not be verified" in alert(response)
    assert not sets_session(response)
    assert counts(runtime) == (0, 0)


def _forge_state(portal: TestClient, callback: str) -> str:
    return callback.replace("state=", "state=x")


def _drop_flow_cookie(portal: TestClient, callback: str) -> str:
    """Login CSRF: an attacker's own code, sent to a victim's browser that never started a sign-in."""
    portal.cookies.clear()
    return callback


@pytest.mark.parametrize("tamper", [_forge_state, _drop_flow_cookie], ids=["bad state", "no flow cookie"])
def test_a_callback_that_does_not_match_the_flow_is_refused(
    runtime: Runtime, portal: TestClient, tamper: Callable[[TestClient, str], str]
) -> None:
    callback = tamper(portal, at_provider(start(portal)))

    response = portal.get(callback, follow_redirects=False)

    assert response.status_code == 400
    assert "started in another browser" in alert(response)
    assert counts(runtime) == (0, 0)


def test_a_replayed_code_is_refused(runtime: Runtime, portal: TestClient) -> None:
    callback = at_provider(start(portal))
    flow_cookie = portal.cookies[FLOW_COOKIE]
    assert portal.get(callback, follow_redirects=False).status_code == 303
    assert counts(runtime) == (1, 1)

    reloaded = portal.get(callback, follow_redirects=False)  # the flow cookie is gone
    assert reloaded.status_code == 400
    portal.cookies.clear()
    portal.cookies.set(FLOW_COOKIE, flow_cookie)  # someone who captured both the URL and the cookie
    replayed = portal.get(callback, follow_redirects=False)

    assert replayed.status_code == 400
    assert "already used" in alert(replayed)
    assert not sets_session(replayed)
    assert counts(runtime) == (1, 1)


def test_cancelling_at_the_provider_shows_a_sentence(
    runtime: Runtime, portal: TestClient, provider: IdentityProvider
) -> None:
    provider.deny = True

    response = sign_in(portal)

    assert response.status_code == 400
    assert f"Sign-in with {LABEL} was cancelled" in alert(response)
    assert counts(runtime) == (0, 0)


def test_a_disabled_user_is_refused(runtime: Runtime, portal: TestClient, provider: IdentityProvider) -> None:
    assert sign_in(portal).status_code == 303
    with transaction(runtime.sessions) as session:
        user = session.scalars(select(User).where(User.oidc_subject == provider.subject)).one()
        accounts.disable_user(session, user)
    portal.cookies.clear()

    response = sign_in(portal)

    assert response.status_code == 403
    assert "disabled" in alert(response)
    assert not sets_session(response)
    assert counts(runtime) == (1, 1)


def test_losing_a_race_to_create_the_user_is_a_sentence_not_a_500(
    runtime: Runtime, portal: TestClient, provider: IdentityProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two first sign-ins of one person at once: the slower insert breaks the (issuer, sub) uniqueness."""
    create = oidc._create_user

    def twice(session: Session, issuer: str, subject: str, claims: Any) -> User:
        create(session, issuer, subject, claims)
        return create(session, issuer, subject, {**claims, "preferred_username": "alice-again", "email": None})

    monkeypatch.setattr(oidc, "_create_user", twice)

    response = sign_in(portal)

    assert response.status_code == 400
    assert "Try again" in alert(response)
    assert counts(runtime) == (0, 0)  # the savepoint took both inserts back


def test_a_wrong_client_secret_is_the_operators_problem(
    runtime: Runtime, portal: TestClient, provider: IdentityProvider
) -> None:
    provider.client_secret = "rotated-at-the-provider"

    response = sign_in(portal)

    assert response.status_code == 502
    assert "Tell the portal's operator" in alert(response)
    assert counts(runtime) == (0, 0)


def test_a_provider_that_is_down_gets_a_sentence(runtime: Runtime) -> None:
    with _portal(runtime, f"http://127.0.0.1:{free_port()}") as portal:  # nothing listens there
        response = portal.get("/login/oidc", params={"next": "/datasets"}, follow_redirects=False)

    assert response.status_code == 502
    assert "could not be reached" in alert(response)
    assert 'value="/datasets"' in response.text  # the password form keeps the destination


def test_a_provider_that_goes_away_mid_sign_in_gets_a_sentence(runtime: Runtime, idp_key: RSAKey) -> None:
    with ExitStack() as provider_running:
        idp = provider_running.enter_context(
            serve_provider(idp_key, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uri=CALLBACK)
        )
        with _portal(runtime, idp.issuer) as portal:
            callback = at_provider(start(portal))
            provider_running.close()  # the provider goes away between the authorization and the callback
            response = portal.get(callback, follow_redirects=False)

    assert response.status_code == 502
    assert "could not be reached" in alert(response)
    assert counts(runtime) == (0, 0)


# --- configured or not ---------------------------------------------------------------------------------------


def test_without_a_provider_the_routes_do_not_exist_and_the_button_is_hidden(client: TestClient) -> None:
    assert client.get("/login/oidc", follow_redirects=False).status_code == 404
    assert client.get("/login/oidc/callback?code=x&state=y", follow_redirects=False).status_code == 404
    assert "/login/oidc" not in client.get("/login").text


def test_with_a_provider_the_login_page_shows_the_button(portal: TestClient) -> None:
    page = portal.get("/login?next=/datasets")

    assert f"Sign in with {LABEL}" in page.text
    assert "/login/oidc?next=/datasets" in page.text or "/login/oidc?next=%2Fdatasets" in page.text


def test_half_a_configuration_is_refused_at_startup() -> None:
    with pytest.raises(ValueError, match="OIDC_CLIENT_ID"):
        Settings(oidc_issuer="https://id.example.org")
    with pytest.raises(ValueError, match="openid"):
        Settings(oidc_issuer="https://id.example.org", oidc_client_id="portal", oidc_scopes="email")


# --- the flow cookie -----------------------------------------------------------------------------------------


def test_the_flow_cookie_is_signed_and_expires() -> None:
    flow = Flow(state="s", nonce="n", verifier="v" * 43, next="/", expires=1_000)
    sealed = seal_flow("secret", flow)

    assert open_flow("secret", sealed, now=999) == flow
    assert open_flow("secret", sealed, now=1_000) is None  # expired
    assert open_flow("another-secret", sealed, now=999) is None
    payload, _, mac = sealed.partition("~")
    assert open_flow("secret", f"{payload[:-2]}xx~{mac}", now=999) is None
    assert open_flow("secret", sign("secret", SHARE_COOKIE, payload), now=999) is None  # another cookie's signature
    assert open_flow("secret", "garbage", now=999) is None
    assert open_flow("secret", None) is None
