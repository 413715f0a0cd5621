"""A department agent of the demo writes a saisine step by step and submits it, in a real
browser: every step is accessible, errors included."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from backoffice import demo
from backoffice.extensions import db
from tests.browser.conftest import assert_accessible, log_in
from workflows.clock import utcnow
from workflows.methods import load_catalogue
from workflows.models import Demarche, StageTransition
from workflows.stages import Stage

pytestmark = pytest.mark.browser

TITLE = "Aires de covoiturage du Lauragais"


@pytest.fixture
def demo_data(ctx):
    load_catalogue(db.session, as_of=utcnow())
    demo.load(db.session, as_of=utcnow())
    db.session.commit()


def go_on(page, heading: str):
    page.get_by_role("button", name="Continuer").click()
    expect(page.locator("h1")).to_have_text(heading)
    assert_accessible(page)


def test_an_agent_writes_a_saisine_and_submits_it(page, demo_data):
    log_in(page, "routes@demo.cd31.fr", demo.PASSWORD)
    page.get_by_role("link", name="Nouvelle saisine").click()
    expect(page.locator("h1")).to_have_text("Le projet")
    assert_accessible(page)

    # 1. The project. Continuing without objectives is refused beside the field.
    page.get_by_label("Titre").fill(TITLE)
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_role("alert")).to_contain_text("Il y a un problème")
    expect(page.locator("#error-objectives")).to_contain_text("objectifs manquants")
    expect(page.get_by_label("Titre")).to_have_value(TITLE)
    assert_accessible(page)
    page.get_by_role("link", name="Objectifs : objectifs manquants").click()
    expect(page.get_by_label("Objectifs")).to_be_focused()
    page.get_by_label("Objectifs").fill(
        "Choisir l’emplacement de trois aires de covoiturage.\n"
        "Décidé : le budget et la RD 622. Ouvert : les emplacements et les services."
    )
    go_on(page, "Son public et son territoire")

    # 2. Its public and territory; a draft saved here is there when the agent comes back.
    page.get_by_label("Public concerné").fill("Habitants et salariés qui covoiturent")
    page.get_by_role("button", name="Enregistrer le brouillon et reprendre plus tard").click()
    expect(page.locator("body")).to_contain_text("Brouillon enregistré")
    assert_accessible(page)
    expect(page.get_by_label("Public concerné")).to_have_value(
        "Habitants et salariés qui covoiturent"
    )
    page.get_by_label("Territoire").select_option("Revel")
    go_on(page, "Participation et calendrier")

    # 3. Participation and calendar.
    expect(page.locator("body")).to_contain_text("ne sont jamais publiés")
    page.get_by_label("Concertation").check()
    page.get_by_label("Calendrier souhaité").fill("Ouverture en mars, décision en juin.")
    page.get_by_label("Budget (€)").fill("12 000")
    page.get_by_label("Participants attendus").fill("300")
    page.get_by_label("Élu·e référent·e").select_option(label="Étienne Élu")
    go_on(page, "Méthodes")

    # 4. Methods: the toolbox's suggestions with their reasons; the agent ticks two.
    expect(page.locator("#method-forum-ouvert-why")).to_contain_text("taille de groupe")
    expect(page.locator("#method-conference-de-citoyens-why")).to_contain_text(
        "trop cher pour le budget indiqué"
    )
    page.get_by_label("Consultation en ligne").check()
    page.get_by_label("Forum ouvert").check()
    # What fits less well is folded, with its reasons, and can still be chosen.
    page.get_by_text("conviennent moins bien, et pourquoi").click()
    expect(page.locator("#method-world-cafe-why")).to_contain_text("pas 300")
    go_on(page, "Relire et transmettre")

    # 5. Review and submit.
    main = page.locator("main")
    for shown in (
        TITLE,
        "Revel",
        "Concertation",
        "Étienne Élu",
        "12 000,00",
        "Forum ouvert → Consultation en ligne → Restitution publique",
    ):
        expect(main).to_contain_text(shown)
    page.get_by_label("Un mot pour la mission (facultatif)").fill("Merci pour vos conseils.")
    page.get_by_role("button", name="Déposer la saisine").click()
    expect(page.locator("h1")).to_have_text("Saisine transmise")
    expect(main).to_contain_text("sous 15 jours")
    assert_accessible(page)

    db.session.expire_all()
    d = db.session.scalar(select(Demarche).where(Demarche.title == TITLE))
    assert (d.stage, d.department.name, d.territory) == (
        Stage.SUBMITTED,
        "Direction des routes",
        "Revel",
    )
    last = db.session.scalars(
        select(StageTransition).where(StageTransition.demarche_id == d.id)
    ).one()
    assert (last.to_stage, last.comment) == (Stage.SUBMITTED, "Merci pour vos conseils.")
