"""Training in a real browser, on the demo data: the mission records a session with the form
(attendees picked from the list) and reads its home's departments; the social department's
agent, whose department has no trained agent, submits her returned saisine again and reads
the nudge. Every page passes axe-core; the nudge is contrasted."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from backoffice import demo
from backoffice.extensions import db
from tests.browser.conftest import assert_accessible, assert_contrasted, log_in
from workflows.clock import local_date, utcnow
from workflows.models import Demarche, TrainingSession
from workflows.stages import Stage

pytestmark = pytest.mark.browser


def test_the_mission_records_a_session_and_reads_the_departments(page, demo_data):
    log_in(page, "mission@demo.cd31.fr", demo.PASSWORD)
    training = page.get_by_role("region", name="Agents formés par direction")
    expect(training).to_contain_text("1 direction n’a aucun agent formé.")
    expect(training.get_by_role("row", name="Direction des routes")).to_contain_text("Rémi Routes")
    page.get_by_role("link", name="Enregistrer une session de formation").click()
    page.wait_for_load_state()
    assert_accessible(page)
    page.get_by_label("Date").fill(local_date(utcnow()).isoformat())
    page.get_by_label("Thème").fill("Animer un atelier citoyen")
    page.get_by_label("Participants").select_option(label="Sonia Social")
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    page.wait_for_load_state()
    assert_accessible(page)
    expect(page.get_by_text("La session de formation est enregistrée.")).to_be_visible()
    made = db.session.scalar(
        select(TrainingSession).where(TrainingSession.theme == "Animer un atelier citoyen")
    )
    assert [u.email for u in made.attendees] == ["social@demo.cd31.fr"]
    page.goto(f"/admin/training/details/?id={made.id}")
    assert_accessible(page)
    page.goto("/admin/")
    expect(page.get_by_text("Chaque direction a au moins un agent formé.")).to_be_visible()
    assert_accessible(page)


def test_an_untrained_department_reads_the_nudge_when_it_submits(page, demo_data):
    returned = db.session.scalar(select(Demarche).where(Demarche.stage == Stage.RETURNED))
    log_in(page, "social@demo.cd31.fr", demo.PASSWORD)
    page.goto(f"/admin/saisine/{returned.id}/review/")
    assert_accessible(page)
    page.get_by_role("button", name="Déposer de nouveau la saisine").click()
    expect(page.locator("h1")).to_have_text("Saisine transmise")
    nudge = page.get_by_role("region", name="Formation à la participation citoyenne")
    expect(nudge).to_contain_text("Votre direction n’a encore aucun agent formé")
    expect(nudge).to_contain_text("Écrire sa saisine et choisir ses méthodes")
    expect(nudge.get_by_role("link", name="Lire le guide de la démarche")).to_have_attribute(
        "href", "/guide"
    )
    assert_accessible(page)
    assert_contrasted(page)
