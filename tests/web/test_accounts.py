"""Accounts hold: passwords that are not guessable, a login throttle per account, sessions that
end at logout, and forms whose timing does not tell whether an account exists."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from backoffice.auth import AccountError, create_user
from backoffice.extensions import db, limiter
from tests.support import PASSWORD, csrf_from, login
from workflows.models import LoginSession, OutboxMessage, User


def register(client, email: str, password: str, name: str = ""):
    page = client.get("/register").text
    return client.post(
        "/register",
        data={
            "csrf_token": csrf_from(page),
            "email": email,
            "name": name,
            "password": password,
            "password_confirm": password,
        },
    )


@pytest.mark.parametrize(
    "password, reason",
    [
        ("aaaaaaaaaa", "trop facile à deviner"),
        ("password12", "trop facile à deviner"),
        ("azerty1234", "trop facile à deviner"),
        ("claire.dubois@exemple.fr", "votre adresse"),
        ("Dubois-Toulouse-1985", "votre nom"),
    ],
)
def test_registration_refuses_guessable_passwords_in_french(client, ctx, password, reason):
    response = register(client, "claire.dubois@exemple.fr", password, name="Claire Dubois")
    assert response.status_code == 200 and reason in response.text
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_a_passphrase_is_welcome(client, ctx):
    response = register(client, "claire.dubois@exemple.fr", "les briques roses du capitole")
    assert response.status_code == 302
    assert db.session.scalar(select(User.email)) == "claire.dubois@exemple.fr"


def test_staff_accounts_and_password_changes_follow_the_same_policy(client, people):
    with pytest.raises(AccountError, match="trop facile"):
        create_user("marc@cd31.fr", "mission", password="password12")
    with pytest.raises(AccountError, match="votre adresse"):
        create_user("marc.lenoir@cd31.fr", "mission", password="marc.lenoir@cd31.fr")
    login(client, people.agent)
    page = client.get("/change").text
    refused = client.post(
        "/change",
        data={
            "csrf_token": csrf_from(page),
            "password": PASSWORD,
            "new_password": people.agent.email,
            "new_password_confirm": people.agent.email,
        },
    )
    assert "votre adresse" in refused.text


@pytest.fixture
def strict_login_limit(app):
    app.config["LOGIN_FAILURE_LIMIT"] = "3 per minute"
    limiter.reset()
    yield
    app.config["LOGIN_FAILURE_LIMIT"] = "10000 per minute"
    limiter.reset()


def _login_from(client, address: str, email: str, password: str):
    page = client.get("/login", environ_base={"REMOTE_ADDR": address}).text
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_from(page)},
        environ_base={"REMOTE_ADDR": address},
    )


def test_failed_logins_are_throttled_per_account_from_any_address(
    app, client, people, strict_login_limit
):
    # Three wrong passwords, each from another address …
    for n in range(3):
        wrong = _login_from(client, f"198.51.100.{n}", people.mission.email, "pas le bon")
        assert wrong.status_code == 200
    # … and the account refuses even the right one for a while, in French.
    throttled = _login_from(client, "198.51.100.9", people.mission.email, PASSWORD)
    assert throttled.status_code == 429
    # Another account is not concerned.
    assert _login_from(client, "198.51.100.9", people.agent.email, PASSWORD).status_code == 302


def test_successful_logins_do_not_count(app, people, strict_login_limit):
    for _ in range(5):
        client = app.test_client()
        assert (
            _login_from(client, "198.51.100.1", people.mission.email, PASSWORD).status_code == 302
        )


def test_a_session_cookie_copied_before_logout_opens_nothing_after(app, client, people):
    login(client, people.mission)
    stolen = client.get_cookie("session").value
    assert client.get("/admin/").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/admin/").text)})

    replay = app.test_client()
    replay.set_cookie("session", stolen, domain="localhost")
    response = replay.get("/admin/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert db.session.scalar(select(LoginSession.ended_at)) is not None


def test_remember_me_opens_new_sessions_until_the_account_logs_out(app, client, people):
    page = client.get("/login").text
    client.post(
        "/login",
        data={
            "email": people.mission.email,
            "password": PASSWORD,
            "remember": "y",
            "csrf_token": csrf_from(page),
        },
    )
    remembered = client.get_cookie("remember_token").value

    # The browser restarted: only the remember cookie is left, and it opens a session.
    later = app.test_client()
    later.set_cookie("remember_token", remembered, domain="localhost")
    assert later.get("/admin/").status_code == 200

    client.post("/logout", data={"csrf_token": csrf_from(client.get("/admin/").text)})
    after = app.test_client()
    after.set_cookie("remember_token", remembered, domain="localhost")
    response = after.get("/admin/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_asking_for_a_confirmation_takes_as_long_whether_or_not_the_account_exists(
    app, client, ctx, smtp
):
    register(client, "pas.confirmee@exemple.fr", "les briques roses du capitole")
    db.session.query(OutboxMessage).delete()
    db.session.commit()
    app.config["ACCOUNT_FORM_FLOOR"] = 0.3
    try:
        timings = {}
        for email in ("pas.confirmee@exemple.fr", "inconnue@exemple.fr"):
            fresh = app.test_client()
            page = fresh.get("/confirm").text
            started = time.perf_counter()
            response = fresh.post("/confirm", data={"email": email, "csrf_token": csrf_from(page)})
            timings[email] = time.perf_counter() - started
            assert response.status_code in (200, 302)
    finally:
        app.config["ACCOUNT_FORM_FLOOR"] = 0
    # Only the unconfirmed account gets an email, but neither answer comes sooner than the
    # floor, which is longer than the work of either.
    assert [m.recipient.email for m in db.session.scalars(select(OutboxMessage))] == [
        "pas.confirmee@exemple.fr"
    ]
    assert min(timings.values()) >= 0.3
