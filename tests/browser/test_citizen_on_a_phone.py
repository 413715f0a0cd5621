"""The public side on a phone (360 × 740): no page scrolls sideways, signed in or not, and the
header leaves the screen to the content; the message after registering or contributing is
read where one acted; Flask-Security's pages speak the site's French in its layout."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from backoffice.extensions import db
from backoffice.tokens import registration_token
from tests import factories
from tests.browser.conftest import assert_accessible, log_in
from tests.support import PASSWORD
from workflows import events, questions
from workflows.clock import utcnow
from workflows.participants import participant_for_user

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
LONG_WORD = "Anticonstitutionnellement" * 4
LONG_LINK = "https://www.haute-garonne.fr/" + "tres-long-chemin/" * 8


def fits(page) -> None:
    """Nothing wider than the screen, and the header takes less than a quarter of it."""
    width = page.evaluate("document.documentElement.scrollWidth")
    inner = page.evaluate("window.innerWidth")
    assert width <= inner, f"{page.url}: {width} px wide on a {inner} px screen"
    header = page.locator("header.site").bounding_box()
    assert header["height"] < PHONE["height"] / 4, f"{page.url}: header {header['height']} px"
    assert_accessible(page)


@pytest.fixture
def scene(make_demarche, people, citizen):
    """A consultation with long words and links, a workshop and a meeting, a finished
    démarche with its synthesis, and a citizen who took part, registered and was answered."""
    d = make_demarche("consultation", title="Schéma départemental des mobilités du Comminges")
    closed = make_demarche("feedback", title="Restauration scolaire dans les collèges")
    me = participant_for_user(db.session, citizen, as_of=utcnow())
    factories.contribution(d, citizen, author=me, body=f"{LONG_WORD} voir {LONG_LINK}")
    asked = factories.contribution(d, citizen, author=me, kind="question", body="Et le soir ?")
    questions.answer(db.session, people.mission, asked, f"Oui. {LONG_LINK}", as_of=utcnow())
    workshop = factories.event(d, people.mission, title=f"Atelier {LONG_WORD}", capacity=1)
    factories.event(d, people.mission, title="Rencontre territoriale de Revel", capacity=40)
    registration = events.register(db.session, workshop.id, me, as_of=utcnow())
    db.session.commit()
    return d, closed, registration


def test_every_public_page_fits_a_phone_signed_out_and_in(page, scene, citizen, deliver):
    d, closed, registration = scene
    deliver()  # the espace lists the messages sent
    page.set_viewport_size(PHONE)
    item = f"/demarches/{d.slug}/elements/{d.items[0].id}"
    everyone = ["/", "/charte", f"/demarches/{d.slug}", f"/demarches/{closed.slug}", item]
    signed_out = ["/login", "/register", "/reset", "/confirm", "/espace/bienvenue"]
    signed_out.append(f"/inscriptions/{registration_token(registration)}")
    for url in everyone + signed_out:
        page.goto(url)
        fits(page)

    log_in(page, citizen.email, PASSWORD)
    assert page.locator("h1").inner_text() == "Mon espace citoyen"
    for url in ["/espace/", "/change", *everyone]:
        page.goto(url)
        fits(page)
    # The sign-out button is on the screen, whole.
    button = page.get_by_role("button", name="Se déconnecter").bounding_box()
    assert button["x"] >= 0 and button["x"] + button["width"] <= PHONE["width"]
    # The messages received open on their whole text, still within the screen.
    page.goto("/espace/#messages")
    page.locator("#messages summary").first.click()
    expect(page.locator("#messages .message-body").first).to_contain_text("Bonjour Claire Dubois,")
    fits(page)


def in_view(page, locator) -> bool:
    box = locator.bounding_box()
    return box is not None and 0 <= box["y"] and box["y"] + box["height"] <= PHONE["height"]


def test_the_message_after_registering_is_next_to_the_event(page, scene, citizen):
    d, _, _ = scene
    page.set_viewport_size(PHONE)
    log_in(page, citizen.email, PASSWORD)
    page.goto(f"/demarches/{d.slug}")
    assert_accessible(page)
    meeting = page.locator("section.card", has_text="Rencontre territoriale de Revel")
    expect(meeting).to_contain_text("40 places restantes")
    meeting.get_by_role("button", name="S’inscrire").click()
    page.wait_for_load_state()
    notice = meeting.locator("[data-notice]")
    expect(notice).to_have_attribute("role", "status")
    expect(notice).to_contain_text("Vous êtes inscrit·e : une confirmation")
    expect(notice).to_be_focused()
    assert in_view(page, notice), "the message is off-screen"
    expect(meeting).to_contain_text("39 places restantes")
    assert page.locator("main > [data-notice]").count() == 0  # not at the top as well
    assert_accessible(page)


def test_the_message_after_commenting_or_asking_is_next_to_it(page, scene, citizen):
    d, _, _ = scene
    page.set_viewport_size(PHONE)
    log_in(page, citizen.email, PASSWORD)
    page.goto(f"/demarches/{d.slug}/elements/{d.items[0].id}")
    assert_accessible(page)
    page.get_by_label("Votre texte").fill("Des navettes le samedi matin.")
    page.get_by_role("button", name="Envoyer", exact=True).click()
    page.wait_for_load_state()
    mine = page.locator("article", has_text="Des navettes le samedi matin.")
    notice = mine.locator("[data-notice]")
    expect(notice).to_contain_text("Merci : votre contribution est publiée.")
    expect(notice).to_be_focused()
    assert in_view(page, notice)
    assert_accessible(page)

    # An answer to another contribution, from its own form down the page.
    thread = page.locator("article", has_text="Et le soir ?").first
    thread.locator("summary", has_text="Répondre").click()
    thread.get_by_label("Votre réponse").fill("Le soir aussi, oui.")
    thread.get_by_role("button", name="Envoyer ma réponse").click()
    page.wait_for_load_state()
    answer = page.locator("article", has_text="Le soir aussi, oui.").last
    expect(answer.locator("[data-notice]")).to_be_focused()
    assert re.search(r"#contribution-\d+$", page.url)
    assert_accessible(page)

    # A question: its message too is next to it.
    page.get_by_label("Votre contribution est").select_option("question")
    page.get_by_label("Votre texte").fill("Quand les navettes commencent-elles ?")
    page.get_by_role("button", name="Envoyer", exact=True).click()
    page.wait_for_load_state()
    question = page.locator("article", has_text="Quand les navettes commencent-elles ?")
    expect(question.locator("[data-notice]")).to_be_focused()
    assert in_view(page, question.locator("[data-notice]"))
    assert_accessible(page)


def test_a_contribution_held_for_the_moderation_says_so_at_the_form(page, make_demarche, citizen):
    d = make_demarche("consultation", hold_for_review=True)
    page.set_viewport_size(PHONE)
    log_in(page, citizen.email, PASSWORD)
    page.goto(f"/demarches/{d.slug}/elements/{d.items[0].id}")
    assert_accessible(page)
    page.get_by_label("Votre texte").fill("À lire d’abord.")
    page.get_by_role("button", name="Envoyer", exact=True).click()
    page.wait_for_load_state()
    notice = page.locator("#participer [data-notice]")
    expect(notice).to_contain_text("sera publiée après lecture")
    expect(notice).to_be_focused()
    assert page.url.endswith("#participer")
    assert_accessible(page)


def test_security_pages_speak_french_in_the_site_layout(page, citizen):
    page.set_viewport_size(PHONE)
    for url, heading in [
        ("/login", "Connexion"),
        ("/register", "Créer mon espace citoyen"),
        ("/reset", "Mot de passe oublié"),
        ("/confirm", "Renvoyer le message de confirmation"),
    ]:
        page.goto(url)
        assert page.locator("h1").inner_text() == heading
        expect(page.locator("header.site")).to_contain_text("Dialogue citoyen")
        expect(page.get_by_label("Adresse électronique")).to_be_visible()
        fits(page)

    log_in(page, citizen.email, "pas le bon mot de passe")
    expect(page.get_by_role("alert").first).to_contain_text(
        "Adresse électronique ou mot de passe incorrect."
    )
