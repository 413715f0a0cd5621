"""``/api/v1/demarches/{id}/items`` and ``…/contributions``: rights, rules, pagination, CSV."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from backoffice.extensions import db
from workflows.models import AuditEntry, Contribution, Participant


def test_items_are_prepared_by_the_mission_and_the_department(api, people, make_demarche, citizen):
    d = make_demarche("launch")
    url = f"/api/v1/demarches/{d.id}/items"
    created = api(people.agent, "post", url, json={"title": "Option A", "text": "Un tracé"})
    assert created.status_code == 201 and created.json["position"] == 1
    assert api(people.mission, "post", url, json={"title": "Option B"}).json["position"] == 2
    assert api(people.other_agent, "post", url, json={"title": "X"}).status_code == 404
    assert api(people.elected, "post", url, json={"title": "X"}).status_code == 403
    assert api(citizen, "post", url, json={"title": "X"}).status_code == 404
    missing = api(people.mission, "post", url, json={"text": "sans titre"})
    assert missing.status_code == 422 and missing.json["errors"]["title"]
    listed = api(people.mission, "get", url).json
    assert [i["title"] for i in listed["items"]] == ["Option A", "Option B"]
    assert api(citizen, "get", url).status_code == 200  # a launched démarche is public


def test_a_citizen_contributes_online_as_themself(api, make_demarche, citizen):
    d = make_demarche("consultation")
    url = f"/api/v1/demarches/{d.id}/contributions"
    created = api(
        citizen,
        "post",
        url,
        json={
            "item_id": d.items[0].id,
            "body": "Par l'API",
            "kind": "question",
            "commune": "Blagnac",
        },
    )
    assert created.status_code == 201, created.json
    body = created.json
    assert (body["channel"], body["kind"], body["canton_code"]) == ("online", "question", "3103")
    assert body["author_name"] == "Claire Dubois" and body["author_email"] is None
    on_paper = api(
        citizen, "post", url, json={"item_id": d.items[0].id, "body": "x", "channel": "mail"}
    )
    assert on_paper.status_code == 403


def test_the_mission_records_a_paper_form_for_its_author(api, make_demarche, people):
    d = make_demarche("consultation")
    url = f"/api/v1/demarches/{d.id}/contributions"
    created = api(
        people.mission,
        "post",
        url,
        json={
            "item_id": d.items[0].id,
            "body": "Formulaire papier",
            "channel": "mail",
            "author_email": "Papier@Exemple.fr",
            "author_name": "Paule",
        },
    )
    assert created.status_code == 201
    assert created.json["author_email"] == "papier@exemple.fr"
    author = db.session.scalar(select(Participant).where(Participant.email == "papier@exemple.fr"))
    assert author.consent_feedback is True  # the default the charter promises
    agent_online = api(
        people.agent, "post", url, json={"item_id": d.items[0].id, "body": "x", "channel": "online"}
    )
    assert agent_online.status_code == 403  # online is for citizens; agents record channels
    other_department = api(
        people.other_agent, "post", url, json={"item_id": d.items[0].id, "body": "x"}
    )
    assert other_department.status_code == 404


def test_rules_and_messages_are_those_of_the_pages(api, make_demarche, citizen):
    closed = make_demarche("synthesis")
    url = f"/api/v1/demarches/{closed.id}/contributions"
    late = api(citizen, "post", url, json={"item_id": closed.items[0].id, "body": "Trop tard"})
    assert late.status_code == 409
    assert late.json["message"] == (
        "la consultation n’est pas ouverte : la démarche est à l’étape « Synthèse »"
    )
    d = make_demarche("consultation")
    url = f"/api/v1/demarches/{d.id}/contributions"
    wrong = api(citizen, "post", url, json={"item_id": 999, "body": " ", "kind": "avis"})
    assert wrong.status_code == 422
    assert set(wrong.json["errors"]) == {"kind"}
    wrong_item = api(citizen, "post", url, json={"item_id": 999, "body": " "})
    assert set(wrong_item.json["errors"]) == {"body", "item_id"}


def test_lists_are_paginated_and_citizens_see_what_is_published(
    api, make_demarche, people, citizen
):
    d = make_demarche("consultation", hold_for_review=True)
    url = f"/api/v1/demarches/{d.id}/contributions"
    for n in range(7):
        api(people.mission, "post", url, json={"item_id": d.items[0].id, "body": f"Avis {n}"})
    api(citizen, "post", url, json={"item_id": d.items[0].id, "body": "En attente"})
    page = api(people.mission, "get", f"{url}?per_page=3&page=3").json
    assert (page["total"], len(page["items"])) == (8, 2)
    public = api(citizen, "get", url).json
    assert public["total"] == 7 and all(c["status"] == "published" for c in public["items"])
    assert api(people.mission, "get", f"{url}?status=pending").json["total"] == 1


def test_the_csv_export_is_safe_and_personal_data_is_the_missions_choice(
    api, make_demarche, people, citizen
):
    d = make_demarche("consultation")
    url = f"/api/v1/demarches/{d.id}/contributions"
    api(
        people.mission,
        "post",
        url,
        json={
            "item_id": d.items[0].id,
            "channel": "mail",
            "body": '=HYPERLINK("http://x")',
            "author_email": "auteur@exemple.fr",
        },
    )
    plain = api(people.agent, "get", f"{url}?format=csv")
    assert plain.status_code == 200 and plain.mimetype == "text/csv"
    assert plain.headers["Content-Type"] == "text/csv; charset=utf-8"  # one charset, not two
    rows = list(csv.reader(io.StringIO(plain.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["id", "item", "kind"] and "author_email" not in rows[0]
    assert rows[1][5] == '\'=HYPERLINK("http://x")'  # shown, never run
    assert api(people.agent, "get", f"{url}?format=csv&personal=true").status_code == 403
    assert api(citizen, "get", f"{url}?format=csv").status_code == 403
    personal = api(people.mission, "get", f"{url}?format=csv&personal=true")
    assert "auteur@exemple.fr" in personal.data.decode("utf-8-sig")
    audits = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action == "contributions.export")
        .order_by(AuditEntry.id)
    ).all()
    assert [a.data["personal"] for a in audits] == [False, True]
    assert db.session.scalar(select(Contribution.body)).startswith("=HYPERLINK")
