"""Text that shows nothing (zero-width characters, byte-order marks, bidi controls, blank
letters) is no title and no contribution; bidi overrides never reach the database; titles
stay on one line. One rule (workflows/text.py) for every field, from every door."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from backoffice.extensions import db
from tests import factories
from tests.support import csrf_from, login
from workflows import demarches
from workflows.clock import utcnow
from workflows.errors import InvalidFields
from workflows.imports import Importer
from workflows.items import add_item
from workflows.models import Contribution, Demarche, Item
from workflows.participants import participant_for_user

INVISIBLE = {
    "zero-width": "\u200b\u200c\u200d",
    "bom": "\ufeff",
    "bidi-override": "\u202e\u202d",
    "isolates": " \u2066\u2069\u200e ",
    "hangul-filler": "\u3164",
    "controls": "\x01\x1f\x7f",
    "combining": "\u0301\u0301",
}


@pytest.fixture(params=list(INVISIBLE), ids=list(INVISIBLE))
def invisible(request) -> str:
    return INVISIBLE[request.param] + " \n\t\u00a0"


def refusal(call) -> dict[str, str]:
    with pytest.raises(InvalidFields) as refused:
        call()
    return {field: str(message) for field, message in refused.value.errors.items()}


def test_no_title_made_of_invisible_characters(people, make_demarche, invisible):
    d = make_demarche("launch")
    now = utcnow()
    assert refusal(
        lambda: demarches.create_draft(db.session, people.agent, {"title": invisible}, as_of=now)
    ) == {"title": "title missing"}
    assert refusal(lambda: add_item(db.session, people.mission, d, title=invisible, as_of=now)) == {
        "title": "title missing"
    }
    assert refusal(
        lambda: factories.event(d, people.mission, title=invisible, place=invisible, as_of=now)
    ) == {"title": "title missing", "place": "place missing"}
    assert refusal(
        lambda: factories.mailing(people.mission, d, subject=invisible, body=invisible, as_of=now)
    ) == {"subject": "the subject is empty", "body": "the text is empty"}


def test_no_contribution_made_of_invisible_characters(people, citizen, make_demarche, invisible):
    d = make_demarche("consultation")
    author = participant_for_user(db.session, citizen, as_of=utcnow())
    assert refusal(
        lambda: factories.contribution(d, citizen, body=invisible, title=invisible, author=author)
    ) == {"body": "the text is empty"}
    preview = Importer(db.session, d, "csv").preview(f"item;text\n1;{invisible.strip()}\n".encode())
    assert [str(reason) for _, reason in preview.refused] == ["the text is empty"]
    db.session.rollback()
    assert db.session.scalar(select(func.count(Contribution.id))) == 0


def test_bidi_controls_never_reach_the_database(people, citizen, make_demarche):
    d = make_demarche("consultation")
    item = add_item(
        db.session, people.mission, d, title="Piste \u202ecod.exe\u202c cyclable", as_of=utcnow()
    )
    author = participant_for_user(db.session, citizen, as_of=utcnow())
    said = factories.contribution(
        d,
        citizen,
        body="\ufeffJe suis \u2067pour\u2069, \u202dvraiment\u202c.\u200b",
        title="\u202eTitre",
        author=author,
        item=item,
    )
    db.session.commit()
    assert item.title == "Piste cod.exe cyclable"
    assert said.body == "Je suis pour, vraiment.\u200b"  # a zero-width space shows nothing
    assert said.title == "Titre"


def test_titles_stay_on_one_line(client, people, make_demarche):
    d = make_demarche("launch")
    now = utcnow()
    item = add_item(db.session, people.mission, d, title="Option\r\ndu\n\nnord", as_of=now)
    event = factories.event(
        d,
        people.mission,
        kind="meeting",
        title="Réunion\u2028publique",
        place="Salle\ndes fêtes",
        as_of=now,
    )
    mailing = factories.mailing(
        people.mission,
        d,
        subject="Des nouvelles\r\nBcc: tous@exemple.fr",
        body="Bonjour,\n\nLa suite.",
        as_of=now,
    )
    db.session.commit()
    assert item.title == "Option du nord"
    assert (event.title, event.place) == ("Réunion publique", "Salle des fêtes")
    assert mailing.subject == "Des nouvelles Bcc: tous@exemple.fr"
    assert mailing.body == "Bonjour,\n\nLa suite."  # a body keeps its lines
    # A démarche's title from the back-office forms (a textarea would let a newline in):
    # the mission's, and the agent's guided saisine.
    for user, url in (
        (people.mission, "/admin/demarche/new/"),
        (people.agent, "/admin/saisine/new/"),
    ):
        login(client, user)
        page = client.get(url).text
        response = client.post(
            url,
            data={
                "csrf_token": csrf_from(page),
                "title": "Sur\ndeux lignes\u202e",
                "action": "save",
            },
        )
        assert response.status_code == 302
        assert db.session.scalar(select(Demarche.title).order_by(Demarche.id.desc())) == (
            "Sur deux lignes"
        )
        client.post("/logout", data={"csrf_token": csrf_from(page)})


def test_the_back_office_says_the_title_is_missing(client, people):
    login(client, people.mission)
    page = client.get("/admin/demarche/new/").text
    response = client.post(
        "/admin/demarche/new/", data={"csrf_token": csrf_from(page), "title": "\u200b\ufeff\u202e"}
    )
    assert response.status_code == 200 and "titre manquant" in response.text
    # The agent's guided form says it beside the field, for a draft as for « Continue ».
    client.post("/logout", data={"csrf_token": csrf_from(page)})
    login(client, people.agent)
    page = client.get("/admin/saisine/new/").text
    for action in ("save", "next"):
        response = client.post(
            "/admin/saisine/new/",
            data={"csrf_token": csrf_from(page), "title": "\u200b\ufeff\u202e", "action": action},
        )
        assert response.status_code == 422 and 'id="error-title"' in response.text
        assert "titre manquant" in response.text
    assert db.session.scalar(select(func.count(Demarche.id))) == 0


def test_an_xlsx_export_survives_control_characters_stored_before(client, people, make_demarche):
    d = make_demarche("consultation")
    factories.contribution(d, people.mission, body="Avis")
    db.session.commit()
    # As a row written before the rule: a vertical tab and a bell in the text.
    db.session.execute(
        Contribution.__table__.update().values(body="Avant\x0b\x07après"),
    )
    db.session.commit()
    login(client, people.mission)
    page = client.get(f"/admin/demarche/details/?id={d.id}").text
    response = client.post(
        "/admin/demarche/export/",
        data={"csrf_token": csrf_from(page), "id": d.id, "format": "xlsx"},
    )
    assert response.status_code == 200
    assert db.session.scalar(select(func.count(Item.id))) == 1
