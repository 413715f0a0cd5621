"""The participants' survey on the web: the questionnaire a participant opens from their email
(no account, answered once, French messages, nothing written on a refusal), the sheet's results
and paper answers, the send button, and the API (aggregates hidden below the threshold for a
citizen, a paper answer typed by the mission)."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from backoffice import tokens
from backoffice.extensions import db
from tests.seed import address, seed_contributors
from tests.support import csrf_from, login, post_form
from workflows import survey
from workflows.clock import utcnow
from workflows.models import Mailing, MailingKind, Participant, SurveyAnswer, SurveyInvitation

GOOD = {s.code: "4" for s in survey.STATEMENTS}


@pytest.fixture
def minimum():
    was = survey.minimum()
    yield lambda n: survey.configure(minimum=n)
    survey.configure(minimum=was)


def text_of(node) -> str:
    return " ".join(node.get_text(" ").split())


def answers() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(SurveyAnswer))


@pytest.fixture
def link(app, make_demarche):
    """A participant's own questionnaire address, on a démarche at its feedback stage."""
    d = make_demarche("feedback", title="Mobilités du Lauragais")
    seed_contributors(db.session, d, 2, as_of=utcnow(), per_person=1)
    db.session.commit()
    participant = db.session.scalar(select(Participant).where(Participant.email == address(1)))
    nonce = survey.invitation_nonce(db.session, d.id, participant.id, as_of=utcnow())
    db.session.commit()
    with app.test_request_context():
        return f"/questionnaire/{tokens.survey_token(nonce)}"


def test_a_participant_answers_once_without_an_account(client, link):
    page = client.get(link)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    soup = BeautifulSoup(page.text, "html.parser")
    assert "Mobilités du Lauragais" in text_of(soup.main)
    legends = [text_of(f.legend) for f in soup.select("fieldset.survey-statement")]
    assert legends[0].startswith("1. J’ai eu les informations dont j’avais besoin")
    assert "Pas du tout d’accord" in text_of(soup.select_one("fieldset"))
    done = post_form(client, link, {**GOOD, "comment": "Très bien <b>organisé</b>."})
    assert done.status_code == 200 and "Merci : votre réponse est enregistrée" in done.text
    assert answers() == 1
    # The same link again: said in French, and the second answer is not kept.
    again = client.get(link)
    assert again.status_code == 409
    assert "Ce questionnaire a déjà reçu une réponse par ce lien" in again.text
    assert "<form" not in again.text.split("<main")[1].split("</main>")[0]
    twice = client.post(link, data={"csrf_token": csrf_from(page.text), **GOOD})
    assert twice.status_code == 409 and answers() == 1


def test_a_missing_or_wrong_answer_comes_back_in_french_and_nothing_is_written(client, link):
    missing = {k: v for k, v in GOOD.items() if k != "outcome"} | {"satisfaction": "9"}
    refused = post_form(client, link, {**missing, "comment": "Mon avis"})
    assert refused.status_code == 422
    soup = BeautifulSoup(refused.text, "html.parser")
    errors = text_of(soup.select_one("#survey-errors"))
    assert "choisissez l’une des réponses" in errors and "une réponse de 1 à 5" in errors
    outcome = soup.select_one("#outcome-error")
    assert outcome is not None and "choisissez l’une des réponses" in text_of(outcome)
    assert soup.select_one("#information-4").has_attr("checked")  # what was typed is kept
    assert soup.select_one("#comment").text == "Mon avis"
    assert answers() == 0
    assert db.session.scalar(select(SurveyInvitation.answered)) is False


def test_a_forged_link_says_so_and_writes_nothing(client, link):
    forged = link[:-3] + "abc"
    for url in (forged, "/questionnaire/exemple", "/questionnaire/" + "a" * 300):
        page = client.get(url)
        assert page.status_code == 404
        # The domain's fragment, shown alone, is written as a sentence.
        assert "Ce lien vers le questionnaire n’est pas valide" in page.text
        assert "copié en entier depuis le courriel.</p>" in page.text
    assert client.post(forged, data={"csrf_token": "x", **GOOD}).status_code in (400, 404)
    assert answers() == 0


def test_the_form_needs_its_csrf_token(client, link):
    client.get(link)
    assert client.post(link, data=GOOD).status_code == 400
    assert answers() == 0


# -- the back office ----------------------------------------------------------------------------


def sheet(client, d) -> BeautifulSoup:
    response = client.get(f"/admin/demarche/details/?id={d.id}")
    assert response.status_code == 200
    return BeautifulSoup(response.text, "html.parser")


def test_the_mission_types_paper_answers_and_reads_the_results(
    client, people, make_demarche, minimum
):
    minimum(2)
    d = make_demarche("consultation")
    login(client, people.mission)
    url = f"/admin/demarche/details/?id={d.id}"
    refused = post_form(
        client,
        url,
        {"id": d.id, **GOOD, "would_return": "7", "comment": "Papier"},
        to="/admin/demarche/survey/paper/",
    )
    assert refused.status_code == 422
    soup = BeautifulSoup(refused.text, "html.parser")
    assert "une réponse de 1 à 5" in text_of(soup.select_one("#paper-would_return-error"))
    assert soup.select_one("#paper-comment").text == "Papier" and answers() == 0
    for comment in ("Bien.", ""):
        done = post_form(
            client,
            url,
            {"id": d.id, **GOOD, "comment": comment, "age_band": "40_59"},
            to="/admin/demarche/survey/paper/",
        )
        assert done.status_code == 302
    assert answers() == 2
    section = sheet(client, d).select_one("#evaluation")
    assert "2 réponses (0 en ligne, 2 sur papier)" in text_of(section)
    row = section.select_one("#survey-satisfaction")
    assert text_of(row).endswith("4,0 100 %")
    assert "Bien." in text_of(section)  # the free texts, for the mission only


def test_others_may_not_type_paper_answers_and_see_no_free_text(
    client, people, make_demarche, minimum
):
    minimum(1)
    d = make_demarche("consultation")
    survey.add_paper_answer(
        db.session, people.mission, d, GOOD | {"comment": "Secret"}, as_of=utcnow()
    )
    db.session.commit()
    login(client, people.agent)
    soup = sheet(client, d)
    assert soup.select_one("#survey-paper-form") is None
    assert "Secret" not in soup.text and "1 réponses" in text_of(soup.select_one("#evaluation"))
    url = f"/admin/demarche/details/?id={d.id}"
    refused = post_form(client, url, {"id": d.id, **GOOD}, to="/admin/demarche/survey/paper/")
    assert refused.status_code == 403 and answers() == 1


def test_the_mission_sends_the_survey_from_the_sheet_once(client, people, make_demarche):
    d = make_demarche("feedback")
    login(client, people.mission)
    url = f"/admin/demarche/details/?id={d.id}"
    assert sheet(client, d).select_one("form[action$='/survey/send/']") is not None
    assert (
        post_form(client, url, {"id": d.id}, to="/admin/demarche/survey/send/").status_code == 302
    )
    assert sheet(client, d).select_one("form[action$='/survey/send/']") is None
    post_form(client, url, {"id": d.id}, to="/admin/demarche/survey/send/")
    made = db.session.scalars(select(Mailing).where(Mailing.kind == MailingKind.SURVEY)).all()
    assert len(made) == 1 and made[0].key == f"survey:demarche:{d.id}"


# -- the API ------------------------------------------------------------------------------------


def test_the_api_hides_the_aggregates_below_the_threshold_for_a_citizen(
    api, people, citizen, make_demarche, minimum
):
    minimum(2)
    d = make_demarche("feedback")
    url = f"/api/v1/demarches/{d.id}/survey"
    done = api(people.mission, "post", url + "/answers", json={**GOOD, "satisfaction": 5})
    assert done.status_code == 201 and done.json == {"answers": 1}
    public = api(citizen, "get", url).json
    assert public["published"] is False and public["statements"] == []
    assert public["missing"] == "trop peu de réponses pour publier"
    assert public["response_rate"] is None and public["answers"] == 1
    staff = api(people.agent, "get", url).json
    assert staff["published"] is False and len(staff["statements"]) == len(survey.STATEMENTS)
    api(people.mission, "post", url + "/answers", json={**GOOD, "first_time": "no"})
    public = api(citizen, "get", url).json
    assert public["published"] is True and public["missing"] is None
    satisfaction = next(s for s in public["statements"] if s["code"] == "satisfaction")
    assert satisfaction["distribution"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 1}
    assert satisfaction["agreeing"] == 1.0 and satisfaction["mean"] == 4.5
    assert satisfaction["statement"] == "Dans l’ensemble, je suis satisfait·e de cette démarche."
    assert public["first_time"] == {"yes": 0, "no": 1, "unsaid": 1}
    assert "comment" not in str(public)


def test_the_api_refuses_a_wrong_paper_answer_in_french(api, people, make_demarche):
    d = make_demarche("consultation")
    url = f"/api/v1/demarches/{d.id}/survey/answers"
    bad = api(people.mission, "post", url, json={**GOOD, "outcome": 8})
    assert bad.status_code == 422 and "une réponse de 1 à 5" in str(bad.json["errors"]["outcome"])
    assert api(people.mission, "post", url, json={**GOOD, "listened": None}).status_code == 422
    missing = {k: int(v) for k, v in GOOD.items() if k != "changeable"}
    refused = api(people.mission, "post", url, json=missing)
    assert refused.status_code == 422 and "choisissez l’une des réponses" in str(refused.json)
    assert api(people.agent, "post", url, json=GOOD).status_code == 403
    unknown = api(people.mission, "post", url, json={**GOOD, "name": "Camille"})
    assert unknown.status_code == 422
    draft = make_demarche("draft")
    early = api(people.mission, "post", f"/api/v1/demarches/{draft.id}/survey/answers", json=GOOD)
    assert early.status_code == 409
    assert answers() == 0
