"""Signing up, in and out through the real forms; sessions are server-side and revocable."""

from __future__ import annotations

from fastapi.testclient import TestClient

from cellportal.auth.cookies import SESSION_COOKIE
from cellportal.runtime import Runtime
from tests.fixtures.accounts import create_user, csrf_token, form_post, signed_in


def test_sign_up_signs_in_and_the_header_says_who(client: TestClient) -> None:
    response = form_post(
        client,
        "/signup",
        {"username": "Alice", "email": "alice@example.org", "password": "s3cret-pass", "password_again": "s3cret-pass"},
        page="/signup",
    )
    assert response.status_code == 303 and response.headers["location"] == "/"

    home = client.get("/")
    assert 'data-testid="signed-in-as">alice<' in home.text  # usernames are case-insensitive, kept lower-case


def test_sign_up_errors_are_clear_and_keep_what_was_typed(client: TestClient, runtime: Runtime) -> None:
    create_user(runtime, "bob")
    taken = form_post(
        client,
        "/signup",
        {"username": "bob", "email": "b@example.org", "password": "long-enough", "password_again": "long-enough"},
        page="/signup",
    )
    assert taken.status_code == 400 and "The username &#39;bob&#39; is taken" in taken.text
    assert 'value="b@example.org"' in taken.text
    short = form_post(
        client, "/signup", {"username": "carol", "password": "short", "password_again": "short"}, page="/signup"
    )
    assert short.status_code == 400 and "at least 8 characters" in short.text
    differ = form_post(
        client,
        "/signup",
        {"username": "carol", "password": "long-enough", "password_again": "long-enougH"},
        page="/signup",
    )
    assert differ.status_code == 400 and "passwords differ" in differ.text


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(client: TestClient, runtime: Runtime) -> None:
    create_user(runtime, "alice", "right-password")
    for username, password in [("alice", "wrong-password"), ("nobody", "right-password")]:
        response = form_post(client, "/login", {"username": username, "password": password})
        assert response.status_code == 400
        assert "Wrong username or password." in response.text
        assert SESSION_COOKIE not in client.cookies


def test_guessing_one_accounts_password_is_stopped_whatever_the_names_case(
    client: TestClient, runtime: Runtime
) -> None:
    create_user(runtime, "alice", "right-password")
    for attempt in range(10):  # FailureThrottle's limit
        spelled = ["alice", "Alice", " ALICE "][attempt % 3]
        assert form_post(client, "/login", {"username": spelled, "password": "wrong"}).status_code == 400
    stopped = form_post(client, "/login", {"username": "alice", "password": "right-password"})
    assert stopped.status_code == 429 and "Too many failed attempts" in stopped.text
    assert SESSION_COOKIE not in client.cookies
    create_user(runtime, "bob", "bobs-password")  # another account from the same address is not locked out
    assert form_post(client, "/login", {"username": "bob", "password": "bobs-password"}).status_code == 303


def test_login_goes_back_to_next_but_never_off_site(client: TestClient, runtime: Runtime) -> None:
    create_user(runtime, "alice", "right-password")
    local = form_post(client, "/login", {"username": "alice", "password": "right-password", "next": "/docs"})
    assert local.headers["location"] == "/docs"
    client.cookies.clear()
    evil = form_post(
        client, "/login", {"username": "alice", "password": "right-password", "next": "//evil.example.org/"}
    )
    assert evil.headers["location"] == "/"


def test_a_form_post_without_the_csrf_token_is_refused(client: TestClient, runtime: Runtime) -> None:
    create_user(runtime, "alice", "right-password")
    csrf_token(client)  # the browser has the cookie, but the forged form cannot know its value
    forged = client.post("/login", data={"username": "alice", "password": "right-password"}, follow_redirects=False)
    assert forged.status_code == 403
    wrong = client.post(
        "/login",
        data={"username": "alice", "password": "right-password", "csrf_token": "x" * 43},
        follow_redirects=False,
    )
    assert wrong.status_code == 403


def test_cookies_are_httponly_samesite_and_secure_over_https(client: TestClient, runtime: Runtime) -> None:
    create_user(runtime, "alice", "right-password")
    response = form_post(client, "/login", {"username": "alice", "password": "right-password"})
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax") and "Secure" in cookie


def test_sign_out_ends_the_session_on_the_server(client: TestClient, runtime: Runtime) -> None:
    create_user(runtime, "alice")
    signed_in(client, "alice")
    token = client.cookies[SESSION_COOKIE]
    assert "signed-in-as" in client.get("/").text

    response = form_post(client, "/logout", {}, page="/")
    assert response.status_code == 303

    # Replaying the old cookie does not sign anyone in: the session row is revoked.
    client.cookies.set(SESSION_COOKIE, token)
    assert "signed-in-as" not in client.get("/").text
