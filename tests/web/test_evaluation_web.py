"""The evaluation on the démarche's sheet (indicators, formulas on demand, the self-assessment
filled by the department and reviewed by the mission), in the API, on the public page of a
closed démarche, and the command that freezes the evaluations of older closed démarches."""

from __future__ import annotations

from bs4 import BeautifulSoup
from sqlalchemy import delete, select

from backoffice.extensions import db
from tests import factories
from tests.support import login, logout, post_form
from workflows import evaluation
from workflows.clock import utcnow
from workflows.models import FrozenEvaluation, SelfAssessment, SelfAssessmentStatus

ANSWERS = {"venues": "most", "outreach": "one", "means": "partly"}


def sheet(client, d) -> BeautifulSoup:
    response = client.get(f"/admin/demarche/details/?id={d.id}")
    assert response.status_code == 200
    return BeautifulSoup(response.text, "html.parser")


def text_of(node) -> str:
    return " ".join(node.get_text(" ").split())


# -- the sheet ------------------------------------------------------------------------------------


def test_the_sheet_shows_each_dimension_with_values_scores_and_formulas(
    client, people, make_demarche
):
    d = make_demarche("consultation")
    author = factories.participant("ana@exemple.fr")
    factories.contribution(d, people.mission, author=author, commune="Portet-sur-Garonne")
    db.session.commit()
    login(client, people.agent)
    soup = sheet(client, d)
    section = soup.select_one("#evaluation")
    assert section is not None
    captions = [text_of(c).split(" — ")[0] for c in section.select("table.evaluation > caption")]
    assert captions == [
        "Cadrage",
        "Échéances de la charte",
        "Retour aux citoyens",
        "Influence",
        "Transparence",
        "Mobilisation",
        "Expérience des participants",
    ]
    row = section.select_one("#indicator-mobilisation_per_1000")
    assert "Participants pour 1 000 habitants" in text_of(row.th)
    cells = row.find_all("td", recursive=False)
    # One person in the canton of Portet-sur-Garonne (53,041 inhabitants).
    assert text_of(cells[0]) == "0,02 pour 1 000 habitants" and text_of(cells[1]) == "1/5"
    formula = row.select_one("details")
    assert "habitants du territoire de la démarche × 1" in text_of(formula)
    assert "Portet-sur-Garonne" in text_of(formula.select_one("table"))
    survey = section.select_one("#indicator-survey_sent")
    assert "non calculé : le questionnaire part après le retour aux participants" in text_of(survey)
    assert "Calculée à partir du dossier" in text_of(section)


def test_no_evaluation_on_a_saisine(client, people, make_demarche):
    d = make_demarche("submitted")
    login(client, people.mission)
    assert sheet(client, d).select_one("#evaluation") is None


def test_the_department_fills_the_self_assessment_and_the_mission_reviews_it(
    client, people, make_demarche
):
    d = make_demarche("synthesis")
    url = f"/admin/demarche/details/?id={d.id}"
    login(client, people.agent)
    refused = post_form(
        client,
        url,
        {"id": d.id, "venues": "all", "outreach_comment": "Un stand au marché."},
        to="/admin/demarche/self-assessment/",
    )
    assert refused.status_code == 422
    soup = BeautifulSoup(refused.text, "html.parser")
    form = soup.select_one("#self-assessment-form")
    assert text_of(form.select_one("#sa-outreach-error")) == "choisissez l’une des réponses"
    assert form.select_one("#sa-venues-all").has_attr("checked")  # what was typed is kept
    assert form.select_one("#sa-outreach-comment").get_text() == "Un stand au marché."
    assert db.session.scalar(select(SelfAssessment)) is None

    done = post_form(
        client,
        url,
        {"id": d.id, **ANSWERS, "notes": "Le soir, plutôt."},
        to="/admin/demarche/self-assessment/",
    )
    assert done.status_code == 302
    shown = text_of(sheet(client, d).select_one("#evaluation"))
    assert "En attente de l’examen de la mission" in shown and "Le soir, plutôt." in shown
    assert sheet(client, d).select_one("#self-assessment-review") is None  # not the agent's

    logout(client)
    login(client, people.mission)
    page = sheet(client, d)
    assert page.select_one("#self-assessment-review") is not None
    refused = post_form(
        client,
        url,
        {"id": d.id, "decision": "complete"},
        to="/admin/demarche/self-assessment/review/",
    )
    assert refused.status_code == 422
    error = BeautifulSoup(refused.text, "html.parser").select_one("#review-comment-error")
    assert text_of(error) == "dites ce que le service doit compléter"
    done = post_form(
        client,
        url,
        {"id": d.id, "decision": "complete", "comment": "Précisez les horaires."},
        to="/admin/demarche/self-assessment/review/",
    )
    assert done.status_code == 302
    found = db.session.scalar(select(SelfAssessment))
    db.session.refresh(found)
    assert found.status == SelfAssessmentStatus.TO_COMPLETE
    assert "Précisez les horaires." in text_of(sheet(client, d).select_one("#evaluation"))


def test_an_agent_of_another_department_cannot_fill_it(client, people, make_demarche):
    d = make_demarche("synthesis")
    login(client, people.other_agent)
    response = post_form(
        client, "/admin/", {"id": d.id, **ANSWERS}, to="/admin/demarche/self-assessment/"
    )
    assert response.status_code == 302  # the démarche is not theirs to see
    assert db.session.scalar(select(SelfAssessment)) is None


# -- the API ---------------------------------------------------------------------------------


def test_the_api_gives_every_indicator_with_its_formula_and_counts(api, people, make_demarche):
    d = make_demarche("consultation")
    response = api(people.mission, "get", f"/api/v1/demarches/{d.id}/evaluation")
    assert response.status_code == 200, response.json
    body = response.json
    assert body["frozen_at"] is None and body["label"] is None
    assert body["proposed_label"]["level"] is None  # the feedback not sent yet: no gate holds
    assert body["self_assessment"] is None
    assert [x["code"] for x in body["dimensions"]] == list(evaluation.DIMENSION_LABELS)
    by_code = {i["code"]: i for i in body["indicators"]}
    assert set(by_code) == set(evaluation.CODES)
    framing = by_code["framing_public_before_opening"]
    assert framing["value"] == 1.0 and framing["score"] == 5
    assert framing["display"] == "5 sur 5" and framing["counted"] == {"elements": 5, "public": 5}
    assert framing["label"] == "Ce qu’il faut savoir pour participer, public avant l’ouverture"
    assert framing["formula"].startswith("éléments publics avant l’ouverture")
    questions = by_code["transparency_questions_answered"]
    assert questions["value"] is None and questions["score"] is None
    assert questions["missing"] == "aucune question posée"


def test_the_api_fills_and_reviews_the_self_assessment(api, people, make_demarche):
    d = make_demarche("feedback")
    url = f"/api/v1/demarches/{d.id}/self-assessment"
    bad = api(people.agent, "put", url, json={"venues": "toutes", "notes": "x" * 5001})
    assert bad.status_code == 422
    assert bad.json["errors"]["notes"] == ["5000 caractères au plus"]
    bad = api(people.agent, "put", url, json={"venues": "toutes"})
    assert bad.status_code == 422
    assert bad.json["errors"] == {
        "venues": ["réponse inconnue « toutes » : choisissez parmi all, most, few, no_venue"],
        "outreach": ["choisissez l’une des réponses"],
        "means": ["choisissez l’une des réponses"],
    }
    assert api(people.elected, "put", url, json=ANSWERS).status_code == 403
    assert api(people.other_agent, "put", url, json=ANSWERS).status_code == 404
    done = api(people.agent, "put", url, json={**ANSWERS, "means_comment": "Deux agents."})
    assert done.status_code == 200, done.json
    assert done.json["status"] == "submitted" and done.json["comments"] == {"means": "Deux agents."}

    review = f"{url}/review"
    assert api(people.agent, "post", review, json={"decision": "accept"}).status_code == 403
    no_reason = api(people.mission, "post", review, json={"decision": "complete"})
    assert no_reason.status_code == 422
    accepted = api(people.mission, "post", review, json={"decision": "accept", "comment": "Merci"})
    assert accepted.status_code == 200 and accepted.json["status"] == "accepted"
    assert accepted.json["review_comment"] == "Merci" and accepted.json["reviewed_by"]
    again = api(people.mission, "post", review, json={"decision": "accept"})
    assert again.status_code == 409
    seen = api(people.mission, "get", f"/api/v1/demarches/{d.id}/evaluation").json
    assert seen["self_assessment"]["status"] == "accepted"


def test_a_citizen_reads_the_evaluation_once_the_demarche_is_closed(
    api, people, citizen, make_demarche
):
    open_one = make_demarche("consultation", title="Encore ouverte")
    assert api(citizen, "get", f"/api/v1/demarches/{open_one.id}/evaluation").status_code == 404
    closed = make_demarche("closed", title="Close")
    evaluation.submit(db.session, people.agent, closed, answers=ANSWERS, as_of=utcnow())
    db.session.commit()
    body = api(citizen, "get", f"/api/v1/demarches/{closed.id}/evaluation").json
    assert body["frozen_at"] is not None and body["self_assessment"] is None


# -- the public page -------------------------------------------------------------------------------


def test_the_public_page_shows_the_evaluation_of_a_closed_demarche_only(
    client, people, make_demarche
):
    open_one = make_demarche("consultation", title="Encore ouverte")
    page = client.get(f"/demarches/{open_one.slug}")
    assert page.status_code == 200 and 'id="evaluation"' not in page.text
    closed = make_demarche("closed", title="Close")
    evaluation.submit(
        db.session,
        people.agent,
        closed,
        answers=ANSWERS,
        notes="Un texte interne au service.",
        as_of=utcnow(),
    )
    db.session.commit()
    page = client.get(f"/demarches/{closed.slug}")
    soup = BeautifulSoup(page.text, "html.parser")
    section = soup.select_one("#evaluation")
    assert section is not None
    assert "figée à sa clôture" in text_of(section)
    row = section.select_one("#indicator-framing_public_before_opening")
    assert [text_of(td) for td in row.find_all("td", recursive=False)] == ["5 sur 5", "5/5"]
    assert "Un texte interne au service." not in page.text


# -- the command -----------------------------------------------------------------------------


def test_the_command_freezes_the_closed_demarches_that_have_none(app, make_demarche):
    closed = make_demarche("closed")
    make_demarche("consultation", title="Ouverte")
    db.session.execute(delete(FrozenEvaluation))  # closed before evaluations were kept
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["evaluation", "freeze"])
    assert result.exit_code == 0, result.output
    assert "1 evaluations frozen." in result.output
    assert db.session.scalars(select(FrozenEvaluation.demarche_id)).all() == [closed.id]
    again = runner.invoke(args=["evaluation", "freeze"])
    assert "0 evaluations frozen." in again.output
