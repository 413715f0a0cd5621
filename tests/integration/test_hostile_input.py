"""Bad, forged and racing input: clear answers, never a 500, nothing half-written."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from backoffice.api.auth import issue_token
from backoffice.extensions import db
from tests.support import csrf_from
from workflows.clock import utcnow
from workflows.models import Demarche, Department, OutboxMessage, Role

from .test_backoffice import login


def bearer(user) -> dict:
    token = issue_token(user, utcnow())
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_a_forged_host_header_is_refused(client, people, smtp):
    page = client.get("/reset")
    response = client.post(
        "/reset",
        headers={"Host": "evil.example"},
        data={"email": people.agent.email, "csrf_token": csrf_from(page.text)},
    )
    assert response.status_code == 400
    assert smtp.received == []


def test_login_does_not_tell_whether_an_account_exists(client, people):
    page = client.get("/login").text

    def attempt(email):
        return client.post(
            "/login",
            data={"email": email, "password": "wrong password!", "csrf_token": csrf_from(page)},
        ).text

    unknown, known = attempt("nobody@cd31.fr"), attempt(people.agent.email)
    generic = "Échec de l&#39;authentification - identité ou mot de passe"
    assert generic in unknown and generic in known
    assert "n&#39;existe pas" not in unknown


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"title": "   "}, "titre manquant"),
        ({"title": "Budget", "budget": "-1"}, "montant en euros attendu"),
        (
            {
                "title": "Dates",
                "consultation_opens": "2027-05-01",
                "consultation_closes": "2027-04-01",
            },
            "la consultation doit se clore après son ouverture",
        ),
    ],
)
def test_form_errors_are_shown_in_french_not_500(client, people, fields, message):
    login(client, people.agent)
    form = client.get("/admin/demarche/new/").text
    response = client.post("/admin/demarche/new/", data={"csrf_token": csrf_from(form), **fields})
    assert response.status_code == 200
    assert message in response.text
    assert db.session.scalar(select(func.count(Demarche.id))) == 0


@pytest.mark.parametrize("budget", ["9999999999.999", "1e30", "NaN", "-0.01", True])
def test_impossible_budgets_are_422(client, people, budget):
    response = client.post(
        "/api/v1/demarches",
        headers=bearer(people.agent),
        json={"title": "Budget", "budget": budget},
    )
    assert response.status_code == 422, response.json


def test_dates_far_in_the_future_are_422(client, people, make_demarche):
    d = make_demarche("launch")
    response = client.patch(
        f"/api/v1/demarches/{d.id}",
        headers=bearer(people.mission),
        json={"consultation_opens": "9999-11-01", "consultation_closes": "9999-12-31"},
    )
    assert response.status_code == 422
    assert "date entre 2000 et 2100" in response.json["errors"]["consultation_opens"][0]
    assert (
        client.get(f"/api/v1/demarches/{d.id}", headers=bearer(people.mission)).status_code == 200
    )


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/demarches?stage=bogus",
        "/api/v1/demarches?page=4611686018427387904",
        "/api/v1/demarches?per_page=0",
    ],
)
def test_bad_list_parameters_are_422(client, people, url):
    assert client.get(url, headers=bearer(people.mission)).status_code == 422


@pytest.mark.parametrize("demarche_id", ["2147483648", "99999999999999999999", "0"])
def test_ids_out_of_range_are_404(client, people, demarche_id):
    headers = bearer(people.mission)
    assert client.get(f"/api/v1/demarches/{demarche_id}", headers=headers).status_code == 404
    assert (
        client.post(
            f"/api/v1/demarches/{demarche_id}/transitions", headers=headers, json={"to": "launch"}
        ).status_code
        == 404
    )
    login(client, people.mission)
    sheet = client.get(f"/admin/demarche/details/?id={demarche_id}")
    assert sheet.status_code == 302


def test_forged_filters_are_ignored(client, people, make_demarche):
    make_demarche("draft", title="Visible")
    login(client, people.mission)
    for query in ("flt0_0=bogus", "flt1_1=2147483648", "flt1_3=abc"):
        response = client.get(f"/admin/demarche/?{query}")
        assert response.status_code == 200 and "Visible" in response.text, query


def test_nul_characters_never_reach_the_database(client, people):
    headers = bearer(people.agent)
    assert client.get("/api/v1/demarches?territory=%00", headers=headers).status_code == 400
    response = client.post("/api/v1/demarches", headers=headers, json={"title": "a\u0000b"})
    assert response.status_code == 422
    official = client.post(
        "/api/v1/demarches",
        headers=headers,
        json={"title": "ok", "elected_official": "a\u0000@x.fr"},
    )
    assert official.status_code == 422
    login(client, people.agent)
    assert client.get("/admin/demarche/?search=%00").status_code == 400


def test_a_forged_seen_stage_is_422(client, people, make_demarche):
    d = make_demarche("submitted")
    login(client, people.mission)
    sheet = client.get(f"/admin/demarche/details/?id={d.id}").text
    response = client.post(
        "/admin/demarche/move/",
        data={"csrf_token": csrf_from(sheet), "id": d.id, "to": "launch", "from": "bogus"},
    )
    assert response.status_code == 422


def test_an_agent_who_also_sponsors_cannot_write_for_another_department(
    client, people, make_demarche
):
    """An official who is also an agent elsewhere only reads the démarches they sponsor."""
    people.other_agent.roles.append(db.session.scalar(select(Role).where(Role.name == "elected")))
    db.session.commit()
    d = make_demarche("draft", elected_official=people.other_agent)
    headers = bearer(people.other_agent)
    assert client.get(f"/api/v1/demarches/{d.id}", headers=headers).status_code == 200
    assert (
        client.patch(
            f"/api/v1/demarches/{d.id}", headers=headers, json={"title": "Réécrit"}
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/api/v1/demarches/{d.id}/transitions", headers=headers, json={"to": "submitted"}
        ).status_code
        == 403
    )


def test_the_same_title_created_at_once_gives_distinct_slugs(app, people):
    headers = bearer(people.agent)
    statuses: list[int] = []

    def create():
        with app.test_client() as c:
            statuses.append(
                c.post(
                    "/api/v1/demarches", headers=headers, json={"title": "Même titre"}
                ).status_code
            )

    threads = [threading.Thread(target=create) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [201] * 6
    slugs = db.session.scalars(select(Demarche.slug)).all()
    assert len(set(slugs)) == 6 and "meme-titre" in slugs


def test_the_admin_creates_a_department(client, people):
    login(client, people.admin)
    form = client.get("/admin/department/new/").text
    response = client.post(
        "/admin/department/new/",
        data={"csrf_token": csrf_from(form), "name": "Direction de la culture"},
    )
    assert response.status_code == 302
    assert db.session.scalar(select(Department).where(Department.name == "Direction de la culture"))
    again = client.post(
        "/admin/department/new/",
        data={"csrf_token": csrf_from(form), "name": "Direction de la culture"},
    )
    assert "Existe déjà." in again.text  # the unique name, checked by the form


def test_accounts_need_ascii_addresses_and_real_passwords(app, ctx):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "élodie@cd31.fr", "--role", "mission"])
    assert result.exit_code == 1 and "invalid email address" in result.output


def test_a_sending_bug_fails_the_message_without_stalling_the_batch(make_demarche):
    from workflows import outbox

    make_demarche("submitted")
    calls = []

    def send(message):
        calls.append(message.id)
        if len(calls) == 1:
            raise RuntimeError("template bug")
        return "<id@x>"

    ids = [m.id for m in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    assert outbox.deliver(db.session, ids, send=send) == {
        "sent": 2,
        "retry": 0,
        "failed": 1,
        "skipped": 0,
    }
    failed = db.session.scalar(select(OutboxMessage).where(OutboxMessage.status == "failed"))
    assert failed.error == "RuntimeError: template bug"
