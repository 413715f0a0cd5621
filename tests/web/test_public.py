"""The public pages and the espace citoyen, as citizens and passers-by use them."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from flask import g
from sqlalchemy import func, select, text

from backoffice.extensions import db, limiter
from tests import factories
from tests.support import PASSWORD, csrf_from, login, logout
from workflows import contributions, events
from workflows.clock import utcnow
from workflows.models import (
    Contribution,
    ContributionReport,
    ContributionStatus,
    Participant,
    Registration,
    RegistrationStatus,
    User,
)


def post_contribution(client, d, body, **extra):
    url = f"/demarches/{d.slug}/elements/{d.items[0].id}"
    page = client.get(url).text
    return client.post(
        f"{url}/contribuer",
        data={"csrf_token": csrf_from(page), "kind": "comment", "body": body, **extra},
    )


def test_only_public_stages_are_shown(client, make_demarche):
    shown = make_demarche("consultation", title="Ouverte au public")
    hidden = make_demarche("submitted", title="Saisine interne")
    home = client.get("/").text
    assert "Ouverte au public" in home and "Saisine interne" not in home
    assert client.get(f"/demarches/{hidden.slug}").status_code == 404
    page = client.get(f"/demarches/{shown.slug}").text
    assert '<html lang="fr">' in page and "Engagement n°1" in page
    assert "Ce qui est décidé, et par qui" in page and "Élodie Élue" in page


def test_a_citizen_comments_and_answers_and_text_is_escaped(client, make_demarche, citizen):
    d = make_demarche("consultation")
    assert post_contribution(client, d, "Hors connexion").status_code == 302  # to the login
    assert db.session.scalar(select(func.count(Contribution.id))) == 0
    login(client, citizen)
    response = post_contribution(client, d, "<script>alert(1)</script> Une idée & 1 < 2")
    assert response.status_code == 302
    root = db.session.scalar(select(Contribution))
    assert root.participant.user == citizen and root.channel.value == "online"
    answer = post_contribution(client, d, "Je réponds", parent_id=str(root.id))
    assert answer.status_code == 302
    page = client.get(f"/demarches/{d.slug}/elements/{d.items[0].id}").text
    assert "<script>" not in page.split("<main")[1]  # HTML is reduced to its text …
    assert "Une idée &amp; 1 &lt; 2" in page  # … and the text is escaped
    assert re.search(
        r'class="replies">\s*<article class="contribution" id="contribution-\d+"', page
    )
    assert "Claire Dubois" in page


def test_outside_the_consultation_nothing_is_saved_and_the_text_is_kept(
    client, make_demarche, citizen
):
    d = make_demarche("synthesis")
    login(client, citizen)
    url = f"/demarches/{d.slug}/elements/{d.items[0].id}"
    page = client.get(url).text
    assert "La consultation n’est pas ouverte" in page
    response = client.post(
        f"{url}/contribuer",
        data={"csrf_token": csrf_from(page), "kind": "comment", "body": "Trop tard ?"},
    )
    assert response.status_code == 409
    assert (
        "la consultation n’est pas ouverte : la démarche est à l’étape « Synthèse »"
        in response.text
    )
    assert db.session.scalar(select(func.count(Contribution.id))) == 0


def test_the_honeypot_saves_nothing_and_says_thanks(client, make_demarche, citizen):
    d = make_demarche("consultation")
    login(client, citizen)
    response = post_contribution(client, d, "Achetez", website="http://spam.example")
    assert response.status_code == 302
    assert db.session.scalar(select(func.count(Contribution.id))) == 0


def test_public_forms_are_rate_limited(app, client, make_demarche, citizen):
    d = make_demarche("consultation")
    login(client, citizen)
    app.config["PUBLIC_POST_LIMIT"] = "2 per minute"
    limiter.reset()
    try:
        codes = [post_contribution(client, d, f"Avis {n}").status_code for n in range(3)]
    finally:
        app.config["PUBLIC_POST_LIMIT"] = "10000 per minute"
        limiter.reset()
    assert codes == [302, 302, 429]


def test_moderation_is_shown_publicly_with_its_reason(client, make_demarche, citizen, people):
    d = make_demarche("consultation")
    c = factories.contribution(
        d,
        people.mission,
        body="Propos injurieux",
        author=factories.participant("x@exemple.fr"),
    )
    contributions.moderate(
        db.session, c, "hide", actor=people.mission, reason="injure", as_of=utcnow()
    )
    db.session.commit()
    page = client.get(f"/demarches/{d.slug}/elements/{d.items[0].id}").text
    assert "masqué par la modération : injure" in page and "Propos injurieux" not in page


def test_a_held_contribution_waits_for_the_mission(client, make_demarche, citizen):
    d = make_demarche("consultation", hold_for_review=True)
    login(client, citizen)
    response = post_contribution(client, d, "À lire d’abord")
    assert "sera publiée après lecture" in client.get(response.headers["Location"]).text
    assert "À lire d’abord" not in client.get(f"/demarches/{d.slug}/elements/{d.items[0].id}").text


def test_logged_in_people_report_contributions(client, make_demarche, citizen, people):
    d = make_demarche("consultation")
    c = factories.contribution(d, people.mission, body="Douteux")
    db.session.commit()
    page = client.get(f"/demarches/{d.slug}/elements/{d.items[0].id}").text
    token = csrf_from(page)
    assert (
        client.post(f"/contributions/{c.id}/signaler", data={"csrf_token": token}).status_code
        == 401
    )
    login(client, citizen)
    page = client.get(f"/demarches/{d.slug}/elements/{d.items[0].id}").text
    response = client.post(
        f"/contributions/{c.id}/signaler",
        data={"csrf_token": csrf_from(page), "reason": "hors sujet"},
    )
    assert response.status_code == 302
    assert db.session.scalar(select(ContributionReport.reason)) == "hors sujet"


def test_the_item_page_is_paginated(client, make_demarche, people):
    d = make_demarche("consultation")
    for n in range(45):
        factories.contribution(
            d, people.mission, body=f"Avis numéro {n}", as_of=utcnow() + timedelta(seconds=n)
        )
    db.session.commit()
    url = f"/demarches/{d.slug}/elements/{d.items[0].id}"
    first = client.get(url).text
    assert "45 contributions" in first and "Avis numéro 44" in first and "Page 1 sur 3" in first
    last = client.get(f"{url}?page=3").text
    assert last.count('class="contribution"') == 5 and "Avis numéro 0" in last


# -- events from the public page ---------------------------------------------------------


@pytest.fixture
def workshop(make_demarche, people):
    d = make_demarche("consultation")
    event = factories.event(
        d, people.mission, title="Atelier du 3 décembre", place="Toulouse", capacity=1
    )
    db.session.commit()
    return event


def register(client, event, **data):
    page = client.get(f"/demarches/{event.demarche.slug}").text
    return client.post(
        f"/evenements/{event.id}/inscription", data={"csrf_token": csrf_from(page), **data}
    )


def confirm_by_email(client, deliver, smtp, address, **data) -> str:
    """What the owner of ``address`` does: opens the emailed link, presses the button."""
    deliver()
    [ask] = [r for r in smtp.to(address) if "Confirmez votre inscription" in r.subject]
    link = re.search(r"http://dialogue\.test(/inscriptions/\S+)", ask.text).group(1)
    page = client.get(link).text
    client.post(f"{link}/confirmer", data={"csrf_token": csrf_from(page), **data})
    return link


def test_registering_without_an_account_then_cancelling_by_the_signed_link(
    client, workshop, deliver, smtp
):
    first = register(client, workshop, email="ana@exemple.fr")
    assert first.status_code == 302
    assert "/inscriptions/" not in first.headers["Location"]  # the link goes by email only
    link = confirm_by_email(client, deliver, smtp, "ana@exemple.fr", name="Ana")
    register(client, workshop, email="bob@exemple.fr")
    confirm_by_email(client, deliver, smtp, "bob@exemple.fr")
    deliver()
    [mail] = [r for r in smtp.to("ana@exemple.fr") if "Votre inscription" in r.subject]
    assert link in mail.text and "Bonjour Ana," in mail.text
    page = client.get(link)
    assert "Inscrit·e" in page.text  # following the link changes nothing
    assert client.get(link[:-3] + "xyz").status_code == 404  # a forged token
    [waiting] = [r for r in smtp.to("bob@exemple.fr") if "Liste d’attente" in r.subject]
    cancelled = client.post(link, data={"csrf_token": csrf_from(page.text)})
    assert cancelled.status_code == 302
    statuses = dict(
        db.session.execute(select(Participant.email, Registration.status).join(Participant)).all()
    )
    assert statuses == {
        "ana@exemple.fr": RegistrationStatus.CANCELLED,
        "bob@exemple.fr": RegistrationStatus.CONFIRMED,
    }


def test_typing_someone_elses_address_gives_no_access_to_their_registration(
    client, workshop, deliver, smtp
):
    an_hour_ago = utcnow() - timedelta(hours=1)  # her confirmation left an hour ago
    ana = factories.participant("ana@exemple.fr", name="Ana", as_of=an_hour_ago)
    events.register(db.session, workshop.id, ana, as_of=an_hour_ago)
    db.session.commit()
    other_browser = client.application.test_client()
    # The tests hold one app context, so Flask-WTF's per-request token cache (g) is shared:
    # empty it, as a real second browser would start without it.
    g.pop("csrf_token", None)
    again = register(other_browser, workshop, name="Intrus", email="ana@exemple.fr")
    assert again.status_code == 302 and "/inscriptions/" not in again.headers["Location"]
    page = other_browser.get(again.headers["Location"]).text
    assert "un courriel part vers cette adresse" in page  # as for any address
    deliver()
    subjects = [r.subject for r in smtp.to("ana@exemple.fr")]
    assert subjects.count("Le lien de votre inscription : Atelier du 3 décembre") == 1
    ana = db.session.scalar(select(Participant).where(Participant.email == "ana@exemple.fr"))
    assert ana.name == "Ana"  # nobody else names her


def test_a_citizen_registers_in_one_click(client, workshop, citizen):
    login(client, citizen)
    response = register(client, workshop)
    assert response.status_code == 302
    espace = client.get("/espace/").text
    assert "Atelier du 3 décembre" in espace and "Inscrit·e" in espace


# -- espace citoyen: consents, data, erasure -------------------------------------------------


def test_staff_and_citizens_stay_on_their_side(client, people, citizen):
    login(client, citizen)
    assert client.get("/admin/").status_code == 403
    assert client.get("/apres-connexion").headers["Location"].endswith("/espace/")
    logout(client)
    login(client, people.mission)
    assert client.get("/espace/").status_code == 403
    assert client.get("/apres-connexion").headers["Location"].endswith("/admin/")


def test_consents_default_and_change(client, citizen):
    participant = db.session.scalar(select(Participant).where(Participant.user_id == citizen.id))
    assert (participant.consent_feedback, participant.consent_territory_news) == (True, False)
    login(client, citizen)
    page = client.get("/espace/").text
    bad = client.post(
        "/espace/consentements",
        data={"csrf_token": csrf_from(page), "consent_territory_news": "y", "commune": "Paris"},
    )
    assert "commune de Haute-Garonne inconnue" in client.get(bad.headers["Location"]).text
    client.post(
        "/espace/consentements",
        data={"csrf_token": csrf_from(page), "consent_territory_news": "y", "commune": "revel"},
    )
    db.session.refresh(participant)
    assert (
        participant.consent_feedback,
        participant.consent_territory_news,
        participant.commune_insee,
    ) == (False, True, "31451")


def test_my_data_holds_everything_about_me(client, people, citizen, workshop):
    d = workshop.demarche
    login(client, citizen)
    post_contribution(client, d, "Mon avis")
    register(client, workshop)
    question = post_contribution(client, d, "Quand ?", kind="question")
    from workflows import mailings, questions

    asked = db.session.scalar(select(Contribution).where(Contribution.body == "Quand ?"))
    questions.answer(db.session, people.mission, asked, "En juin.", as_of=utcnow())
    mailings.unsubscribe(db.session, "claire@exemple.fr", "news", as_of=utcnow())
    db.session.commit()
    data = json.loads(client.get("/espace/donnees.json").data)
    assert data["account"]["email"] == "claire@exemple.fr"
    assert data["participant"]["consent_feedback"] is True
    assert [c["body"] for c in data["contributions"]] == ["Mon avis", "Quand ?"]
    assert data["contributions"][1]["answer"] == "En juin." and question.status_code == 302
    assert data["registrations"][0]["event"] == "Atelier du 3 décembre"
    assert [(u["scope"], u["reason"]) for u in data["unsubscriptions"]] == [
        ("news", "unsubscribed")
    ]


def test_deleting_my_account_leaves_no_personal_field_anywhere(
    client, people, citizen, workshop, deliver, tmp_path
):
    d = workshop.demarche
    other = factories.participant("suivant@exemple.fr")
    db.session.commit()
    login(client, citizen)
    post_contribution(client, d, "Mon avis reste")
    register(client, workshop)
    events.register(db.session, workshop.id, other, as_of=utcnow())  # waiting list
    # What they told the moderation, and a spreadsheet about them the mission imported.
    theirs = factories.contribution(d, people.mission, body="Un avis d'un autre", author=other)
    contributions.report(
        db.session,
        theirs,
        reporter=citizen,
        reason="Moi, Claire Dubois, je trouve ce message blessant.",
        as_of=utcnow(),
    )
    from workflows import imports

    sheet = (
        "item;text;email\n1;Avis de Claire;claire@exemple.fr\n9;Ligne fausse;claire@exemple.fr\n"
    )
    imports.start_import(
        db.session,
        d,
        actor=people.mission,
        filename="Avis de Claire Dubois.csv",
        raw=sheet.encode(),
        fmt=None,
        item_id=None,
        directory=tmp_path,
        as_of=utcnow(),
    )
    db.session.commit()
    deliver()
    page = client.get("/espace/").text
    refused = client.post(
        "/espace/supprimer",
        data={"csrf_token": csrf_from(page), "password": "mauvais", "confirm": "y"},
    )
    assert "n’a pas été supprimé" in client.get(refused.headers["Location"]).text
    client.post(
        "/espace/supprimer",
        data={"csrf_token": csrf_from(page), "password": PASSWORD, "confirm": "y"},
    )

    # No table keeps the address or the name, the audit log and the outbox included.
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(text(f"SELECT * FROM {table.name}")).all()
        dump = json.dumps([list(map(str, r)) for r in rows], ensure_ascii=False)
        assert "claire@exemple.fr" not in dump and "Claire Dubois" not in dump, table.name
    kept = db.session.scalar(select(Contribution).where(Contribution.body == "Mon avis reste"))
    assert kept.status == ContributionStatus.PUBLISHED and kept.participant.erased_at
    item_page = client.get(f"/demarches/{d.slug}/elements/{d.items[0].id}").text
    assert "participant supprimé" in item_page
    # Their seat went to the waiting list.
    assert [r.status for r in workshop.registrations] == [
        RegistrationStatus.CANCELLED,
        RegistrationStatus.CONFIRMED,
    ]
    user = db.session.get(User, citizen.id)
    assert not user.active and user.password is None
    assert (
        client.post(
            "/login",
            data={
                "email": "claire@exemple.fr",
                "password": PASSWORD,
                "csrf_token": csrf_from(client.get("/login").text),
            },
        ).status_code
        == 200
    )  # refused


def test_dates_say_1er_and_the_favicon_exists(client, app):
    from datetime import date

    from backoffice.i18n import long_date

    with app.test_request_context():
        assert long_date(date(2027, 1, 1)) == "1er janvier 2027"
        assert long_date(date(2027, 1, 11)) == "11 janvier 2027"
    moved = client.get("/favicon.ico")
    assert moved.status_code == 301
    with client.get(moved.headers["Location"]) as icon:
        assert icon.status_code == 200 and b"<svg" in icon.data
