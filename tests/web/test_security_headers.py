"""Security headers and cookie flags on every kind of page (Flask-Talisman)."""

from __future__ import annotations

import re
from datetime import timedelta
from email.utils import parsedate_to_datetime

import pytest
from bs4 import BeautifulSoup

from backoffice import create_app
from tests.support import csrf_from, login
from workflows.clock import utcnow


def _policy(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    return {
        name: value.strip()
        for name, _, value in (part.strip().partition(" ") for part in header.split(";"))
    }


def assert_protected(response) -> None:
    policy = _policy(response)
    assert policy["default-src"] == "'self'"
    assert re.fullmatch(r"'self' 'nonce-[\w-]+'", policy["script-src"]), policy["script-src"]
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert policy["form-action"] == "'self'" and policy["base-uri"] == "'self'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "camera=()" in response.headers["Permissions-Policy"]


def assert_scripts_satisfy_the_policy(response) -> None:
    """Every inline script carries this response's nonce; no inline event handler."""
    nonce = _policy(response)["script-src"].split("'nonce-")[1].rstrip("'")
    soup = BeautifulSoup(response.text, "html.parser")
    for script in soup.find_all("script"):
        if not script.get("src"):
            assert script.get("nonce") == nonce, script
    handlers = [
        (tag.name, name)
        for tag in soup.find_all(True)
        for name in tag.attrs
        if name.lower().startswith("on")
    ]
    assert not handlers, handlers


def test_public_pages_and_the_api_carry_the_headers(client, make_demarche):
    d = make_demarche("consultation")
    for url in ("/", f"/demarches/{d.slug}", "/login", "/register", "/charte"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_protected(response)
        assert_scripts_satisfy_the_policy(response)
    api = client.get("/api/v1/demarches")
    assert api.status_code == 401
    assert api.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("role", ["mission", "agent", "admin"])
def test_back_office_pages_satisfy_the_policy(client, people, make_demarche, role):
    d = make_demarche("consultation")
    make_demarche("submitted")
    login(client, getattr(people, role))
    urls = [
        "/admin/",
        "/admin/demarche/",
        f"/admin/demarche/details/?id={d.id}",
        "/admin/item/",
        "/admin/contribution/",
        "/admin/event/",
        "/admin/deadline/",
    ]
    if role == "mission":
        urls += [f"/admin/demarche/edit/?id={d.id}", "/admin/mailing/", "/admin/charter/"]
    if role == "admin":
        urls += ["/admin/user/", "/admin/department/"]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_protected(response)
        assert_scripts_satisfy_the_policy(response)


def test_a_page_served_over_https_asks_browsers_to_stay_on_https(app_config):
    app = create_app({**app_config, "BASE_URL": "https://dialogue.test", "PROXY_COUNT": 1})
    client = app.test_client()
    plain = client.get("/login", base_url="http://dialogue.test")
    assert "Strict-Transport-Security" not in plain.headers
    # Behind the trusted reverse proxy, which terminates TLS.
    proxied = client.get(
        "/login", base_url="http://dialogue.test", headers={"X-Forwarded-Proto": "https"}
    )
    assert re.fullmatch(r"max-age=\d{8,}", proxied.headers["Strict-Transport-Security"])


def test_without_a_trusted_proxy_forwarded_headers_are_ignored(app_config):
    app = create_app({**app_config, "BASE_URL": "https://dialogue.test", "PROXY_COUNT": 0})

    @app.get("/_whoami")
    def whoami():
        from flask import request

        return f"{request.remote_addr} {request.scheme}"

    client = app.test_client()
    headers = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    assert client.get("/_whoami", base_url="http://dialogue.test", headers=headers).text == (
        "127.0.0.1 http"
    )
    behind = create_app({**app_config, "BASE_URL": "https://dialogue.test", "PROXY_COUNT": 1})
    behind.add_url_rule("/_whoami", view_func=whoami)
    assert behind.test_client().get(
        "/_whoami", base_url="http://dialogue.test", headers=headers
    ).text == ("203.0.113.9 https")


def _remember_cookie(client, user) -> str:
    page = client.get("/login")
    response = client.post(
        "/login",
        data={
            "email": user.email,
            "password": "correct horse battery staple",
            "remember": "y",
            "csrf_token": csrf_from(page.text),
        },
    )
    assert response.status_code == 302
    cookies = response.headers.getlist("Set-Cookie")
    return next(c for c in cookies if c.startswith("remember_token="))


def test_the_remember_me_cookie_lasts_two_weeks_and_stays_on_this_site(client, people):
    cookie = _remember_cookie(client, people.mission)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # BASE_URL is http in the tests
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", cookie).group(1))
    assert abs(expires - utcnow() - timedelta(days=14)) < timedelta(minutes=5)


def test_on_https_every_cookie_is_secure(app_config, people):
    app = create_app({**app_config, "BASE_URL": "https://dialogue.test"})
    client = app.test_client()
    with app.app_context():
        cookie = _remember_cookie(client, people.mission)
    assert "Secure" in cookie
    session = client.get_cookie("session")
    assert session is not None and session.secure
