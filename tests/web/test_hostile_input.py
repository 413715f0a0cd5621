"""Bad, forged and racing input: clear answers, never a 500, nothing half-written."""

from __future__ import annotations

import re
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
    generic = "Adresse électronique ou mot de passe incorrect."
    assert generic in unknown and generic in known
    assert "Aucun compte" not in unknown and "Mot de passe incorrect" not in known


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
    login(client, people.mission)  # the mission's form has every field (agents: the guided one)
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
    assert response.status_code == 400
    assert response.json["errors"] == {"title": ["caractère NUL refusé"]}
    official = client.post(
        "/api/v1/demarches",
        headers=headers,
        json={"title": "ok", "elected_official": "a\u0000@x.fr"},
    )
    assert official.status_code == 400
    assert db.session.scalar(select(func.count(Demarche.id))) == 0
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


# -- The edges of the API and the pages (issue 10): JSON bodies, ids, pages, messages --------

#: Every route of the API that reads a JSON body, with a text field of its body. The body is
#: read before the route runs, so the ids need not name real rows.
JSON_ROUTES = [
    ("post", "/api/v1/demarches", "title"),
    ("patch", "/api/v1/demarches/1", "objectives"),
    ("post", "/api/v1/demarches/1/transitions", "comment"),
    ("post", "/api/v1/demarches/1/items", "title"),
    ("post", "/api/v1/demarches/1/contributions", "body"),
    ("put", "/api/v1/demarches/1/items/1/decision", "justification"),
    ("post", "/api/v1/deadlines/1/waive", "reason"),
    ("post", "/api/v1/questions/1/answer", "answer"),
    ("post", "/api/v1/mailings", "subject"),
    ("patch", "/api/v1/mailings/1", "body"),
    ("post", "/api/v1/mailings/1/send", "scheduled_at"),
]


def raw_json(client, method, url, headers, text: str):
    return getattr(client, method)(
        url, headers=headers, data=text.encode(), content_type="application/json"
    )


@pytest.mark.parametrize(("method", "url", "field"), JSON_ROUTES)
def test_lone_surrogates_in_json_are_refused_in_french(client, people, method, url, field):
    """``"\\ud800"`` is valid JSON but not valid Unicode: PostgreSQL (and SQLite) could not
    store it — a 500. Refused before any route sees it, naming the field."""
    response = raw_json(
        client, method, url, bearer(people.mission), f'{{"{field}": "Caf\\u00e9 \\ud800 ?"}}'
    )
    assert response.status_code == 400, response.json
    assert response.json["errors"] == {
        field: ["texte Unicode invalide (demi-paire de substitution isolée)"]
    }
    assert response.json["message"] == "Requête invalide"
    assert db.session.scalar(select(func.count(Demarche.id))) == 0


def test_a_valid_surrogate_pair_is_an_ordinary_character(client, people):
    response = raw_json(
        client,
        "post",
        "/api/v1/demarches",
        bearer(people.agent),
        '{"title": "V\\u00e9lo \\ud83d\\udeb2"}',
    )
    assert response.status_code == 201 and response.json["title"] == "Vélo 🚲"


@pytest.mark.parametrize("depth", [33, 100_000])
def test_deeply_nested_json_is_refused_before_it_is_parsed_too_far(client, people, depth):
    """100,000 nested lists were a RecursionError (500); the cap is 32 levels."""
    body = '{"title": ' + "[" * depth + "]" * depth + "}"
    response = raw_json(client, "post", "/api/v1/demarches", bearer(people.agent), body)
    assert response.status_code == 400
    assert response.json["errors"] == {"json": ["corps JSON imbriqué sur plus de 32 niveaux"]}


def test_json_read_by_flask_itself_is_checked_the_same_way(app):
    """Flask-Security's JSON forms read ``request.get_json()``: the same refusals (400)."""
    from werkzeug.exceptions import BadRequest

    for body in ('{"email": "\\ud800@x.fr"}', '{"email": "a\\u0000"}', "[" * 5000 + "]" * 5000):
        with app.test_request_context(
            "/login", method="POST", data=body, content_type="application/json"
        ):
            from flask import request

            with pytest.raises(BadRequest):
                request.get_json()


def test_a_body_that_does_not_parse_is_told_in_french(client, people):
    response = raw_json(client, "post", "/api/v1/demarches", bearer(people.agent), '{"title": ')
    assert response.status_code == 400
    assert response.json["errors"] == {"json": ["Corps JSON illisible."]}


def test_unknown_fields_are_counted_and_only_the_first_20_named(client, people):
    """500,000 unknown keys were answered with a 14 MB error naming each one."""
    body = {"title": "Budget participatif", **{f"champ{n}": 1 for n in range(500_000)}}
    response = client.post("/api/v1/demarches", headers=bearer(people.agent), json=body)
    assert response.status_code == 422
    assert len(response.data) < 5_000
    errors = response.json["errors"]
    assert len(errors) == 20
    assert all(value == ["Champ inconnu."] for value in errors.values())
    message = response.json["message"].replace("\u202f", " ")
    assert message == "500 000 champs inconnus (les 20 premiers sont listés)."
    assert db.session.scalar(select(func.count(Demarche.id))) == 0


def test_few_unknown_fields_are_all_named(client, people):
    body = {"title": "Budget participatif", "couleur": 1, "taille": 2}
    response = client.post("/api/v1/demarches", headers=bearer(people.agent), json=body)
    assert response.status_code == 422
    assert response.json == {
        "code": 422,
        "status": "Données invalides",
        "message": "Certains champs sont invalides.",
        "errors": {"couleur": ["Champ inconnu."], "taille": ["Champ inconnu."]},
    }


def _id_rules(app):
    """Every URL rule with an id in its path, and the methods it answers."""
    from backoffice.params import IdConverter

    for rule in app.url_map.iter_rules():
        ids = [name for name, conv in rule._converters.items() if isinstance(conv, IdConverter)]
        if ids:
            yield rule, ids, sorted(rule.methods - {"HEAD", "OPTIONS"})


def test_every_route_taking_an_id_has_the_id_converter(app):
    from werkzeug.routing import IntegerConverter

    from backoffice.params import IdConverter

    for rule in app.url_map.iter_rules():
        for name, converter in rule._converters.items():
            if isinstance(converter, IntegerConverter):
                assert isinstance(converter, IdConverter), (rule.rule, name)
    assert len(list(_id_rules(app))) >= 30


@pytest.mark.parametrize("number", ["2147483648", "99999999999999999999", "0", "007"])
def test_an_id_that_cannot_name_a_row_is_404_on_every_route(app, client, people, number):
    """On PostgreSQL ids are INTEGER: 2147483648 on the decision route overflowed (500)."""
    headers = bearer(people.mission)
    login(client, people.mission)
    for rule, ids, methods in _id_rules(app):
        values = {name: 1 for name in rule.arguments}
        values.update({"slug": "x", "extension": "pdf", "token": "x"})
        url = rule.rule
        for name in rule.arguments:
            value = number if name == ids[0] else str(values[name])
            url = re.sub(rf"<(?:[^:>]+:)?{name}>", value, url)
        for method in methods:
            response = getattr(client, method.lower())(url, headers=headers, json={})
            assert response.status_code == 404, (method, url, response.status_code)


def test_the_largest_id_still_reaches_the_route(client, people):
    response = client.get("/api/v1/demarches/2147483647", headers=bearer(people.mission))
    assert response.status_code == 404
    assert response.json["message"] == "aucune démarche n° 2147483647"
    decision = client.put(
        "/api/v1/demarches/2147483647/items/2147483647/decision",
        headers=bearer(people.mission),
        json={"outcome": "retained", "justification": "Oui"},
    )
    assert (
        decision.status_code == 404 and decision.json["message"] == "aucune démarche n° 2147483647"
    )


@pytest.mark.parametrize(
    "url",
    [
        "/admin/charter/?version=2147483648",
        "/admin/user/edit/?id=2147483648",
        "/admin/user/details/?id=99999999999999999999",
        "/admin/department/edit/?id=2147483648",
        "/admin/role/edit/?id=2147483648",
        "/admin/elected/edit/?id=2147483648",
    ],
)
def test_back_office_ids_in_the_query_never_reach_the_database(client, people, url):
    login(client, people.admin)
    response = client.get(url)
    assert response.status_code in (302, 404), response.status_code
    if response.status_code == 404:
        assert "Cette page n’existe pas." in response.text or "n&#39;existe" in response.text


def test_publishing_a_charter_version_that_does_not_exist_is_404(client, people):
    login(client, people.mission)
    page = client.get("/admin/charter/").text
    response = client.post(
        "/admin/charter/publish/", data={"csrf_token": csrf_from(page), "id": "2147483648"}
    )
    assert response.status_code == 404


def _list_views(app):
    from flask_admin.model import BaseModelView

    for admin in app.extensions["admin"]:
        for view in admin._views:
            if isinstance(view, BaseModelView):
                yield view.endpoint


@pytest.mark.parametrize("page", ["-1", "99999999999", "99999999999999999999", "abc"])
def test_every_back_office_list_clamps_its_page(app, client, people, make_demarche, page):
    """``?page=-1`` went to PostgreSQL as a negative OFFSET (500); a page past BIGINT
    overflowed on both databases."""
    make_demarche("consultation")
    login(client, people.admin)
    endpoints = list(_list_views(app))
    assert {"demarche", "contribution", "item", "deadline", "user"} <= set(endpoints)
    for endpoint in endpoints:
        response = client.get(f"/admin/{endpoint}/?page={page}")
        assert response.status_code == 200, (endpoint, response.status_code)


@pytest.mark.parametrize("page", ["-1", "0", "99999999999999999999", "abc"])
def test_the_public_item_page_clamps_its_page(client, make_demarche, page):
    d = make_demarche("consultation")
    response = client.get(f"/demarches/{d.slug}/elements/{d.items[0].id}?page={page}")
    assert response.status_code == 200
    assert d.items[0].title in response.text


def test_an_unknown_synthesis_version_is_a_french_404(client, people, make_demarche):
    """The synthesis sheet, its downloads and its actions named a version that does not
    exist: the domain's NotFound was a 500."""
    d = make_demarche("feedback")
    login(client, people.mission)
    assert client.get(f"/admin/synthesis/{d.id}/").status_code == 200
    for url in (
        f"/admin/synthesis/{d.id}/?version=99",
        f"/admin/synthesis/{d.id}/?version=2147483648",
        f"/admin/synthesis/{d.id}/pdf/?version=99",
        f"/admin/synthesis/{d.id}/xlsx/?version=99",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "aucune version 99 de cette synthèse" in response.text or "2147483648" in url
    sheet = client.get(f"/admin/synthesis/{d.id}/").text
    for action in ("validate", "publish", "edit"):
        response = client.post(
            f"/admin/synthesis/{d.id}/{action}/",
            data={"csrf_token": csrf_from(sheet), "version": "99"},
        )
        assert response.status_code == 404, action
        assert '<html lang="fr">' in response.text


def test_the_rate_limit_page_is_french(app, client, make_demarche, citizen):
    from backoffice.extensions import limiter

    from .test_public import post_contribution

    d = make_demarche("consultation")
    login(client, citizen)
    app.config["PUBLIC_POST_LIMIT"] = "1 per minute"
    limiter.reset()
    try:
        codes = [post_contribution(client, d, f"Avis {n}") for n in range(2)]
    finally:
        app.config["PUBLIC_POST_LIMIT"] = "10000 per minute"
        limiter.reset()
    refused = codes[-1]
    assert refused.status_code == 429
    assert "Trop de requêtes" in refused.text
    assert "Patientez une minute" in refused.text
    assert "per" not in refused.text and "Too Many" not in refused.text


def test_a_method_not_allowed_names_the_allowed_ones(client, people):
    api = client.delete("/api/v1/demarches", headers=bearer(people.mission))
    assert api.status_code == 405 and api.json["status"] == "Méthode non autorisée"
    assert set(api.headers["Allow"].split(", ")) >= {"GET", "POST"}
    page = client.put("/charte")
    assert page.status_code == 405 and "GET" in page.headers["Allow"]
    assert "Méthode non autorisée" in page.text


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"hold_for_review": "peut-être"}, "hold_for_review", "Booléen invalide."),
        ({"budget": "beaucoup"}, "budget", "Nombre invalide."),
        (
            {"consultation_opens": "demain"},
            "consultation_opens",
            "Date invalide (attendu : AAAA-MM-JJ).",
        ),
        ({"title": 12}, "title", "Texte invalide."),
        ({"title": "x" * 201}, "title", "200 caractères au plus"),
    ],
)
def test_field_errors_are_french(client, people, make_demarche, body, field, message):
    d = make_demarche("draft")
    response = client.patch(f"/api/v1/demarches/{d.id}", headers=bearer(people.agent), json=body)
    assert response.status_code == 422
    assert response.json["errors"] == {field: [message]}


@pytest.mark.parametrize("multipart", [False, True])
def test_form_posts_cannot_carry_a_lone_surrogate(client, people, multipart):
    """The bytes of an encoded surrogate (ED A0 80) are not UTF-8: werkzeug reads them as
    U+FFFD, so a form never brings a lone surrogate to the database."""
    login(client, people.mission)
    token = csrf_from(client.get("/admin/demarche/new/").text)
    if multipart:
        boundary = "x1x2x3"
        part = f"--{boundary}\r\nContent-Disposition: form-data; name="
        body = (
            f'{part}"csrf_token"\r\n\r\n{token}\r\n{part}"title"\r\n\r\n'.encode()
            + b"Caf\xed\xa0\x80\r\n"
            + f"--{boundary}--\r\n".encode()
        )
        content_type = f"multipart/form-data; boundary={boundary}"
    else:
        body = f"csrf_token={token}&title=Caf%ED%A0%80".encode()
        content_type = "application/x-www-form-urlencoded"
    response = client.post("/admin/demarche/new/", data=body, content_type=content_type)
    assert response.status_code in (200, 302)
    title = db.session.scalar(select(Demarche.title))
    assert title is not None and title.startswith("Caf")
    title.encode("utf-8")  # storable
