"""The Flask-Admin back office: login, roles, CSRF, forms that follow the stage, moves."""

from __future__ import annotations

import re

from sqlalchemy import select

from backoffice.extensions import db
from tests.support import csrf_from, login
from workflows.models import Demarche, StageTransition
from workflows.stages import Stage


def test_every_back_office_page_wants_a_login(client, people):
    urls = ("/admin/", "/admin/demarche/", "/admin/user/", "/admin/demarche/new/")
    for url in (*urls, "/admin/saisine/new/", "/admin/saisine/1/review/"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


def test_the_login_page_speaks_french(client):
    page = client.get("/login").text
    assert '<html lang="fr">' in page
    assert "Mot de passe" in page and "Connexion" in page


def test_only_administrators_manage_accounts(client, people):
    login(client, people.mission)
    assert client.get("/admin/user/").status_code == 403
    assert "Accès refusé" in client.get("/admin/department/").text
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/admin/").text)})
    login(client, people.admin)
    page = client.get("/admin/user/").text
    assert people.agent.email in page and "Agent de service" in page


def test_an_agent_creates_a_draft_from_the_guided_form(client, people):
    login(client, people.agent)
    assert client.get("/admin/demarche/new/").headers["Location"] == "/admin/saisine/new/"
    form = client.get("/admin/saisine/new/").text
    assert 'name="department"' not in form  # an agent writes for their own department
    response = client.post(
        "/admin/saisine/new/",
        data={"csrf_token": csrf_from(form), "action": "save", "title": "Voie verte du canal"},
    )
    assert response.status_code == 302
    d = db.session.scalar(select(Demarche))
    assert (d.title, d.department, d.stage) == (
        "Voie verte du canal",
        people.agent.department,
        Stage.DRAFT,
    )
    sheet = client.get(f"/admin/demarche/details/?id={d.id}").text
    assert "Déposer la saisine" in sheet
    # The move is shown, disabled, with what is missing, in French.
    assert "objectifs manquants" in sheet and "calendrier souhaité manquant" in sheet


def test_a_form_without_csrf_token_is_refused(client, people):
    login(client, people.agent)
    for url in ("/admin/demarche/new/", "/admin/saisine/new/"):
        response = client.post(url, data={"title": "Sans jeton", "action": "save"})
        assert response.status_code == 400, url
        assert "Le formulaire a expiré" in response.text
    assert db.session.scalar(select(Demarche)) is None


def move(client, d, to, seen, comment="", token=None):
    """Post the sheet's move form as a browser would (with the page's CSRF token)."""
    token = token or csrf_from(client.get(f"/admin/demarche/details/?id={d.id}").text)
    return client.post(
        "/admin/demarche/move/",
        data={
            "csrf_token": token,
            "id": d.id,
            "to": to,
            "from": seen,
            "comment": comment,
        },
    )


def test_the_mission_accepts_a_saisine_and_the_timeline_shows_it(client, people, make_demarche):
    d = make_demarche("submitted")
    login(client, people.mission)
    sheet = client.get(f"/admin/demarche/details/?id={d.id}").text
    for label in ("Accepter la saisine", "Renvoyer au service", "Refuser la saisine"):
        assert label in sheet
    response = move(client, d, "launch", "submitted", "Bonne idée", token=csrf_from(sheet))
    assert response.status_code == 302
    sheet = client.get(response.headers["Location"]).text
    assert "La démarche est maintenant à l’étape « Lancement »" in sheet
    timeline = sheet[sheet.index("Historique") :]
    assert re.search(
        r"Marc Mission</strong>\s*: Saisine déposée → <strong>Lancement</strong>", timeline
    )
    assert "Bonne idée" in timeline and "Rita Routes" in timeline


def test_a_refused_move_explains_itself_and_keeps_the_comment(client, people, make_demarche):
    d = make_demarche("submitted")
    login(client, people.mission)
    response = move(client, d, "returned", "submitted", comment=" ")
    assert response.status_code == 409
    assert "un motif est obligatoire pour cette décision" in response.text
    stale = move(client, d, "launch", "draft", comment="vieux")
    assert stale.status_code == 409
    assert "la démarche a changé entre-temps" in stale.text
    assert "vieux</textarea>" in stale.text
    assert db.session.scalars(select(StageTransition)).all() == d.transitions[:1]


def test_agent_text_is_escaped(client, people, make_demarche):
    d = make_demarche("submitted", title="<b>Gras</b>", objectives="<script>alert('x')</script>")
    login(client, people.mission)
    sheet = client.get(f"/admin/demarche/details/?id={d.id}").text
    assert "<script>alert('x')</script>" not in sheet
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in sheet
    listing = client.get("/admin/demarche/").text
    assert "<b>Gras</b>" not in listing and "&lt;b&gt;Gras&lt;/b&gt;</a>" in listing
    home = client.get("/admin/").text
    assert "<b>Gras</b>" not in home and "&lt;b&gt;Gras&lt;/b&gt;" in home


def test_departments_see_their_own_and_officials_read_theirs(client, people, make_demarche):
    mine = make_demarche("draft", title="Routes")
    theirs = make_demarche(
        "draft", title="Social", agent=people.other_agent, elected_official=people.other_elected
    )
    login(client, people.agent)
    listing = client.get("/admin/demarche/").text
    assert "Routes" in listing and "Social" not in listing
    assert (
        "n’existe pas ou ne vous est pas accessible"
        in client.get(f"/admin/demarche/details/?id={theirs.id}", follow_redirects=True).text
    )
    client.post("/logout", data={"csrf_token": csrf_from(listing)})

    login(client, people.elected)
    listing = client.get("/admin/demarche/").text
    assert "Routes" in listing and "Social" not in listing
    sheet = client.get(f"/admin/demarche/details/?id={mine.id}").text
    assert "Aucun changement d’étape ne vous est ouvert" in sheet
    assert client.get("/admin/demarche/new/").status_code == 302  # no create for officials
    assert client.get(f"/admin/demarche/edit/?id={mine.id}").status_code == 302


def test_the_mission_filters_by_stage_department_territory_and_official(
    client, people, make_demarche
):
    make_demarche("submitted", title="Alpha", territory="Revel")
    make_demarche(
        "draft",
        title="Beta",
        agent=people.other_agent,
        territory="Muret",
        elected_official=people.other_elected,
    )
    login(client, people.mission)
    listing = client.get("/admin/demarche/").text
    assert "Alpha" in listing and "Beta" in listing
    # Flask-Admin filters: flt<n>_<index> in the order of DemarcheView.column_filters.
    by_stage = client.get("/admin/demarche/?flt0_0=submitted").text
    assert "Alpha" in by_stage and "Beta" not in by_stage
    by_territory = client.get("/admin/demarche/?flt0_2=Muret").text
    assert "Beta" in by_territory and "Alpha" not in by_territory
    by_official = client.get(f"/admin/demarche/?flt0_3={people.other_elected.id}").text
    assert "Beta" in by_official and "Alpha" not in by_official
    by_department = client.get(f"/admin/demarche/?flt0_1={people.agent.department_id}").text
    assert "Alpha" in by_department and "Beta" not in by_department
    assert "Élodie Élue" in listing  # the officials are offered as filter options


def test_the_admin_adds_an_elected_official_and_an_agent(client, people):
    from workflows.models import Role, User

    login(client, people.admin)
    form = client.get("/admin/elected/new/").text
    response = client.post(
        "/admin/elected/new/",
        data={
            "csrf_token": csrf_from(form),
            "name": "Sébastien Vincini",
            "position": "Président du Conseil départemental",
            "email": "President@cd31.fr",
            "active": "y",
        },
    )
    assert response.status_code == 302, response.text
    official = db.session.scalar(select(User).where(User.email == "president@cd31.fr"))
    assert official.role_names == {"elected"}
    assert "Sébastien Vincini" in client.get("/admin/elected/").text

    form = client.get("/admin/user/new/").text
    department_role = db.session.scalar(select(Role).where(Role.name == "department"))
    orphan = client.post(
        "/admin/user/new/",
        data={
            "csrf_token": csrf_from(form),
            "email": "agent@cd31.fr",
            "name": "Agent",
            "roles": str(department_role.id),
            "active": "y",
            "new_password": "un mot de passe",
        },
    )
    assert "un agent de service doit être rattaché à un service" in orphan.text
    assert db.session.scalar(select(User).where(User.email == "agent@cd31.fr")) is None
    created = client.post(
        "/admin/user/new/",
        data={
            "csrf_token": csrf_from(form),
            "email": "agent@cd31.fr",
            "name": "Agent",
            "roles": str(department_role.id),
            "department": str(people.agent.department_id),
            "active": "y",
            "new_password": "un mot de passe",
        },
    )
    assert created.status_code == 302, created.text
    agent = db.session.scalar(select(User).where(User.email == "agent@cd31.fr"))
    assert agent.department == people.agent.department
    assert agent.verify_and_update_password("un mot de passe")


def test_a_forgotten_password_is_reset_by_email_in_french(client, people, smtp, deliver):
    from workflows.models import OutboxMessage

    page = client.get("/reset").text
    response = client.post(
        "/reset", data={"email": people.agent.email, "csrf_token": csrf_from(page)}
    )
    assert response.status_code in (200, 302)
    # Flask-Security's email waits in the outbox like every other: nothing left yet …
    assert smtp.received == []
    queued = db.session.scalar(select(OutboxMessage))
    assert queued.recipient == people.agent and queued.template == "security"
    deliver()  # … until the workers send it
    [received] = smtp.to(people.agent.email)
    assert "mot de passe" in received.subject.lower()
    assert "http://localhost/reset/" in received.text
    db.session.refresh(queued)
    assert "/reset/" not in str(queued.context)  # the one-time link is not kept once sent
