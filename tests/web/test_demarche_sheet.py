"""The démarche sheet shows what makes sense at the stage, the mission's reason on a returned
saisine, the charter's rows by submission, and a refused form with its message inside it;
each action of the back office says once that it is done (issue 12)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup

from backoffice.extensions import db
from tests import factories
from tests.support import login, post_form
from workflows import questions
from workflows.clock import utcnow
from workflows.items import ITEM_STAGES
from workflows.stages import Stage
from workflows.transitions import transition


def sheet(client, d) -> BeautifulSoup:
    response = client.get(f"/admin/demarche/details/?id={d.id}")
    assert response.status_code == 200
    return BeautifulSoup(response.text, "html.parser")


def headings(soup: BeautifulSoup) -> list[str]:
    return [" ".join(h.get_text().split()) for h in soup.select("main h2, main h3")]


def flashes(html: str) -> list[str]:
    """The messages shown above the page (Flask-Admin's flashed alerts)."""
    soup = BeautifulSoup(html, "html.parser")
    return [
        " ".join(a.get_text(" ").replace("×", "").split())
        for a in soup.select(".alert-dismissable")
    ]


def follow(client, response) -> str:
    assert response.status_code == 302, response.text[:500]
    return client.get(response.location).text


# -- blocks by stage ---------------------------------------------------------------------------


@pytest.mark.parametrize("stage", ["draft", "submitted", "returned"])
def test_a_saisine_sheet_shows_no_consultation_block_but_its_items(
    client, people, make_demarche, stage
):
    d = make_demarche(stage)
    login(client, people.mission)
    soup = sheet(client, d)
    text = soup.get_text(" ")
    seen = headings(soup)
    for absent in ("Événements", "Contributions", "Envois", "La démarche"):
        assert absent not in seen, absent
    assert "Exporter les contributions" not in text
    assert "Importer des contributions" not in text
    assert "Organiser un événement" not in text
    assert "Page publique" not in text
    assert "La synthèse" not in text
    # Items are prepared with the saisine where the domain allows it (ITEM_STAGES).
    assert ("Éléments soumis à consultation" in seen) == (Stage(stage) in ITEM_STAGES)
    assert ("La consultation" in seen) == (Stage(stage) in ITEM_STAGES)


def test_a_rejected_saisine_has_no_consultation_heading_left_empty(client, people, make_demarche):
    d = make_demarche("rejected")
    login(client, people.mission)
    seen = headings(sheet(client, d))
    assert "La consultation" not in seen
    assert "Éléments soumis à consultation" not in seen


def test_a_consultation_sheet_shows_its_blocks(client, people, make_demarche):
    d = make_demarche("consultation")
    factories.contribution(d, people.mission, body="Une piste protégée, enfin.")
    db.session.commit()
    login(client, people.mission)
    soup = sheet(client, d)
    seen, text = headings(soup), soup.get_text(" ")
    for present in ("La démarche", "La consultation", "Événements", "Contributions", "Envois"):
        assert present in seen, present
    assert "Exporter les contributions" in text
    assert "Importer des contributions" in text
    assert "Organiser un événement" in text
    assert soup.find("a", string="Page publique") is not None


def test_launch_offers_events_but_no_export_while_nothing_was_said(client, people, make_demarche):
    d = make_demarche("launch")
    login(client, people.mission)
    soup = sheet(client, d)
    text = soup.get_text(" ")
    assert "Organiser un événement" in text
    assert "Exporter les contributions" not in text
    assert "Importer des contributions" not in text  # recorded from the consultation on


# -- a returned saisine --------------------------------------------------------------------------


def _returned(make_demarche, people, reason: str):
    d = make_demarche("submitted", title="Saisine à reprendre")
    transition(db.session, d.id, "returned", actor=people.mission, as_of=utcnow(), comment=reason)
    db.session.commit()
    return d


def test_a_returned_saisine_shows_the_reason_and_what_to_change(client, people, make_demarche):
    d = _returned(make_demarche, people, "Précisez le public concerné\net le budget.")
    login(client, people.agent)
    soup = sheet(client, d)
    box = soup.find(id="returned")
    assert box is not None
    # At the top: before the saisine itself.
    assert soup.find_all("section")[0] is box
    assert "La mission a renvoyé cette saisine le" in box.get_text()
    assert "Précisez le public concerné\net le budget." in box.blockquote.get_text()
    change = box.find("a", string="Modifier la saisine")
    assert urlsplit(change["href"]).path == "/admin/demarche/edit/"
    assert "déposez de nouveau la saisine" in box.get_text()


def test_the_elected_official_reads_the_reason_without_a_link_to_change(
    client, people, make_demarche
):
    d = _returned(make_demarche, people, "Le calendrier est trop court.")
    login(client, people.elected)
    box = sheet(client, d).find(id="returned")
    assert "Le calendrier est trop court." in box.get_text()
    assert box.find("a") is None


def test_the_reason_goes_once_the_saisine_is_submitted_again(client, people, make_demarche):
    d = _returned(make_demarche, people, "Précisez le public.")
    transition(db.session, d.id, "submitted", actor=people.agent, as_of=utcnow())
    db.session.commit()
    login(client, people.agent)
    assert sheet(client, d).find(id="returned") is None


# -- the charter's rows by submission --------------------------------------------------------


def _charter_rows(soup: BeautifulSoup) -> list[str]:
    table = soup.find(id="charter-title").find_next("table")
    return [" ".join(row.td.get_text(" ").split()) for row in table.tbody.find_all("tr")]


def test_charter_rows_say_which_submission_they_belong_to(client, people, make_demarche):
    d = _returned(make_demarche, people, "Précisez le public.")
    transition(db.session, d.id, "submitted", actor=people.agent, as_of=utcnow())
    db.session.commit()
    login(client, people.mission)
    rows = _charter_rows(sheet(client, d))
    first = [r for r in rows if "1re transmission, le" in r]
    second = [r for r in rows if "2e transmission, le" in r]
    assert first and second
    assert len(first) == len(second)  # the same promises, started again by the new submission
    assert {r.split(" 1re")[0] for r in first} == {r.split(" 2e")[0] for r in second}


def test_a_single_submission_needs_no_label(client, people, make_demarche):
    d = make_demarche("submitted")
    login(client, people.mission)
    rows = _charter_rows(sheet(client, d))
    assert rows
    assert not any("transmission" in r for r in rows)


# -- a refused form keeps what was typed, the message inside it ----------------------------------


def _decision_form(soup: BeautifulSoup, item_id: int):
    return soup.find(id=f"decision-{item_id}").form


def _decide(client, people, make_demarche, outcome: str, justification: str):
    """The démarche's agent decides on the first item of a démarche at its synthesis, from the
    sheet: that item, and the answer."""
    d = make_demarche("synthesis")
    item = d.items[0]
    login(client, people.agent)
    response = post_form(
        client,
        f"/admin/demarche/details/?id={d.id}",
        {"id": d.id, "item_id": item.id, "outcome": outcome, "justification": justification},
        to="/admin/demarche/decide/",
    )
    return item, response


def test_a_refused_decision_keeps_the_choice_and_shows_the_message_in_the_form(
    client, people, make_demarche
):
    item, response = _decide(client, people, make_demarche, "partly_retained", "   ")
    assert response.status_code == 422
    soup = BeautifulSoup(response.text, "html.parser")
    form = _decision_form(soup, item.id)
    checked = form.find("input", attrs={"name": "outcome", "checked": True})
    assert checked["value"] == "partly_retained"
    justification = form.find("textarea", attrs={"name": "justification"})
    assert "is-invalid" in justification["class"]
    assert justification.has_attr("autofocus")
    message = form.find(id=justification["aria-describedby"])
    assert message.get_text(strip=True) == "la justification manque"
    assert flashes(response.text) == []  # not above the page, out of sight


def test_a_decision_with_an_unknown_outcome_is_told_beside_the_choices(
    client, people, make_demarche
):
    item, response = _decide(client, people, make_demarche, "peut-être", "Nous verrons.")
    assert response.status_code == 422
    form = _decision_form(BeautifulSoup(response.text, "html.parser"), item.id)
    assert form.find("textarea").get_text() == "Nous verrons."
    fieldset = form.fieldset
    assert "décision inconnue" in fieldset.find(id=fieldset["aria-describedby"]).get_text()


def test_a_saved_decision_is_said_once(client, people, make_demarche):
    item, response = _decide(client, people, make_demarche, "retained", "Le tracé nord est retenu.")
    assert flashes(follow(client, response)) == [f"Décision sur « {item.title} » enregistrée."]


def test_a_refused_move_keeps_its_comment_and_says_why_inside_its_form(
    client, people, make_demarche
):
    d = make_demarche("consultation")
    login(client, people.mission)
    response = post_form(
        client,
        f"/admin/demarche/details/?id={d.id}",
        {"id": d.id, "from": "consultation", "to": "synthesis", "comment": "  "},
        to="/admin/demarche/move/",
    )
    assert response.status_code == 409
    soup = BeautifulSoup(response.text, "html.parser")
    comment = soup.find(id="comment-synthesis")
    form = comment.find_parent("form")
    alert = form.find(id=comment["aria-describedby"])
    assert "indiquez le motif de la clôture anticipée" in alert.get_text()
    assert alert["role"] == "alert"
    assert comment.has_attr("autofocus")
    assert flashes(response.text) == []


def test_a_refused_address_at_an_event_keeps_what_was_typed(client, people, make_demarche):
    d = make_demarche("consultation")
    event = factories.event(d, people.mission)
    db.session.commit()
    login(client, people.mission)
    response = post_form(
        client,
        f"/admin/event/details/?id={event.id}",
        {
            "id": event.id,
            "item_id": d.items[0].id,
            "kind": "proposal",
            "body": "Un parking vélo près du collège.",
            "author_email": "claire@",
            "author_name": "Claire",
            "commune": "Muret",
        },
        to="/admin/event/collected/",
    )
    assert response.status_code == 422
    soup = BeautifulSoup(response.text, "html.parser")
    email = soup.find(id="author_email")
    assert email["value"] == "claire@"
    assert "is-invalid" in email["class"]
    assert soup.find(id=email["aria-describedby"]).get_text() == "adresse électronique invalide"
    assert soup.find(id="body").get_text() == "Un parking vélo près du collège."
    assert soup.find(id="author_name")["value"] == "Claire"
    assert soup.find(id="commune")["value"] == "Muret"
    assert soup.find(id="kind").find("option", selected=True)["value"] == "proposal"
    assert flashes(response.text) == []


# -- one confirmation per action ----------------------------------------------------------------

SAISINE = {
    "title": "Parc de la Ramée",
    "objectives": "Choisir les usages du parc.",
    "public": "Habitants",
    "desired_calendar": "Printemps",
}


def test_creating_and_changing_a_demarche_says_so_once(client, people):
    # The mission's generic form (agents write theirs in the guided form).
    login(client, people.mission)
    saisine = {**SAISINE, "department": str(people.agent.department_id)}
    created = post_form(client, "/admin/demarche/new/", saisine)
    assert flashes(follow(client, created)) == [
        "Brouillon enregistré. Déposez la saisine auprès de la mission quand elle est complète."
    ]
    edit_url = urlsplit(created.location)._replace(path="/admin/demarche/edit/").geturl()
    changed = post_form(client, edit_url, {**saisine, "public": "Tout le monde"})
    assert flashes(follow(client, changed)) == ["La démarche est enregistrée."]
    same = post_form(client, edit_url, {**saisine, "public": "Tout le monde"})
    assert flashes(follow(client, same)) == ["Aucune modification."]


def test_adding_changing_and_deleting_an_item_says_so_once(client, people, make_demarche):
    d = make_demarche("launch")
    login(client, people.agent)
    url = f"/admin/item/new/?demarche_id={d.id}"
    created = post_form(client, url, {"title": "Option nord"})
    assert flashes(follow(client, created)) == ["L’élément est ajouté à la consultation."]
    item = next(i for i in d.items if i.title == "Option nord")
    edit = f"/admin/item/edit/?id={item.id}"
    saved = post_form(client, edit, {"title": "Option du nord"})
    assert flashes(follow(client, saved)) == ["L’élément est enregistré."]
    deleted = post_form(client, "/admin/item/", {"id": item.id}, to="/admin/item/delete/")
    assert flashes(follow(client, deleted)) == ["L’élément est supprimé."]


def test_a_refused_item_is_told_beside_its_field_once(client, people, make_demarche):
    d = make_demarche("launch")
    login(client, people.agent)
    url = f"/admin/item/new/?demarche_id={d.id}"
    response = post_form(client, url, {"title": "x" * 400})
    assert response.status_code == 200
    assert flashes(response.text) == [
        "Rien n’est enregistré : corrigez les champs signalés ci-dessous."
    ]
    soup = BeautifulSoup(response.text, "html.parser")
    title = soup.find(id="title")
    assert "is-invalid" in title["class"]
    assert title["value"] == "x" * 400
    assert "caractères" in title.find_next(class_="invalid-feedback").get_text()


def test_a_department_is_created_and_renamed_with_one_message_each(client, people):
    login(client, people.admin)
    created = post_form(client, "/admin/department/new/", {"name": "Direction des sports"})
    assert flashes(follow(client, created)) == ["Le service est créé."]
    twice = post_form(client, "/admin/department/new/", {"name": "Direction des sports"})
    # Flask-Admin's check of the unique name: under the field, one line above, in French.
    assert flashes(twice.text) == [
        "Rien n’est enregistré : corrigez les champs signalés ci-dessous."
    ]
    assert (
        BeautifulSoup(twice.text, "html.parser")
        .find(id="name")
        .find_next(class_="invalid-feedback")
    )


def test_a_move_is_said_once(client, people, make_demarche):
    d = make_demarche("submitted")
    login(client, people.mission)
    response = post_form(
        client,
        f"/admin/demarche/details/?id={d.id}",
        {"id": d.id, "from": "submitted", "to": "launch"},
        to="/admin/demarche/move/",
    )
    assert flashes(follow(client, response)) == [
        "La démarche est maintenant à l’étape « Lancement »."
    ]


# -- the timeline speaks French ------------------------------------------------------------------


def test_the_timeline_shows_no_raw_action_key(client, people, make_demarche):
    d = make_demarche("consultation")
    question = factories.contribution(d, people.mission, kind="question", body="Et les piétons ?")
    db.session.commit()
    questions.answer(db.session, people.agent, question, "Un trottoir élargi.", as_of=utcnow())
    db.session.commit()
    closed = make_demarche("closed", title="Une démarche close")
    login(client, people.mission)
    timeline = sheet(client, d).find(class_="timeline").get_text(" ")
    assert "a répondu à la question d’un citoyen" in timeline
    closed_timeline = sheet(client, closed).find(class_="timeline").get_text(" ")
    assert "a publié la synthèse" in closed_timeline
    for text in (timeline, closed_timeline):
        assert re.findall(r"\b[a-z_]+\.[a-z_]+\b", text) == []
