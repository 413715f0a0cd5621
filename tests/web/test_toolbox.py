"""The toolbox where people see it: the public list and its filters (query arguments), a
method's page, retired methods, the back office (the mission edits, agents and elected
officials read) and the JSON API."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from backoffice.extensions import db
from tests.support import csrf_from, login
from workflows import methods
from workflows.clock import utcnow
from workflows.methods.catalogue import WHOLE_NUMBERS
from workflows.models import AuditEntry, Method, PlannedMethod


def listed(html: str) -> list[str]:
    """The methods a toolbox page lists, by name."""
    return re.findall(r'<h3><a href="/boite-a-outils/[^"]+">([^<]+)</a>', html)


def method_id(slug: str) -> int:
    return db.session.scalar(select(Method.id).where(Method.slug == slug))


def test_the_toolbox_lists_every_method_and_filters_by_query_arguments(client, catalogue):
    page = client.get("/boite-a-outils")
    assert page.status_code == 200
    assert "La boîte à outils" in page.text and len(listed(page.text)) >= 20
    assert '<form method="get" action="/boite-a-outils"' in page.text  # no JavaScript needed

    codecision = client.get("/boite-a-outils?level=codecision").text
    assert listed(codecision) == ["Budget participatif"]
    assert '<option value="codecision" selected>Codécision</option>' in codecision

    crowd = listed(client.get("/boite-a-outils?size=2000&max_cost=10000").text)
    assert "Consultation en ligne" in crowd and "Conférence de citoyens" not in crowd
    assert "Jury ou panel citoyen tiré au sort" not in crowd

    in_person = listed(client.get("/boite-a-outils?format=in_person&duration=1").text)
    assert "Réunion publique" in in_person and "Consultation en ligne" not in in_person
    assert "Forum ouvert" not in in_person  # up to two days

    found = client.get("/boite-a-outils?q=balade").text
    assert listed(found) == ["Balade urbaine / diagnostic en marchant"]
    assert "Effacer les filtres" in found
    none = client.get("/boite-a-outils?q=introuvable").text
    assert "Aucune méthode ne répond à tous ces filtres" in none


def test_filters_that_cannot_be_read_are_said_in_french(client, catalogue):
    page = client.get("/boite-a-outils?level=vote&size=beaucoup&duration=-3")
    assert page.status_code == 200
    assert "niveau de participation inconnu « vote »" in page.text
    assert "« participants » n’est pas un nombre entier" in page.text
    assert "« durée » est un nombre entier entre 1 et 3650" in page.text
    assert len(listed(page.text)) >= 20  # the rest of the filters still apply


def test_a_method_has_its_page_with_every_field_and_its_licence(client, catalogue):
    page = client.get("/boite-a-outils/conference-de-citoyens").text
    for shown in (
        "Conférence de citoyens",
        "Tirage au sort",
        "de 15 à 30 personnes",
        "de 100\u202f000 à 250\u202f000 € (chiffres de 2019)",
        "12 semaines",
        "Quand l’éviter",
        "Accessibilité et aller-vers",
        "Notes de qualité publiées en 2019",
        "Licence du texte repris",
        "Copyright (c) 2017-2019 DINSIC/Etalab",
        '<a href="https://github.com/consultation-gouv/consultation.gouv.fr" rel="noopener">',
    ):
        assert shown in page, shown
    own = client.get("/boite-a-outils/reunion-publique").text
    assert "Estimation 2026 du Département" in own and "Licence du texte repris" not in own


def test_an_unknown_method_is_a_french_404(client, catalogue):
    page = client.get("/boite-a-outils/methode-inconnue")
    assert page.status_code == 404 and "Cette page n’existe pas" in page.text


def test_a_retired_method_leaves_the_list_but_keeps_its_page(client, catalogue, people):
    cafe = methods.get_method(db.session, "world-cafe")
    assert "World café" in listed(client.get("/boite-a-outils").text)
    methods.set_retired(db.session, people.mission, cafe, True, as_of=utcnow())
    db.session.commit()
    assert "World café" not in listed(client.get("/boite-a-outils").text)  # the cache moved on
    page = client.get("/boite-a-outils/world-cafe")
    assert page.status_code == 200 and "La mission a retiré cette méthode" in page.text


def test_the_mission_edits_a_method_and_the_change_is_audited(client, catalogue, people):
    cafe_id = method_id("world-cafe")
    assert "World café" in client.get("/boite-a-outils/world-cafe").text  # now in the cache
    login(client, people.mission)
    form = client.get(f"/admin/method/edit/?id={cafe_id}").text
    values = {
        "csrf_token": csrf_from(form),
        "name": "Café citoyen",
        "slug": "world-cafe",
        "summary": "Des conversations en petites tables.",
        "levels": ["consultation", "concertation"],
        "format": "in_person",
        "recruitment": ["open"],
        "size_min": "12",
        "size_max": "120",
        "preparation_weeks": "3",
        "duration_days": "1",
        "cost_min": "1000",
        "cost_max": "6000",
        "cost_year": "2026",
        "objectives": "",
    }
    refused = client.post(
        f"/admin/method/edit/?id={cafe_id}", data={**values, "size_min": "500", "cost_min": "-5"}
    )
    assert "le maximum est inférieur au minimum" in refused.text
    assert "un coût ne peut pas être négatif" in refused.text
    assert methods.get_method(db.session, "world-cafe").name == "World café"  # nothing saved

    done = client.post(f"/admin/method/edit/?id={cafe_id}", data=values, follow_redirects=True)
    assert "La méthode est enregistrée" in done.text
    db.session.expire_all()
    cafe = methods.get_method(db.session, "world-cafe")
    assert cafe.name == "Café citoyen" and cafe.edited_by_id == people.mission.id
    assert cafe.objectives == ""  # emptied in the form: the mission's choice
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "method.update"))
    assert entry.actor_id == people.mission.id and "name" in entry.data["fields"]

    client.post("/logout", data={"csrf_token": csrf_from(done.text)})
    assert "Café citoyen" in client.get("/boite-a-outils/world-cafe").text  # not the old page


@pytest.mark.parametrize("who", ["agent", "elected"])
def test_agents_and_elected_officials_read_but_do_not_edit(client, catalogue, people, who):
    cafe_id = method_id("world-cafe")
    login(client, getattr(people, who))
    listing = client.get("/admin/method/")
    assert listing.status_code == 200 and "World café" in listing.text
    details = client.get(f"/admin/method/details/?id={cafe_id}").text
    assert "Modifier cette méthode" not in details and "Supprimer cette méthode" not in details
    token = csrf_from(details)
    edit = client.post(
        f"/admin/method/edit/?id={cafe_id}",
        data={"csrf_token": token, "name": "Renommée", "slug": "world-cafe"},
    )
    assert edit.status_code == 302
    client.post("/admin/method/retire/", data={"csrf_token": token, "id": cafe_id, "retired": "1"})
    client.post("/admin/method/delete/", data={"csrf_token": token, "id": cafe_id})
    db.session.expire_all()
    cafe = methods.get_method(db.session, "world-cafe")
    assert cafe.name == "World café" and not cafe.retired
    assert not db.session.scalars(
        select(AuditEntry).where(AuditEntry.action.like("method.%"))
    ).all()


def test_citizens_do_not_enter_the_back_office_toolbox(client, catalogue, citizen):
    login(client, citizen)
    assert client.get("/admin/method/").status_code == 403


def test_deletion_is_refused_while_a_demarche_plans_the_method(
    client, catalogue, people, make_demarche
):
    d = make_demarche("launch")
    cafe_id, forum_id = method_id("world-cafe"), method_id("forum-ouvert")
    db.session.add(PlannedMethod(demarche_id=d.id, method_id=cafe_id, added_at=utcnow()))
    db.session.commit()
    login(client, people.mission)
    details = client.get(f"/admin/method/details/?id={cafe_id}").text
    assert "Prévue ou utilisée par 1 démarche." in details
    assert "Supprimer cette méthode" not in details and "retirez-la plutôt" in details
    refused = client.post(
        "/admin/method/delete/",
        data={"csrf_token": csrf_from(details), "id": cafe_id},
        follow_redirects=True,
    )
    assert "ne peut pas être supprimée, retirez-la plutôt" in refused.text
    assert db.session.get(Method, cafe_id) is not None

    retired = client.post(
        "/admin/method/retire/",
        data={"csrf_token": csrf_from(details), "id": cafe_id, "retired": "1"},
        follow_redirects=True,
    )
    assert "La méthode est retirée" in retired.text
    deleted = client.post(
        "/admin/method/delete/",
        data={"csrf_token": csrf_from(details), "id": forum_id},
        follow_redirects=True,
    )
    assert deleted.status_code == 200
    db.session.expire_all()
    assert db.session.get(Method, forum_id) is None
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"method.retire", "method.delete"} <= actions


# -- the API -----------------------------------------------------------------------------------


def test_the_api_lists_with_the_same_filters(api, catalogue, people):
    every = api(people.agent, "get", "/api/v1/methods").json
    assert every["total"] == len(every["items"]) >= 20
    first = every["items"][0]
    assert {"slug", "levels", "size_min", "size_max", "cost_year", "licence"} <= set(first)

    crowd = api(people.agent, "get", "/api/v1/methods?size=2000&max_cost=10000&format=online")
    slugs = [m["slug"] for m in crowd.json["items"]]
    assert "consultation-en-ligne" in slugs and "conference-de-citoyens" not in slugs
    words = api(people.elected, "get", "/api/v1/methods?q=reunion%20publique&level=information")
    found = [m["slug"] for m in words.json["items"]]
    assert "reunion-publique" in found and "consultation-en-ligne" not in found

    bad = api(people.agent, "get", "/api/v1/methods?level=vote&size=0")
    assert bad.status_code == 422
    assert bad.json["errors"]["level"] == ["valeur inconnue"]
    assert "nombre de participants" in bad.json["errors"]["size"][0]


def test_each_whole_number_filter_of_the_api_says_its_bounds_in_french(api, people):
    for name, bounds in WHOLE_NUMBERS.items():
        bad = api(people.agent, "get", f"/api/v1/methods?{name}={bounds.high + 1}")
        assert bad.status_code == 422
        [message] = bad.json["errors"][name]
        assert f" entre {bounds.low} et {bounds.high} attendu" in message, message


def test_the_api_reads_one_method_retired_or_not(api, catalogue, people):
    methods.set_retired(
        db.session,
        people.mission,
        methods.get_method(db.session, "world-cafe"),
        True,
        as_of=utcnow(),
    )
    db.session.commit()
    listed_slugs = [m["slug"] for m in api(people.agent, "get", "/api/v1/methods").json["items"]]
    assert "world-cafe" not in listed_slugs
    every = api(people.agent, "get", "/api/v1/methods?include_retired=true").json["items"]
    assert "world-cafe" in [m["slug"] for m in every]
    one = api(people.agent, "get", "/api/v1/methods/world-cafe")
    assert one.status_code == 200 and one.json["retired"] is True
    missing = api(people.agent, "get", "/api/v1/methods/inconnue")
    assert missing.status_code == 404
    assert missing.json["message"] == "pas de méthode « inconnue » dans la boîte à outils"


def test_the_api_writes_as_the_back_office_does(api, catalogue, people):
    new = {
        "slug": "cafe-des-parents",
        "name": "Café des parents",
        "summary": "Un temps d’échange avec les parents de collégiens.",
        "levels": ["consultation"],
        "format": "in_person",
        "recruitment": ["targeted"],
        "size_min": 8,
        "size_max": 25,
        "preparation_weeks": 2,
        "duration_days": 1,
        "cost_min": 200,
        "cost_max": 800,
        "cost_year": 2026,
    }
    assert api(people.agent, "post", "/api/v1/methods", json=new).status_code == 403
    made = api(people.mission, "post", "/api/v1/methods", json=new)
    assert made.status_code == 201 and made.json["shipped"] is False

    refused = api(
        people.mission, "patch", "/api/v1/methods/cafe-des-parents", json={"cost_min": -1}
    )
    assert refused.status_code == 422
    assert refused.json["errors"]["cost_min"] == ["un coût ne peut pas être négatif"]
    retired = api(
        people.mission, "patch", "/api/v1/methods/cafe-des-parents", json={"retired": True}
    )
    assert retired.status_code == 200 and retired.json["retired"] is True

    d_method = methods.get_method(db.session, "cafe-des-parents")
    assert api(people.agent, "delete", "/api/v1/methods/cafe-des-parents").status_code == 403
    assert api(people.mission, "delete", "/api/v1/methods/cafe-des-parents").status_code == 204
    assert db.session.get(Method, d_method.id) is None
    actions = [
        e.action
        for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.target == f"method:{d_method.id}")
        )
    ]
    assert actions == ["method.create", "method.retire", "method.delete"]


def test_the_api_says_a_bad_list_in_one_message_per_field(api, catalogue, people):
    refused = api(
        people.mission,
        "patch",
        "/api/v1/methods/world-cafe",
        json={"recruitment": [{}], "levels": ["vote"]},
    )
    assert refused.status_code == 422
    assert refused.json["errors"] == {"recruitment": ["Valeur invalide."]}
    unknown = api(people.mission, "patch", "/api/v1/methods/world-cafe", json={"levels": ["vote"]})
    assert unknown.status_code == 422
    assert unknown.json["errors"]["levels"][0].startswith("valeur inconnue « vote »")
    assert api(people.mission, "patch", "/api/v1/methods/world-cafe").status_code == 200
