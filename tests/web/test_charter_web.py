"""The charter where people see it: the back-office dashboard, the answer form under a
question, the charter's rules and versions, the waiver form, and the public record."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from sqlalchemy import select

from backoffice.extensions import db
from tests import factories
from tests.support import csrf_from, csrf_token, login, logout
from workflows import charter, questions
from workflows.clock import PARIS, utcnow
from workflows.models import CharterVersion, Deadline, DeadlineStatus
from workflows.participants import participant_for_user


def ask(d, citizen, text, *, as_of=None):
    question = factories.contribution(
        d,
        citizen,
        body=text,
        kind="question",
        author=participant_for_user(db.session, citizen, as_of=as_of or utcnow()),
        as_of=as_of or utcnow(),
        contributed_at=as_of,
    )
    db.session.commit()
    return question


def deadline(d, rule, question=None):
    query = select(Deadline).where(Deadline.demarche_id == d.id, Deadline.rule_code == rule)
    if question is not None:
        query = query.where(Deadline.question_id == question.id)
    return db.session.scalar(query)


def test_the_department_answers_from_the_question_sheet(
    client, people, make_demarche, citizen, deliver, smtp
):
    d = make_demarche("consultation")
    question = ask(d, citizen, "Le car passera-t-il à Revel si 2 < 3 & 5 > 4 ?")
    login(client, people.agent)
    sheet = client.get(f"/admin/contribution/details/?id={question.id}").text
    assert "Réponse du Département" in sheet and "Publier la réponse" in sheet
    assert "si 2 &lt; 3 &amp; 5 &gt; 4 ?" in sheet  # the citizen's text is escaped
    empty = client.post(
        "/admin/contribution/answer/",
        data={"csrf_token": csrf_from(sheet), "id": question.id, "answer": "  "},
        follow_redirects=True,
    )
    assert "la réponse est vide" in empty.text
    no_csrf = client.post("/admin/contribution/answer/", data={"id": question.id, "answer": "Oui"})
    assert no_csrf.status_code == 400
    done = client.post(
        "/admin/contribution/answer/",
        data={"csrf_token": csrf_from(sheet), "id": question.id, "answer": "Oui, dès mars."},
        follow_redirects=True,
    )
    assert "La réponse est publiée et son auteur prévenu par courriel." in done.text
    assert "Corriger la réponse" in done.text and "tenue dans le délai" in done.text
    db.session.expire_all()
    assert deadline(d, "answer_question", question).status == DeadlineStatus.MET

    deliver()
    mail = next(m for m in smtp.received if citizen.email in m.rcpt_tos)
    assert "a reçu sa réponse" in mail.subject
    assert (
        "Oui, dès mars." in mail.text
        and "Le car passera-t-il à Revel si 2 < 3 & 5 > 4 ?" in mail.text
    )

    # Published under the question on the public item page.
    logout(client)
    page = client.get(f"/demarches/{d.slug}/elements/{d.items[0].id}").text
    assert "Réponse du Département" in page and "Oui, dès mars." in page

    # Another department's agent neither sees the sheet nor answers.
    login(client, people.other_agent)
    assert client.get(f"/admin/contribution/details/?id={question.id}").status_code == 404
    refused = client.post(
        "/admin/contribution/answer/",
        data={"csrf_token": csrf_token(client), "id": question.id, "answer": "Non"},
    )
    assert refused.status_code == 404


def test_the_dashboard_shows_what_is_due_missed_and_waiting(client, people, make_demarche, citizen):
    d = make_demarche("consultation", title="Plan vélo du Lauragais")
    older = ask(
        d, citizen, "Première question, la plus ancienne", as_of=utcnow() - timedelta(days=3)
    )
    ask(d, citizen, "Deuxième question, plus récente")
    submitted = make_demarche("submitted", title="Collèges ouverts le samedi")
    # The saisine's review ends in 15 days: make it end in 3 days, and another one missed.
    review = deadline(submitted, "review_saisine")
    review.due_date = (utcnow() + timedelta(days=3)).astimezone(PARIS).date()
    review.due_at = charter.paris_midnight(review.due_date + timedelta(days=1))
    question_deadline = deadline(d, "answer_question", older)
    question_deadline.status = DeadlineStatus.MISSED
    db.session.commit()

    login(client, people.mission)
    home = client.get("/admin/").text
    soon = home.split("Échéances des 7 prochains jours")[1].split("Échéances manquées")[0]
    assert "Collèges ouverts le samedi" in soon
    assert review.rule.label in soon
    missed = home.split("Échéances manquées")[1].split("Questions en attente de réponse")[0]
    assert "Plan vélo du Lauragais" in missed
    waiting = home.split("Questions en attente de réponse")[1].split("Envois en cours")[0]
    assert waiting.index("Première question") < waiting.index("Deuxième question")
    assert "Aucun envoi en cours." in home

    # A department agent of another department sees none of it.
    logout(client)
    login(client, people.other_agent)
    other = client.get("/admin/").text
    assert "Plan vélo du Lauragais" not in other and "Collèges ouverts" not in other
    assert "Chaque question a sa réponse." in other


def test_the_mission_edits_a_draft_and_publishes_it(client, people, make_demarche):
    started = make_demarche("submitted")
    first = started.charter_version
    login(client, people.agent)
    assert client.get("/admin/charter/").status_code == 403
    logout(client)

    login(client, people.mission)
    page = client.get("/admin/charter/").text
    assert "Répondre à la question d’un citoyen" in page and "J-7, J-1" in page
    drafted = client.post(
        "/admin/charter/draft/", data={"csrf_token": csrf_from(page)}, follow_redirects=True
    )
    assert "Un brouillon de la charte est prêt" in drafted.text
    draft = db.session.scalar(select(CharterVersion).where(CharterVersion.published_at.is_(None)))
    rule = draft.rule("answer_question")
    form_url = f"/admin/charter/rule/{rule.id}/"
    form = client.get(form_url).text
    assert 'value="7, 1"' in form  # the days as typed, so that the form saves unchanged
    values = {
        "csrf_token": csrf_from(form),
        "label": "Répondre aux questions des citoyens sous 21 jours",
        "start_event": "question_published",
        "stop_event": "question_answered",
        "duration": "21",
        "unit": "days",
        "maximum": "",
        "maximum_unit": "days",
        "responsible": "department",
        "reminders": "7, deux",
        "alert": ["mission", "elected"],
    }
    refused = client.post(form_url, data=values)
    assert refused.status_code == 200
    assert "jours avant l’échéance, entre 0 et 60" in refused.text
    saved = client.post(form_url, data={**values, "reminders": "3, 7"}, follow_redirects=True)
    assert "La règle est enregistrée dans le brouillon." in saved.text
    db.session.expire_all()
    assert (rule.duration, rule.reminders) == (21, [7, 3])

    published = client.post(
        "/admin/charter/publish/",
        data={"csrf_token": csrf_token(client), "id": draft.id},
        follow_redirects=True,
    )
    assert "est désormais la charte" in published.text
    # The démarche already started keeps its version; a new one takes the new rules.
    db.session.expire_all()
    assert started.charter_version_id == first.id
    assert make_demarche("draft").charter_version_id == draft.id
    # A published version no longer changes.
    locked = client.post(form_url, data={**values, "reminders": "1"}, follow_redirects=True)
    assert "Une version publiée ne change plus" in locked.text
    db.session.expire_all()
    assert rule.reminders == [7, 3]

    client.post("/admin/charter/draft/", data={"csrf_token": csrf_token(client)})
    assert db.session.scalar(select(CharterVersion).where(CharterVersion.published_at.is_(None)))
    reset = client.post(
        "/admin/charter/reset/", data={"csrf_token": csrf_token(client)}, follow_redirects=True
    )
    assert "La charte par défaut est rétablie" in reset.text
    assert charter.current_version(db.session).rule("answer_question").duration == 30
    # The draft opened before the reset is gone: publishing it cannot undo the reset.
    db.session.expire_all()
    assert not db.session.scalar(
        select(CharterVersion).where(CharterVersion.published_at.is_(None))
    )


def test_the_mission_waives_a_deadline_with_a_public_reason(client, people, make_demarche):
    d = make_demarche("submitted")
    review = deadline(d, "review_saisine")
    login(client, people.agent)
    sheet = client.get(f"/admin/deadline/details/?id={review.id}").text
    assert "Lever cette échéance" not in sheet
    logout(client)
    login(client, people.mission)
    sheet = client.get(f"/admin/deadline/details/?id={review.id}").text
    missing = client.post(
        "/admin/deadline/waive/",
        data={"csrf_token": csrf_from(sheet), "id": review.id, "reason": ""},
        follow_redirects=True,
    )
    assert "le motif est obligatoire" in missing.text
    done = client.post(
        "/admin/deadline/waive/",
        data={"csrf_token": csrf_from(sheet), "id": review.id, "reason": "Saisine suspendue"},
        follow_redirects=True,
    )
    assert "L’échéance est levée" in done.text and "Saisine suspendue" in done.text
    listing = client.get("/admin/deadline/?flt0_0=waived").text
    assert d.title in listing
    # Its sheet leads back to the list as it was filtered.
    sheet_url = re.search(r'href="(/admin/deadline/details/\?[^"]+)"', listing).group(1)
    back = client.get(html.unescape(sheet_url)).text
    links = re.findall(r'href="(/admin/deadline/\?[^"]*)"', html.unescape(back))
    assert any("flt0_0=waived" in link for link in links)
    sheet = client.get(f"/admin/demarche/details/?id={d.id}").text
    assert "Les échéances de la charte" in sheet and "Saisine suspendue" in sheet
    own = client.get(f"/admin/deadline/?flt0_2={d.id}").text
    assert "Examiner une saisine" in own and "Accuser réception" in own


def test_the_public_record_and_the_charter_kept(client, people, make_demarche, citizen):
    d = make_demarche("consultation", title="Schéma des mobilités")
    on_time = ask(d, citizen, "Question A")
    late = ask(d, citizen, "Question B")
    contributions_deadline = deadline(d, "answer_question", late)

    questions.answer(db.session, people.agent, on_time, "Réponse A", as_of=utcnow())
    questions.answer(
        db.session,
        people.agent,
        late,
        "Réponse B",
        as_of=contributions_deadline.due_at + timedelta(hours=2),
    )
    waived = deadline(d, "acknowledge_saisine")
    if waived.status != DeadlineStatus.MET:
        charter.waive(db.session, people.mission, waived, reason="x", as_of=utcnow())
    db.session.commit()

    page = client.get(f"/demarches/{d.slug}").text
    record = page.split("Les engagements de la charte pour cette démarche</h2>")[1].split(
        "Mis en consultation"
    )[0]
    assert "Examiner une saisine" in record
    assert "tenue dans le délai" in record
    assert "2 questions" in record
    assert "1 avec sa réponse dans le délai, 1 répondue en retard" in record

    kept = client.get("/charte").text
    assert "La charte, tenue ?" in kept
    # The acknowledgement is the mission's: it is not counted against the department.
    review = kept.split("Accuser réception d’une saisine")[1].split("</tr>")[0]
    assert "Mission démocratie participative" in review
    since, until = (utcnow() + timedelta(days=20)).date(), (utcnow() + timedelta(days=40)).date()
    window = client.get(f"/charte?du={since.isoformat()}&au={until.isoformat()}").text
    answers = window.split("Répondre à la question d’un citoyen")[1].split("</tr>")[0]
    assert people.agent.department.name in answers  # the department answers
    assert "50\u202f%" in answers  # of the two questions due then, one answered on time
    bad = client.get("/charte?du=hier")
    assert bad.status_code == 200 and "n’est pas une date" in bad.text


def test_the_digest_tells_an_official_the_questions_of_a_demarche_in_one_line(
    people, make_demarche, citizen, deliver, smtp
):
    from workflows import digests

    d = make_demarche("consultation", title="Voies vertes du Comminges")
    for text in ("Question 1", "Question 2", "Question 3"):
        ask(d, citizen, text, as_of=utcnow() - timedelta(days=20))  # due in 10 days
    assert digests.send_weekly(db.session, as_of=utcnow()) == 1
    db.session.commit()
    deliver()
    [email] = [m for m in smtp.received if m.subject.startswith("Vos démarches, semaine du")]
    coming = email.text.split("Échéances des deux prochaines semaines")[1]
    lines = [line for line in coming.splitlines() if "Voies vertes du Comminges" in line]
    assert len(lines) == 1 and lines[0].endswith("(3 questions)")
