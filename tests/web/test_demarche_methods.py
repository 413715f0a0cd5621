"""The methods on a démarche's sheet: the plan revised by the mission with the toolbox's
reasons, the event form naming its method, the methods used, the public programme."""

from __future__ import annotations

from datetime import datetime, timedelta

from bs4 import BeautifulSoup

from backoffice.extensions import db
from tests.support import csrf_from, login, logout
from workflows.clock import PARIS
from workflows.methods import get_method, planning
from workflows.methods.suggestions import is_deliberative


def test_the_mission_revises_the_plan_from_the_sheet(client, people, make_demarche, catalogue):
    d = make_demarche("launch", participation_level="co-construction", budget="5000")
    login(client, people.mission)
    sheet = client.get(f"/admin/demarche/details/?id={d.id}").text
    assert "aucune pour l’instant" in sheet
    link = BeautifulSoup(sheet, "html.parser").find(
        "a", string="Choisir les méthodes, avec les suggestions de la boîte à outils"
    )
    assert link["href"] == f"/admin/demarche/methods/?id={d.id}"
    page = client.get(link["href"]).text
    soup = BeautifulSoup(page, "html.parser")
    why = soup.find(id="method-conference-de-citoyens-why").get_text(" ", strip=True)
    assert "trop cher pour le budget indiqué" in why
    first = soup.find("input", attrs={"name": "planned"})["value"]
    assert is_deliberative(get_method(db.session, first))  # co-construction: those first
    saved = client.post(
        "/admin/demarche/methods/",
        data={"csrf_token": csrf_from(page), "id": d.id, "planned": [first, "world-cafe"]},
    )
    assert saved.status_code == 302 and saved.headers["Location"].endswith("#methods")
    sheet = client.get(saved.headers["Location"]).text
    assert "Les méthodes prévues sont enregistrées." in sheet
    assert [m.slug for m in planning.planned(db.session, d)][-1] == "restitution-publique"
    # The public page shows the programme.
    public = client.get(f"/demarches/{d.slug}").text
    assert "Comment participer" in public
    assert "Restitution publique" in public
    # An elected official reads the sheet, not the planning page.
    logout(client)
    login(client, people.elected)
    assert client.get(f"/admin/demarche/methods/?id={d.id}").status_code == 403


def test_an_event_names_its_method_and_the_sheet_lists_it(client, people, make_demarche, catalogue):
    d = make_demarche("consultation")
    login(client, people.agent)
    form = client.get(f"/admin/event/new/?demarche_id={d.id}").text
    options = [
        o["value"] for o in BeautifulSoup(form, "html.parser").select("select[name=method] option")
    ]
    assert options[0] == "" and "world-cafe" in options
    day = (datetime.now(PARIS) + timedelta(days=12)).date()
    fields = {
        "csrf_token": csrf_from(form),
        "demarche": str(d.id),
        "kind": "meeting",
        "title": "Café citoyen",
        "starts_at": f"{day}T18:00",
        "ends_at": f"{day}T20:00",
        "place": "Muret",
        "territory": "Muret",
        "capacity": "40",
        "registration_open": "y",
    }
    refused = client.post("/admin/event/new/", data={**fields, "method": "chapeau"})
    assert refused.status_code == 200 and "pas de méthode « chapeau »" in refused.text
    created = client.post("/admin/event/new/", data={**fields, "method": "world-cafe"})
    assert created.status_code == 302
    sheet = client.get(f"/admin/demarche/details/?id={d.id}").text
    used = BeautifulSoup(sheet, "html.parser").find(id="methods").find_next("dl").get_text(" ")
    assert "World café" in used and "Café citoyen" in used


def test_the_sheet_and_the_edit_form_name_the_new_saisine_fields(client, people, make_demarche):
    d = make_demarche("launch", expected_participants="1 500", participation_ends_by="2027-03-01")
    login(client, people.mission)
    sheet = BeautifulSoup(client.get(f"/admin/demarche/details/?id={d.id}").text, "html.parser")
    terms = {
        dt.get_text(strip=True): dt.find_next("dd").get_text(" ", strip=True)
        for dt in sheet.find_all("dt")
    }
    assert terms["Participants attendus"] == "1500"
    assert terms["Participation terminée au plus tard le"] == "1er mars 2027"
    form = client.get(f"/admin/demarche/edit/?id={d.id}").text
    label = BeautifulSoup(form, "html.parser").find("label", attrs={"for": "expected_participants"})
    assert label.get_text(strip=True).startswith("Participants attendus")
