"""Training sessions where people meet them: the mission records them in the back office
(refused values said beside their field, nothing saved), its home shows which departments
have trained agents and which have none; an agent submitting a saisine for a department with
none is nudged — on the guided saisine's confirmation, on the sheet, in the API — and one of
a trained department is not. The JSON API does what the back office does."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from backoffice.extensions import db
from tests.support import csrf_from, login
from workflows import training
from workflows.clock import local_date, utcnow
from workflows.models import AuditEntry, TrainingSession

NUDGE = "Votre direction n’a encore aucun agent formé à la participation citoyenne"


def today():
    return local_date(utcnow())


def record(people, days: int, attendees, theme: str = "Conduire une concertation", **fields):
    made = training.create_session(
        db.session,
        people.mission,
        {
            "date": today() + timedelta(days=days),
            "theme": theme,
            "attendees": [u.id for u in attendees],
            **fields,
        },
        as_of=utcnow(),
    )
    db.session.commit()
    return made


def test_the_mission_records_a_session_in_the_back_office(client, people, citizen):
    login(client, people.mission)
    form = client.get("/admin/training/new/").text
    # Attendees are chosen among the agents, by department, and the elected officials.
    assert '<optgroup label="Direction des routes">' in form
    assert f'<option value="{people.agent.id}">Rita Routes</option>' in form
    assert '<optgroup label="Élus">' in form and "Élodie Élue" in form
    choices = re.search(r'<select[^>]*name="attendees".*?</select>', form, re.S).group(0)
    assert "Élodie Élue" in choices and "Samuel Social" in choices
    assert "Claire Dubois" not in choices and "Marc Mission" not in choices
    values = {
        "csrf_token": csrf_from(form),
        "date": "",
        "theme": " ",
        "place": "Hôtel du Département",
        "format": "in_person",
        "attendees": [str(people.agent.id), str(citizen.id)],
        "notes": "",
    }
    refused = client.post("/admin/training/new/", data=values)
    assert refused.status_code == 200
    assert "la date de la session est nécessaire" in refused.text
    assert "le thème de la session est nécessaire" in refused.text
    assert "Claire Dubois n’est ni agent d’une direction ni élu·e" in refused.text
    assert 'value="Hôtel du Département"' in refused.text  # what was typed is kept
    assert db.session.scalar(select(TrainingSession)) is None

    values |= {
        "date": (today() - timedelta(days=3)).isoformat(),
        "theme": "Conduire une concertation",
        "attendees": [str(people.agent.id), str(people.elected.id)],
    }
    done = client.post("/admin/training/new/", data=values, follow_redirects=True)
    assert "La session de formation est enregistrée." in done.text
    made = db.session.scalar(select(TrainingSession))
    assert {u.id for u in made.attendees} == {people.agent.id, people.elected.id}
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "training.create"))
    assert entry.actor_id == people.mission.id and entry.target == f"training:{made.id}"

    details = client.get(f"/admin/training/details/?id={made.id}").text
    assert "Rita Routes (Direction des routes)" in details and "Élodie Élue (élu·e)" in details
    edit = client.get(f"/admin/training/edit/?id={made.id}").text
    assert re.search(
        rf'<option selected value="{people.agent.id}">|<option value="{people.agent.id}" selected',
        edit,
    )
    listing = client.get("/admin/training/").text
    assert "Conduire une concertation" in listing and "Hôtel du Département" in listing

    saved = client.post(
        f"/admin/training/edit/?id={made.id}",
        data={**values, "csrf_token": csrf_from(edit), "attendees": [str(people.agent.id)]},
        follow_redirects=True,
    )
    assert "La session de formation est enregistrée." in saved.text
    db.session.expire_all()
    assert [u.id for u in db.session.get(TrainingSession, made.id).attendees] == [people.agent.id]


def test_a_form_without_csrf_token_changes_nothing(client, people):
    login(client, people.mission)
    response = client.post(
        "/admin/training/new/",
        data={"date": today().isoformat(), "theme": "Sans jeton"},
    )
    assert response.status_code == 400
    assert db.session.scalar(select(TrainingSession)) is None


@pytest.mark.parametrize("who", ["agent", "elected"])
def test_agents_and_officials_do_not_enter_the_training_pages(client, people, who):
    made = record(people, -3, [people.agent])
    login(client, getattr(people, who))
    for url in ("/admin/training/", f"/admin/training/details/?id={made.id}"):
        assert client.get(url).status_code == 403
    assert "Agents formés par direction" not in client.get("/admin/").text


def test_the_missions_home_shows_departments_with_and_without_trained_agents(client, people):
    record(people, -10, [people.agent, people.elected])
    record(people, 12, [people.other_agent], theme="Écrire sa saisine")
    login(client, people.mission)
    home = client.get("/admin/").text
    assert "Agents formés par direction" in home
    assert "1 direction n’a aucun agent formé." in home
    routes = re.search(r"<td>Direction des routes</td>.*?</tr>", home, re.S).group(0)
    assert "Rita Routes" in routes
    social = re.search(
        r"<tr class=\"table-warning\">\s*<td>Direction de l&#39;action sociale", home
    )
    assert social, "the department without a trained agent stands out"
    assert "Écrire sa saisine" in home  # the next session


def submit_guided(client, d):
    review = client.get(f"/admin/saisine/{d.id}/review/").text
    response = client.post(
        f"/admin/saisine/{d.id}/submit/", data={"csrf_token": csrf_from(review), "from": "draft"}
    )
    assert response.status_code == 302
    return client.get(response.headers["Location"]).text


def test_an_untrained_department_is_nudged_when_it_submits(client, people, make_demarche):
    record(people, 15, [], theme="Écrire sa saisine", place="Muret")
    d = make_demarche("draft")
    login(client, people.agent)
    sent = submit_guided(client, d)
    assert "Saisine transmise" in sent
    assert NUDGE in sent
    assert "Écrire sa saisine" in sent and "(Muret)" in sent
    assert '<a href="/guide">Lire le guide de la démarche</a>' in sent


def test_a_trained_department_is_not_nudged(client, people, make_demarche):
    record(people, -400, [people.agent])
    d = make_demarche("draft")
    login(client, people.agent)
    sent = submit_guided(client, d)
    assert "Saisine transmise" in sent and NUDGE not in sent


def test_a_training_older_than_three_years_no_longer_counts(client, people, make_demarche):
    record(people, -3 * 366 - 1, [people.agent])
    d = make_demarche("draft")
    login(client, people.agent)
    assert NUDGE in submit_guided(client, d)


def test_the_sheet_nudges_too_and_the_mission_is_not_nudged(client, people, make_demarche):
    d = make_demarche("draft")
    login(client, people.agent)
    sheet = client.get(f"/admin/demarche/details/?id={d.id}").text
    moved = client.post(
        "/admin/demarche/move/",
        data={"csrf_token": csrf_from(sheet), "id": d.id, "to": "submitted", "from": "draft"},
        follow_redirects=True,
    )
    assert NUDGE in moved.text
    assert "Aucune session n’est encore prévue" in moved.text
    assert '<a href="/guide">Lire le guide</a>' in moved.text

    other = make_demarche("draft")
    client.post("/logout", data={"csrf_token": csrf_from(moved.text)})
    login(client, people.mission)
    sheet = client.get(f"/admin/demarche/details/?id={other.id}").text
    moved = client.post(
        "/admin/demarche/move/",
        data={"csrf_token": csrf_from(sheet), "id": other.id, "to": "submitted", "from": "draft"},
        follow_redirects=True,
    )
    assert "La démarche est maintenant à l’étape « Saisine déposée »." in moved.text
    assert NUDGE not in moved.text


def test_the_api_transition_carries_the_nudge(api, people, make_demarche):
    d = make_demarche("draft")
    moved = api(
        people.agent, "post", f"/api/v1/demarches/{d.id}/transitions", json={"to": "submitted"}
    )
    assert moved.status_code == 201
    assert moved.json["nudge"].startswith(NUDGE)
    assert moved.json["nudge"].endswith("Le guide : http://dialogue.test/guide")

    record(people, -1, [people.agent])
    again = make_demarche("draft")
    moved = api(
        people.agent, "post", f"/api/v1/demarches/{again.id}/transitions", json={"to": "submitted"}
    )
    assert moved.status_code == 201 and moved.json["nudge"] is None
    launched = api(
        people.mission, "post", f"/api/v1/demarches/{again.id}/transitions", json={"to": "launch"}
    )
    assert launched.status_code == 201 and launched.json["nudge"] is None


def test_the_api_records_sessions_as_the_back_office_does(api, people, citizen):
    new = {
        "date": (today() + timedelta(days=10)).isoformat(),
        "theme": "Écrire sa saisine",
        "format": "online",
        "attendees": [people.agent.id, people.elected.email],
    }
    assert api(people.agent, "post", "/api/v1/trainings", json=new).status_code == 403
    assert api(people.agent, "get", "/api/v1/trainings").status_code == 403
    refused = api(
        people.mission, "post", "/api/v1/trainings", json={**new, "attendees": [citizen.email]}
    )
    assert refused.status_code == 422
    assert refused.json["errors"]["attendees"] == [
        "Claire Dubois n’est ni agent d’une direction ni élu·e"
    ]
    bad_item = api(people.mission, "post", "/api/v1/trainings", json={**new, "attendees": [None]})
    assert bad_item.status_code == 422
    assert bad_item.json["errors"] == {"attendees": ["Valeur invalide."]}
    missing = api(people.mission, "post", "/api/v1/trainings", json={"theme": "Sans date"})
    assert missing.status_code == 422 and "date" in missing.json["errors"]

    made = api(people.mission, "post", "/api/v1/trainings", json=new)
    assert made.status_code == 201
    session_id = made.json["id"]
    assert made.headers["Location"].endswith(f"/api/v1/trainings/{session_id}")
    assert [(a["name"], a["role"], a["department"]) for a in made.json["attendees"]] == [
        ("Rita Routes", "department", "Direction des routes"),
        ("Élodie Élue", "elected", None),
    ]
    listed = api(people.mission, "get", "/api/v1/trainings?upcoming=true").json
    assert listed["total"] == 1 and listed["items"][0]["theme"] == "Écrire sa saisine"

    # Held yesterday instead: the roads department now has its trained agent.
    changed = api(
        people.mission,
        "patch",
        f"/api/v1/trainings/{session_id}",
        json={"date": (today() - timedelta(days=1)).isoformat(), "place": "Toulouse"},
    )
    assert changed.status_code == 200 and changed.json["place"] == "Toulouse"
    status = api(people.mission, "get", "/api/v1/trainings/departments").json
    assert status["valid_years"] == 3
    assert status["untrained"] == ["Direction de l'action sociale"]
    routes = next(i for i in status["items"] if i["department"] == "Direction des routes")
    assert routes["has_trained"] and [t["name"] for t in routes["trained"]] == ["Rita Routes"]
    # Judged four years on, nobody is trained any more.
    later = (today() + timedelta(days=4 * 365)).isoformat()
    status = api(people.mission, "get", f"/api/v1/trainings/departments?as_of={later}").json
    assert len(status["untrained"]) == 2

    assert api(people.mission, "delete", f"/api/v1/trainings/{session_id}").status_code == 204
    gone = api(people.mission, "get", f"/api/v1/trainings/{session_id}")
    assert gone.status_code == 404
    assert gone.json["message"] == f"pas de session de formation {session_id}"
    actions = [
        e.action
        for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.target == f"training:{session_id}")
        )
    ]
    assert actions == ["training.create", "training.update", "training.delete"]
