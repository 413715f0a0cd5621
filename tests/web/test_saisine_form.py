"""The guided saisine form: steps, what submitting needs, drafts resumed, submission, a
returned saisine's reason, and who may write it."""

from __future__ import annotations

import re
from datetime import timedelta

from bs4 import BeautifulSoup
from sqlalchemy import func, select

from backoffice.extensions import db
from tests.support import csrf_from, login
from workflows.clock import local_date, utcnow
from workflows.methods import load_catalogue, planning
from workflows.models import Demarche, StageTransition
from workflows.stages import Stage
from workflows.transitions import transition


def post_step(client, url, action="next", **fields):
    token = csrf_from(client.get("/admin/").text)
    return client.post(url, data={"csrf_token": token, "action": action, **fields})


def field(page: str, name: str):
    return BeautifulSoup(page, "html.parser").find(attrs={"name": name})


def error_of(page: str, name: str) -> str:
    found = BeautifulSoup(page, "html.parser").find(id=f"error-{name}")
    return found.get_text(" ", strip=True) if found else ""


def test_an_agent_creating_a_demarche_lands_on_the_guided_form(client, people):
    login(client, people.agent)
    response = client.get("/admin/demarche/new/")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/saisine/new/"
    page = client.get("/admin/saisine/new/").text
    assert "Étape 1 sur 5" in page and "<h1" in page and "Le projet" in page
    # Every field that submitting needs says so; the department is the agent's own.
    soup = BeautifulSoup(page, "html.parser")
    for name in ("title", "objectives"):
        label = soup.find("label", attrs={"for": f"field-{name}"}).get_text(" ", strip=True)
        assert "(obligatoire pour transmettre)" in label, name
    assert field(page, "department") is None and "Service : Direction des routes" in page
    assert "Ce qui deviendra public" in page
    assert "dès que la mission aura accepté la saisine" in page
    # The list's « Create » leads there too.
    landed = client.get("/admin/demarche/new/", follow_redirects=True)
    assert landed.request.path == "/admin/saisine/new/" and "Étape 1 sur 5" in landed.text


def test_continue_asks_at_each_step_for_what_submitting_needs(client, people):
    login(client, people.agent)
    response = post_step(client, "/admin/saisine/new/", title="Voie verte du canal")
    assert response.status_code == 422
    assert error_of(response.text, "objectives") == (
        "objectifs manquants : remplissez ce champ pour transmettre la saisine."
    )
    assert "Il y a un problème" in response.text
    assert field(response.text, "title")["value"] == "Voie verte du canal"  # kept
    assert field(response.text, "objectives")["aria-invalid"] == "true"
    assert db.session.scalar(select(func.count(Demarche.id))) == 0  # nothing saved

    response = post_step(
        client,
        "/admin/saisine/new/",
        title="Voie verte du canal",
        objectives="Choisir le revêtement.\nCe qui est décidé : le tracé.",
    )
    assert response.status_code == 302
    d = db.session.scalar(select(Demarche))
    assert (d.stage, d.department, d.created_by) == (
        Stage.DRAFT,
        people.agent.department,
        people.agent,
    )
    assert response.headers["Location"] == f"/admin/saisine/{d.id}/public/"

    # Step 2 wants the public and the territory; a typed public is kept.
    response = post_step(client, f"/admin/saisine/{d.id}/public/", public="Cyclistes")
    assert response.status_code == 422
    assert error_of(response.text, "territory").startswith("territoire manquant")
    assert field(response.text, "public").get_text() == "Cyclistes"
    assert "Étape 2 sur 5" in response.text
    db.session.expire_all()
    assert db.session.get(Demarche, d.id).public == ""


def test_a_bad_value_is_shown_beside_its_field_with_what_was_typed(client, people, make_demarche):
    d = make_demarche("draft", budget=None)
    login(client, people.agent)
    response = post_step(
        client,
        f"/admin/saisine/{d.id}/participation/",
        action="save",
        participation_level="consultation",
        desired_calendar="Automne, avant le vote du budget",
        budget="-1",
        elected_official=people.elected.email,
    )
    assert response.status_code == 422
    assert "montant en euros attendu" in error_of(response.text, "budget")
    assert field(response.text, "budget")["value"] == "-1"
    assert field(response.text, "desired_calendar").get_text() == (
        "Automne, avant le vote du budget"
    )
    checked = BeautifulSoup(response.text, "html.parser").find("input", checked=True)
    assert checked["value"] == "consultation"
    db.session.expire_all()
    assert db.session.get(Demarche, d.id).desired_calendar == "Premier trimestre"


def test_a_draft_is_saved_at_any_step_and_resumed_later(client, people):
    login(client, people.agent)
    created = post_step(client, "/admin/saisine/new/", action="save", title="Collèges ouverts")
    assert created.status_code == 302  # saved without its objectives: it is a draft
    d = db.session.scalar(select(Demarche))
    assert created.headers["Location"] == f"/admin/saisine/{d.id}/project/"
    assert "Brouillon enregistré" in client.get(created.headers["Location"]).text

    saved = post_step(client, f"/admin/saisine/{d.id}/public/", action="save", public="Parents")
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(Demarche, d.id).public == "Parents"

    # Later, « Edit » on the sheet resumes at the first step that lacks something.
    resumed = client.get(f"/admin/demarche/edit/?id={d.id}", follow_redirects=True)
    assert resumed.request.path == f"/admin/saisine/{d.id}/project/"
    assert field(resumed.text, "title")["value"] == "Collèges ouverts"
    post_step(
        client,
        f"/admin/saisine/{d.id}/project/",
        title="Collèges ouverts",
        objectives="Ouvrir les cours le samedi.",
    )
    resumed = client.get(f"/admin/saisine/{d.id}/")
    assert resumed.headers["Location"] == f"/admin/saisine/{d.id}/public/"
    assert field(client.get(resumed.headers["Location"]).text, "public").get_text() == "Parents"


def test_the_methods_step_suggests_with_reasons_and_keeps_the_plan(client, people, make_demarche):
    load_catalogue(db.session, as_of=utcnow())
    ends_by = local_date(utcnow()) + timedelta(weeks=6, days=2)
    d = make_demarche(
        "draft",
        participation_level="consultation",
        expected_participants="2000",
        budget="10000",
        participation_ends_by=ends_by.isoformat(),
    )
    login(client, people.agent)
    page = client.get(f"/admin/saisine/{d.id}/methods/").text
    assert "Étape 4 sur 5" in page
    soup = BeautifulSoup(page, "html.parser")
    boxes = [box["value"] for box in soup.find_all("input", attrs={"name": "planned"})]
    assert boxes.index("questionnaire") < boxes.index("conference-de-citoyens")
    why = soup.find(id="method-conference-de-citoyens-why").get_text(" ", strip=True)
    assert "trop cher pour le budget indiqué" in why
    assert "délai de préparation de 12 semaines, 6 semaines disponibles" in why
    assert soup.find(id="method-conference-de-citoyens").find_parent("details") is not None
    assert "Restitution publique" in page and "toujours la dernière étape" in page
    # Ticked and continued: kept in order, the restitution last, shown on the review.
    going_on = post_step(
        client, f"/admin/saisine/{d.id}/methods/", planned=["questionnaire", "world-cafe"]
    )
    assert going_on.headers["Location"] == f"/admin/saisine/{d.id}/review/"
    assert [m.slug for m in planning.planned(db.session, d)] == [
        "questionnaire",
        "world-cafe",
        "restitution-publique",
    ]
    review = client.get(f"/admin/saisine/{d.id}/review/").text
    assert "Questionnaire (en ligne et papier) → World café → Restitution publique" in review
    again = BeautifulSoup(client.get(f"/admin/saisine/{d.id}/methods/").text, "html.parser")
    assert again.find(id="method-world-cafe").has_attr("checked")
    # An unknown method: a French message beside the list, the plan unchanged.
    refused = post_step(client, f"/admin/saisine/{d.id}/methods/", planned=["chapeau"])
    assert refused.status_code == 422
    assert "pas de méthode « chapeau » dans la boîte à outils" in error_of(
        refused.text, "planned_methods"
    )
    assert len(planning.planned(db.session, d)) == 3


def test_the_participation_step_takes_participants_and_an_end_date(client, people, make_demarche):
    d = make_demarche("draft")
    login(client, people.agent)
    url = f"/admin/saisine/{d.id}/participation/"
    refused = post_step(
        client,
        url,
        action="save",
        participation_level="concertation",
        expected_participants="beaucoup",
        participation_ends_by="2027-02-30",
    )
    assert refused.status_code == 422
    assert (
        error_of(refused.text, "expected_participants") == "un nombre entier de personnes attendu"
    )
    assert "date attendue" in error_of(refused.text, "participation_ends_by")
    db.session.expire_all()
    assert db.session.get(Demarche, d.id).expected_participants is None
    post_step(
        client,
        url,
        action="save",
        participation_level="concertation",
        expected_participants="1 500",
        participation_ends_by="2027-03-01",
    )
    db.session.expire_all()
    saved = db.session.get(Demarche, d.id)
    assert saved.expected_participants == 1500 and saved.participation_ends_by.day == 1


def test_the_agent_reviews_and_submits_the_saisine(client, people, make_demarche, deliver):
    d = make_demarche("draft", title="Aménagement de la RD 820")
    login(client, people.agent)
    review = client.get(f"/admin/saisine/{d.id}/review/").text
    assert "Relire et transmettre" in review and "Étape 5 sur 5" in review
    for shown in ("Choisir le tracé d", "Portet-sur-Garonne", "Concertation", "Élodie Élue"):
        assert shown in review
    assert "150" in review and "€" in review
    assert "Avant de pouvoir transmettre" not in review
    response = client.post(
        f"/admin/saisine/{d.id}/submit/",
        data={"csrf_token": csrf_from(review), "from": "draft", "comment": "Urgent."},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/saisine/{d.id}/sent/"
    sent = client.get(response.headers["Location"]).text
    assert "Saisine transmise" in sent and "sous 15 jours" in sent
    db.session.expire_all()
    row = db.session.scalars(select(StageTransition)).one()
    assert (row.from_stage, row.to_stage, row.actor_id, row.source, row.comment) == (
        Stage.DRAFT,
        Stage.SUBMITTED,
        people.agent.id,
        "backoffice",
        "Urgent.",
    )
    # Once submitted, the saisine is read on its sheet, not written here.
    again = client.get(f"/admin/saisine/{d.id}/project/")
    assert again.headers["Location"] == f"/admin/demarche/details/?id={d.id}"


def test_the_review_says_what_is_missing_and_submitting_is_refused(client, people, make_demarche):
    d = make_demarche("draft", objectives="", territory=None)
    login(client, people.agent)
    review = client.get(f"/admin/saisine/{d.id}/review/").text
    assert "Avant de pouvoir transmettre" in review
    assert f'href="/admin/saisine/{d.id}/project/">objectifs manquants' in review
    assert f'href="/admin/saisine/{d.id}/public/">territoire manquant' in review
    assert "Déposer la saisine" not in review
    forged = client.post(
        f"/admin/saisine/{d.id}/submit/",
        data={"csrf_token": csrf_from(review), "from": "draft", "comment": "Quand même"},
    )
    assert forged.status_code == 409
    assert "objectifs manquants" in forged.text
    db.session.expire_all()
    assert db.session.get(Demarche, d.id).stage == Stage.DRAFT


def test_a_returned_saisine_shows_the_missions_reason(client, people, make_demarche):
    d = make_demarche("submitted")
    transition(
        db.session,
        d.id,
        "returned",
        actor=people.mission,
        as_of=utcnow(),
        comment="Précisez le public concerné :\nles riverains ou les usagers ?",
    )
    db.session.commit()
    login(client, people.agent)
    review = client.get(f"/admin/demarche/edit/?id={d.id}", follow_redirects=True)
    assert review.request.path == f"/admin/saisine/{d.id}/review/"
    for page in (review.text, client.get(f"/admin/saisine/{d.id}/public/").text):
        assert "La mission vous a renvoyé cette saisine" in page
        assert "Précisez le public concerné :\nles riverains ou les usagers ?" in page
        assert "Marc Mission a écrit" in page
    assert "Déposer de nouveau la saisine" in review.text
    post_step(client, f"/admin/saisine/{d.id}/public/", public="Riverains de la RD 820")
    response = client.post(
        f"/admin/saisine/{d.id}/submit/",
        data={"csrf_token": csrf_from(review.text), "from": "returned", "comment": "Précisé."},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Demarche, d.id).stage == Stage.SUBMITTED


def test_another_departments_agent_and_officials_are_refused(client, people, make_demarche):
    d = make_demarche("draft")
    login(client, people.other_agent)
    assert client.get(f"/admin/saisine/{d.id}/project/").status_code == 404
    assert client.get(f"/admin/saisine/{d.id}/").status_code == 404
    token = csrf_from(client.get("/admin/").text)
    posted = client.post(
        f"/admin/saisine/{d.id}/project/",
        data={"csrf_token": token, "action": "save", "title": "Détournée"},
    )
    assert posted.status_code == 404
    submitted = client.post(f"/admin/saisine/{d.id}/submit/", data={"csrf_token": token})
    assert submitted.status_code == 404
    db.session.expire_all()
    assert (db.session.get(Demarche, d.id).title, d.stage) == (
        "Aménagement de la RD 820",
        Stage.DRAFT,
    )
    client.post("/logout", data={"csrf_token": token})
    login(client, people.elected)  # sees the démarche they sponsor, writes nothing
    assert client.get(f"/admin/saisine/{d.id}/project/").status_code == 403
    assert client.get("/admin/saisine/new/").status_code == 403


def test_the_mission_keeps_its_forms_and_may_use_the_guided_one(client, people, make_demarche):
    d = make_demarche("draft")
    login(client, people.mission)
    assert 'name="department"' in client.get("/admin/demarche/new/").text
    assert client.get(f"/admin/demarche/edit/?id={d.id}").status_code == 200
    page = client.get("/admin/saisine/new/").text
    assert field(page, "department").name == "select"  # the mission chooses the department
    response = post_step(
        client,
        "/admin/saisine/new/",
        title="Schéma des solidarités",
        department="Direction de l'action sociale",
        objectives="Fixer les priorités.",
    )
    assert response.status_code == 302
    created = db.session.scalar(select(Demarche).where(Demarche.title.like("Schéma%")))
    assert created.department.name == "Direction de l'action sociale"


def test_step_pages_escape_what_was_typed(client, people, make_demarche):
    d = make_demarche("draft", objectives='<script>alert("x")</script>')
    login(client, people.agent)
    page = client.get(f"/admin/saisine/{d.id}/project/").text
    assert '<script>alert("x")</script>' not in page
    review = client.get(f"/admin/saisine/{d.id}/review/").text
    assert '<script>alert("x")</script>' not in review
    assert re.search(r"&lt;script&gt;alert\((&#34;|&quot;)x", review)
