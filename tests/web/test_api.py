"""The JSON API: the contract of the README, its status codes and French messages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from backoffice.api.auth import issue_token
from backoffice.extensions import db
from workflows.clock import local_date, utcnow
from workflows.items import add_item
from workflows.models import Demarche, StageTransition


@pytest.fixture
def api(client, people):
    """``api(user).post(url, json=…)``: the test client with the user's bearer token."""

    class Caller:
        def __init__(self, user):
            self.headers = {"Authorization": f"Bearer {issue_token(user, utcnow())}"}
            db.session.commit()

        def __getattr__(self, method):
            def call(url, **kwargs):
                return getattr(client, method)(url, headers=self.headers, **kwargs)

            return call

    return Caller


def saisine(people, **fields):
    return {
        "title": "Schéma des mobilités du Lauragais",
        "objectives": "Partager le diagnostic des déplacements.",
        "public": "Habitants du Lauragais",
        "territory": "revel",
        "participation_level": "co-construction",
        "elected_official": people.elected.email.upper(),
        "desired_calendar": "Printemps 2027",
        "budget": 25000.5,
        **fields,
    }


def test_an_agent_creates_and_submits_a_saisine_of_their_department(api, people):
    agent = api(people.agent)
    created = agent.post("/api/v1/demarches", json=saisine(people))
    assert created.status_code == 201, created.json
    body = created.json
    assert body["stage"] == "draft" and body["department"] == "Direction des routes"
    assert body["territory"] == "Revel" and body["budget"] == 25000.5  # a number, as documented
    assert body["elected_official"] == people.elected.email
    assert created.headers["Location"].endswith(f"/api/v1/demarches/{body['id']}")
    assert [m["to"] for m in body["moves"] if m["possible"]] == ["submitted"]

    moved = agent.post(f"/api/v1/demarches/{body['id']}/transitions", json={"to": "submitted"})
    assert moved.status_code == 201
    assert (moved.json["from"], moved.json["to"], moved.json["actor_email"]) == (
        "draft",
        "submitted",
        people.agent.email,
    )
    history = agent.get(f"/api/v1/demarches/{body['id']}").json["history"]
    assert [(h["from"], h["to"], h["actor"], h["comment"]) for h in history] == [
        ("draft", "submitted", people.agent.display_name, "")
    ]


def test_an_agent_cannot_create_for_another_department(api, people):
    response = api(people.agent).post(
        "/api/v1/demarches", json=saisine(people, department="Direction de l'action sociale")
    )
    assert response.status_code == 403
    assert response.json["message"] == ("vous ne pouvez créer de démarche que pour votre service")


def test_bad_fields_get_422_in_french_and_nothing_is_saved(api, people):
    response = api(people.agent).post(
        "/api/v1/demarches",
        json=saisine(
            people, territory="Paris", participation_level="vote", elected_official="x@y.fr"
        ),
    )
    assert response.status_code == 422
    errors = response.json["errors"]
    assert errors["territory"] == [
        "territoire inconnu : « Paris » ; indiquez un canton de la "
        "Haute-Garonne, ou Haute-Garonne pour tout le département"
    ]
    assert errors["participation_level"][0].startswith("niveau de participation inconnu")
    assert errors["elected_official"] == ["aucun·e élu·e n’a l’adresse « x@y.fr »"]
    missing = api(people.agent).post("/api/v1/demarches", json={"objectives": "x", "color": 1})
    assert missing.status_code == 422
    assert missing.json["errors"] == {
        "title": ["Champ obligatoire manquant."],
        "color": ["Champ inconnu."],
    }
    assert db.session.scalar(select(func.count(Demarche.id))) == 0


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"title": 12}', b"null"])
def test_garbage_never_gets_a_500(api, people, body):
    response = api(people.agent).post(
        "/api/v1/demarches", data=body, content_type="application/json"
    )
    assert 400 <= response.status_code < 500
    assert response.json["message"]


def test_refused_moves_answer_409_with_the_unmet_conditions(api, people, make_demarche):
    d = make_demarche("launch")
    response = api(people.mission).post(
        f"/api/v1/demarches/{d.id}/transitions", json={"to": "consultation"}
    )
    assert response.status_code == 409
    assert response.json["errors"] == [
        "dates de consultation manquantes",
        "présentation publique manquante",
        "aucun élément à commenter : préparez-en au moins un",
    ]
    skip = api(people.mission).post(f"/api/v1/demarches/{d.id}/transitions", json={"to": "closed"})
    assert skip.status_code == 409
    assert skip.json["message"] == (
        "une démarche à l’étape « Lancement » ne peut pas passer à l’étape « Clôturée »"
    )


def test_a_return_needs_a_comment(api, people, make_demarche):
    d = make_demarche("submitted")
    mission = api(people.mission)
    refused = mission.post(f"/api/v1/demarches/{d.id}/transitions", json={"to": "returned"})
    assert refused.status_code == 409
    assert refused.json["errors"] == ["un motif est obligatoire pour cette décision"]
    done = mission.post(
        f"/api/v1/demarches/{d.id}/transitions",
        json={"to": "returned", "comment": "Précisez le calendrier."},
    )
    assert done.status_code == 201 and done.json["comment"] == "Précisez le calendrier."


def test_roles_that_may_not_move_get_403(api, people, make_demarche):
    d = make_demarche("submitted")
    for user in (people.agent, people.elected):
        response = api(user).post(f"/api/v1/demarches/{d.id}/transitions", json={"to": "launch"})
        assert response.status_code == 403, user
    other = api(people.other_agent).post(
        f"/api/v1/demarches/{d.id}/transitions", json={"to": "submitted"}
    )
    assert other.status_code == 404  # another department's démarche is not theirs to see


def test_an_unknown_stage_is_422(api, people, make_demarche):
    d = make_demarche("submitted")
    response = api(people.mission).post(
        f"/api/v1/demarches/{d.id}/transitions", json={"to": "published"}
    )
    assert response.status_code == 422
    assert response.json["errors"]["to"][0].startswith("étape inconnue : « published »")


def test_patch_follows_the_stage(api, people, make_demarche):
    d = make_demarche("launch")
    opens = local_date(utcnow())
    agent = api(people.agent)
    ok = agent.patch(
        f"/api/v1/demarches/{d.id}",
        json={
            "presentation": "Donnez votre avis",
            "consultation_opens": opens.isoformat(),
            "consultation_closes": (opens + timedelta(days=30)).isoformat(),
        },
    )
    assert ok.status_code == 200, ok.json
    assert ok.json["consultation_opens"] == opens.isoformat()
    frozen = agent.patch(f"/api/v1/demarches/{d.id}", json={"title": "Autre"})
    assert frozen.status_code == 409
    assert frozen.json["errors"] == ["« Titre » n’est plus modifiable à l’étape « Lancement »"]
    bad_date = agent.patch(f"/api/v1/demarches/{d.id}", json={"consultation_opens": "31/12/2026"})
    assert bad_date.status_code == 422
    add_item(db.session, people.agent, d, title="Engagement", as_of=utcnow())
    db.session.commit()
    too_soon = api(people.mission).post(
        f"/api/v1/demarches/{d.id}/transitions", json={"to": "consultation"}
    )
    assert too_soon.status_code == 409
    assert too_soon.json["errors"][0].startswith(
        "règle « Annoncer la consultation avant son ouverture » :"
    ), too_soon.json
    db.session.expire_all()
    d = db.session.get(Demarche, d.id)
    d.announced_at = utcnow() - timedelta(days=20)  # had it been announced three weeks ago
    db.session.commit()
    opened = api(people.mission).post(
        f"/api/v1/demarches/{d.id}/transitions", json={"to": "consultation"}
    )
    assert opened.status_code == 201, opened.json


def test_lists_are_scoped_filtered_and_paginated(api, people, make_demarche):
    mine = make_demarche("submitted", title="Routes A")
    make_demarche("draft", title="Routes B")
    make_demarche(
        "draft", title="Social", agent=people.other_agent, elected_official=people.other_elected
    )
    everything = api(people.mission).get("/api/v1/demarches").json
    assert everything["total"] == 3
    routes = api(people.agent).get("/api/v1/demarches").json
    assert sorted(i["title"] for i in routes["items"]) == ["Routes A", "Routes B"]
    official = api(people.other_elected).get("/api/v1/demarches").json
    assert [i["title"] for i in official["items"]] == ["Social"]
    submitted = api(people.mission).get("/api/v1/demarches?stage=submitted").json
    assert [i["id"] for i in submitted["items"]] == [mine.id]
    page = api(people.mission).get("/api/v1/demarches?per_page=2&page=2").json
    assert (page["total"], len(page["items"])) == (3, 1)
    by_official = (
        api(people.mission).get(f"/api/v1/demarches?elected_official={people.elected.email}").json
    )
    assert by_official["total"] == 2


def test_the_api_wants_a_valid_bearer_token(client, people):
    assert client.get("/api/v1/demarches").status_code == 401
    bad = client.get("/api/v1/demarches", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and bad.json["message"] == "Jeton invalide ou révoqué."
    token = issue_token(people.agent, utcnow())
    people.agent.active = False
    db.session.commit()
    assert (
        client.get("/api/v1/demarches", headers={"Authorization": f"Bearer {token}"}).status_code
        == 401
    )


def test_the_api_ignores_the_session_cookie(client, people):
    """A logged-in browser cannot be used to call the API (so the API needs no CSRF token)."""
    from .test_backoffice import login

    login(client, people.mission)
    assert client.get("/api/v1/demarches").status_code == 401


def test_openapi_document_describes_the_contract(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["info"]["title"] == "Dialogue citoyen"
    paths = spec["paths"]
    assert set(paths["/api/v1/demarches"]) >= {"get", "post"}
    assert set(paths["/api/v1/demarches/{demarche_id}"]) >= {"get", "patch"}
    assert "post" in paths["/api/v1/demarches/{demarche_id}/transitions"]
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    schemas = spec["components"]["schemas"]
    # What the answers are: budget a number; errors a list or a map of field to messages.
    assert schemas["DemarcheOut"]["properties"]["budget"]["type"] == "number"
    errors = schemas["Error"]["properties"]["errors"]["oneOf"]
    assert {e["type"] for e in errors} == {"array", "object"}
    assert set(schemas["Error"]["required"]) == {"code", "status", "message"}
    # The constraints the server applies are written down.
    title = schemas["DemarcheCreate"]["properties"]["title"]
    assert (title["minLength"], title["maxLength"], title["pattern"]) == (1, 200, r"\S")
    assert schemas["AnswerIn"]["properties"]["answer"]["maxLength"] == 10_000
    ids = paths["/api/v1/demarches/{demarche_id}"]["parameters"][0]["schema"]
    assert (ids["minimum"], ids["maximum"]) == (1, 2**31 - 1)
    csv_export = paths["/api/v1/demarches/{demarche_id}/contributions"]["get"]["responses"]
    assert set(csv_export["200"]["content"]) == {"application/json", "text/csv"}


def test_every_route_of_the_api_is_documented_with_its_answers(app, client):
    """Each route and method of /api/v1 is in the OpenAPI document, with its success, 401
    (the token) and the error answers it can give."""
    spec = client.get("/api/v1/openapi.json").json
    documented = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint.startswith("api-docs"):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        routes |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes and routes <= documented, routes - documented
    for path, method in routes:
        responses = spec["paths"][path][method.lower()]["responses"]
        assert any(code.startswith("2") for code in responses), (path, method)
        assert "401" in responses, (path, method)
        if "{" in path:
            assert "404" in responses, (path, method)
        if (
            method in ("POST", "PUT", "PATCH")
            and "requestBody" in spec["paths"][path][method.lower()]
        ):
            assert {"400", "422"} <= set(responses), (path, method)


def test_racing_api_calls_make_one_move(api, people, make_demarche):
    d = make_demarche("submitted")
    mission = api(people.mission)
    first = mission.post(f"/api/v1/demarches/{d.id}/transitions", json={"to": "launch"})
    second = mission.post(f"/api/v1/demarches/{d.id}/transitions", json={"to": "launch"})
    assert (first.status_code, second.status_code) == (201, 409)
    count = db.session.scalar(
        select(func.count(StageTransition.id)).where(
            StageTransition.demarche_id == d.id, StageTransition.to_stage == "launch"
        )
    )
    assert count == 1
