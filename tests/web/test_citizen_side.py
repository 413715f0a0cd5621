"""What a citizen reads: the seats left at an event, the messages they received (and only
theirs, forgotten on erasure), Flask-Security's emails greeting them and signed by the
Département, its words in the site's French."""

from __future__ import annotations

import json
import re
from pathlib import Path

import flask_security
import pytest
from babel.messages.pofile import read_po
from sqlalchemy import select

from backoffice import security_words
from backoffice.extensions import db
from backoffice.outgoing import mailer
from tests import factories
from tests.support import PASSWORD, csrf_from, login
from workflows import events, mailings
from workflows.clock import utcnow
from workflows.erasure import erase_account
from workflows.models import Delivery, OutboxMessage
from workflows.participants import participant_for_user, set_consents

SIGNATURE = "La mission démocratie participative\nConseil départemental de la Haute-Garonne"


def text(email) -> str:
    return email.text.replace("\r\n", "\n")


def register(client, event, **data):
    page = client.get(f"/demarches/{event.demarche.slug}").text
    return client.post(
        f"/evenements/{event.id}/inscription", data={"csrf_token": csrf_from(page), **data}
    )


def event_card(client, event) -> str:
    page = client.get(f"/demarches/{event.demarche.slug}").text
    start = page.index(f'id="evenement-{event.id}"')
    return page[start : page.index("</section>", start)]


# -- seats left -------------------------------------------------------------------------------


def test_an_event_shows_its_seats_left_then_its_waiting_list(client, make_demarche, people):
    d = make_demarche("consultation")
    event = factories.event(d, people.mission, title="Atelier de Muret", capacity=2)
    db.session.commit()
    assert "2 places restantes" in event_card(client, event)

    first = factories.participant("un@exemple.fr")
    events.register(db.session, event.id, first, as_of=utcnow())
    db.session.commit()
    card = event_card(client, event)  # the kept page moved on with the registration
    assert "1 place restante" in card and "S’inscrire" in card

    events.register(db.session, event.id, factories.participant("deux@exemple.fr"), as_of=utcnow())
    events.register(db.session, event.id, factories.participant("trois@exemple.fr"), as_of=utcnow())
    db.session.commit()
    card = event_card(client, event)
    assert "Complet — liste d’attente" in card and "1 personne en attente" in card
    assert "place restante" not in card and "M’inscrire sur la liste d’attente" in card

    events.cancel_registration(
        db.session, events.live_registration(db.session, event.id, first), as_of=utcnow()
    )
    db.session.commit()
    card = event_card(client, event)  # the waiting list took the seat back
    assert "Complet — liste d’attente" in card and "personne en attente" not in card


def test_a_registered_citizen_reads_so_instead_of_the_form(client, make_demarche, people, citizen):
    d = make_demarche("consultation")
    event = factories.event(d, people.mission, title="Atelier de Muret", capacity=5)
    db.session.commit()
    login(client, citizen)
    answer = register(client, event)
    assert answer.headers["Location"].endswith(f"#evenement-{event.id}")
    card = event_card(client, event)
    assert "Vous êtes inscrit·e." in card and "4 places restantes" in card
    assert "<form" not in card


# -- the messages of the espace citoyen ---------------------------------------------------------


def send_newsletter(people, d, citizen):
    """A newsletter to the contributors of ``d``, ``citizen`` among them (who asked for news)."""
    me = participant_for_user(db.session, citizen, as_of=utcnow())
    set_consents(db.session, me, feedback=True, territory_news=True, as_of=utcnow())
    mailing = factories.mailing(
        people.mission, d, body="Bonjour {{ name }},\n\nLa suite : {{ demarche.url }}\n"
    )
    db.session.commit()
    mailings.schedule(db.session, people.mission, mailing, at=None, as_of=utcnow())
    db.session.commit()
    mailings.start(db.session, mailing.id, as_of=utcnow())
    mailings.deliver_chunk(
        db.session, mailing.id, mailer.smtp_opener, lambda m: mailer.composer(db.session, m)
    )


def test_the_espace_shows_my_messages_with_their_text_and_only_mine(
    app, client, make_demarche, people, citizen, make_user, deliver, smtp
):
    d = make_demarche("consultation", title="Routes du Comminges")
    event = factories.event(d, people.mission, title="Atelier de Saint-Gaudens")
    me = participant_for_user(db.session, citizen, as_of=utcnow())
    factories.contribution(d, citizen, body="Mon avis sur les routes", author=me)
    neighbour = make_user("citizen", email="paul@exemple.fr", name="Paul Voisin")
    db.session.commit()
    login(client, citizen)
    register(client, event)
    deliver()
    send_newsletter(people, d, citizen)
    [confirmation] = [r for r in smtp.to(citizen.email) if "Votre inscription" in r.subject]
    assert smtp.to(citizen.email)[-1].subject == "Des nouvelles de « Routes du Comminges »"

    page = client.get("/espace/").text
    messages = page[page.index('id="messages"') : page.index('id="consentements"')]
    assert "Votre inscription : Atelier de Saint-Gaudens" in messages
    assert "Des nouvelles de « Routes du Comminges »" in messages
    # The whole text, as it was sent.
    assert "Bonjour Claire Dubois," in messages
    assert "Votre place est réservée pour cet événement de la démarche" in messages
    assert confirmation.text.startswith("Bonjour Claire Dubois,")
    assert "La suite : http://dialogue.test/demarches/" in messages
    assert "La mission démocratie participative" in messages

    # Paul, in his own espace, reads none of Claire's messages.
    theirs = app.test_client()
    login(theirs, neighbour)
    other = theirs.get("/espace/").text
    assert "Aucun message pour le moment." in other
    assert "Atelier de Saint-Gaudens" not in other and "Claire Dubois" not in other


def test_my_data_holds_my_messages_and_erasure_forgets_their_text(
    client, make_demarche, people, citizen, deliver
):
    d = make_demarche("consultation", title="Routes du Comminges")
    event = factories.event(d, people.mission, title="Atelier de Saint-Gaudens")
    me = participant_for_user(db.session, citizen, as_of=utcnow())
    factories.contribution(d, citizen, body="Mon avis sur les routes", author=me)
    db.session.commit()
    login(client, citizen)
    register(client, event)
    deliver()
    send_newsletter(people, d, citizen)
    data = json.loads(client.get("/espace/donnees.json").data)
    bodies = [m["body"] for m in data["messages"]]
    assert len(bodies) == 2 and all(b.startswith("Bonjour Claire Dubois,") for b in bodies)

    theirs = (OutboxMessage.recipient_id == citizen.id) | (OutboxMessage.participant_id == me.id)
    assert all(db.session.scalars(select(OutboxMessage.body).where(theirs)))
    erase_account(db.session, db.session.get(type(citizen), citizen.id), as_of=utcnow())
    db.session.commit()
    assert set(db.session.scalars(select(OutboxMessage.body).where(theirs))) == {""}
    assert set(db.session.scalars(select(Delivery.body))) == {""}


# -- Flask-Security's emails --------------------------------------------------------------------


def test_the_confirmation_email_greets_by_name_and_is_signed(client, ctx, deliver, smtp):
    page = client.get("/register").text
    client.post(
        "/register",
        data={
            "email": "lea@exemple.fr",
            "name": "Léa Martin",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "csrf_token": csrf_from(page),
        },
    )
    deliver()
    [email] = smtp.to("lea@exemple.fr")
    assert email.subject == "Confirmez votre adresse pour ouvrir votre espace citoyen"
    assert text(email).startswith("Bonjour Léa Martin,\n\nVous avez créé votre espace citoyen")
    assert text(email).rstrip().endswith(SIGNATURE)
    link = re.search(r"http://localhost/confirm/\S+", email.text).group(0)
    # The HTML part: the same text in the layout of every email, its link a link.
    assert "Dialogue citoyen · Conseil départemental de la Haute-Garonne" in email.html
    assert f'<a href="{link}">' in email.html and "Bonjour Léa Martin," in email.html
    # What the espace keeps of it: the text, its one-time link taken out.
    kept = db.session.scalar(select(OutboxMessage))
    assert kept.body.startswith("Bonjour Léa Martin,") and "[lien retiré]" in kept.body
    assert "/confirm/" not in kept.body


def test_reset_and_change_notices_greet_and_sign(client, people, deliver, smtp):
    page = client.get("/reset").text
    client.post("/reset", data={"email": people.agent.email, "csrf_token": csrf_from(page)})
    deliver()
    [reset] = smtp.to(people.agent.email)
    assert reset.subject == "Choisissez un nouveau mot de passe"
    assert text(reset).startswith("Bonjour Rita Routes,\n\n")
    assert text(reset).rstrip().endswith(SIGNATURE)
    link = re.search(r"http://localhost(/reset/\S+)", reset.text).group(1)
    form = client.get(link).text
    assert "Choisir un nouveau mot de passe" in form
    new = "un autre mot de passe bien long"
    client.post(
        link, data={"password": new, "password_confirm": new, "csrf_token": csrf_from(form)}
    )
    deliver()
    notice = smtp.to(people.agent.email)[-1]
    assert notice.subject == "Votre mot de passe a été changé"
    assert text(notice).startswith("Bonjour Rita Routes,\n\nLe mot de passe de votre compte")
    assert text(notice).rstrip().endswith(SIGNATURE)


# -- Flask-Security's words ---------------------------------------------------------------------


def test_the_words_we_give_flask_security_are_its_own_and_french(app):
    """Each id of security_words is one Flask-Security uses (else our French is never read),
    and messages.po gives each a French with « adresse électronique », never « email »."""
    shipped = Path(flask_security.__file__).parent / "translations" / "flask_security.pot"
    with shipped.open("rb") as file:
        theirs = {m.id for m in read_po(file) if m.id}
    with Path("backoffice/translations/fr/LC_MESSAGES/messages.po").open("rb") as file:
        ours = read_po(file)
    for word in (*security_words.LABELS, *security_words.MESSAGES):
        assert word in theirs, word
        french = re.sub(r"%\(\w+\)s", "", ours.get(word).string)
        assert french and "email" not in french.lower() and "'" not in french, (word, french)
    for subject in security_words.SUBJECTS.values():
        assert ours.get(subject).string


@pytest.mark.parametrize(
    ("url", "heading", "words"),
    [
        ("/login", "Connexion", ["Adresse électronique", "Mot de passe", "Rester connecté·e"]),
        (
            "/register",
            "Créer mon espace citoyen",
            ["Adresse électronique", "Confirmer le mot de passe"],
        ),
        ("/reset", "Mot de passe oublié", ["Adresse électronique", "Recevoir le lien"]),
        ("/confirm", "Renvoyer le message de confirmation", ["Adresse électronique"]),
    ],
)
def test_security_pages_wear_the_public_layout_in_french(client, ctx, url, heading, words):
    page = client.get(url).text
    assert '<header class="site">' in page and "public.css" in page and "bootstrap" not in page
    assert f"<h1>{heading}</h1>" in page
    for word in words:
        assert word in page
    assert "email" not in re.sub(r"<[^>]+>", "", page).lower().replace("type=email", "")
