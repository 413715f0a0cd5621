"""The consultation in the back office: items, moderation, events, imports, exports."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import func, select

from backoffice.extensions import db
from tests import factories
from tests.support import csrf_from, login
from workflows.clock import PARIS, utcnow
from workflows.models import (
    AuditEntry,
    Contribution,
    ContributionImport,
    ContributionStatus,
    Event,
    Item,
)

DATA = Path(__file__).parent.parent / "data" / "reference"


def test_items_are_prepared_by_the_mission_and_the_department(client, people, make_demarche):
    d = make_demarche("launch")
    login(client, people.agent)
    form = client.get("/admin/item/new/").text
    assert d.title in form
    response = client.post(
        "/admin/item/new/",
        data={
            "csrf_token": csrf_from(form),
            "demarche": str(d.id),
            "title": "Option du nord",
            "text": "Par la RD 820",
        },
    )
    assert response.status_code == 302
    item = db.session.scalar(select(Item).where(Item.title == "Option du nord"))
    assert item.position == 1 and item.demarche_id == d.id
    assert "Option du nord" in client.get(f"/admin/demarche/details/?id={d.id}").text


def test_an_item_with_contributions_cannot_be_deleted(client, people, make_demarche):
    d = make_demarche("consultation")
    factories.contribution(d, people.mission, body="Avis")
    db.session.commit()
    login(client, people.mission)
    page = client.get("/admin/item/").text
    response = client.post(
        "/admin/item/delete/",
        data={"csrf_token": csrf_from(page), "id": str(d.items[0].id)},
        follow_redirects=True,
    )
    assert "cet élément a 1 contributions : il ne peut pas être supprimé" in response.text
    assert db.session.get(Item, d.items[0].id) is not None


def test_the_mission_hides_with_a_reason_and_restores(client, people, make_demarche):
    d = make_demarche("consultation")
    c = factories.contribution(d, people.mission, body="Injurieux")
    db.session.commit()
    login(client, people.mission)
    sheet = client.get(f"/admin/contribution/details/?id={c.id}").text
    refused = client.post(
        "/admin/contribution/moderate/",
        data={"csrf_token": csrf_from(sheet), "id": c.id, "action": "hide", "reason": " "},
        follow_redirects=True,
    )
    assert "indiquez le motif" in refused.text
    client.post(
        "/admin/contribution/moderate/",
        data={"csrf_token": csrf_from(sheet), "id": c.id, "action": "hide", "reason": "injure"},
    )
    db.session.refresh(c)
    assert c.status == ContributionStatus.HIDDEN
    listing = client.get(f"/admin/contribution/?flt0_0={d.id}").text
    assert "Masquée" in listing
    client.post(
        "/admin/contribution/moderate/",
        data={"csrf_token": csrf_from(sheet), "id": c.id, "action": "restore"},
    )
    db.session.refresh(c)
    assert c.status == ContributionStatus.PUBLISHED


def test_agents_read_contributions_but_do_not_moderate(client, people, make_demarche):
    d = make_demarche("consultation")
    c = factories.contribution(d, people.mission, body="Avis")
    db.session.commit()
    login(client, people.agent)
    sheet = client.get(f"/admin/contribution/details/?id={c.id}").text
    assert "Avis" in sheet and "Masquer" not in sheet
    client.post(
        "/admin/contribution/moderate/",
        data={"csrf_token": csrf_from(sheet), "id": c.id, "action": "hide", "reason": "x"},
    )
    db.session.refresh(c)
    assert c.status == ContributionStatus.PUBLISHED
    from tests.support import logout

    logout(client)
    login(client, people.other_agent)
    assert client.get(f"/admin/contribution/details/?id={c.id}").status_code == 404


def test_an_event_in_paris_time_with_attendance_and_collected_contributions(
    client, people, make_demarche
):
    d = make_demarche("consultation")
    login(client, people.mission)
    form = client.get("/admin/event/new/").text
    day = (datetime.now(PARIS) + timedelta(days=20)).date()
    response = client.post(
        "/admin/event/new/",
        data={
            "csrf_token": csrf_from(form),
            "demarche": str(d.id),
            "kind": "workshop",
            "title": "Atelier du samedi",
            "starts_at": f"{day}T09:30",
            "ends_at": f"{day}T12:00",
            "place": "Muret",
            "territory": "Muret",
            "capacity": "20",
            "registration_open": "y",
        },
    )
    assert response.status_code == 302, response.text
    event = db.session.scalar(select(Event))
    assert event.starts_at.astimezone(PARIS).strftime("%H:%M") == "09:30"
    sheet = client.get(response.headers["Location"]).text
    client.post(
        "/admin/event/collected/",
        data={
            "csrf_token": csrf_from(sheet),
            "id": event.id,
            "item_id": d.items[0].id,
            "kind": "proposal",
            "body": "Des navettes le samedi",
            "author_email": "ana@exemple.fr",
            "commune": "Muret",
        },
    )
    collected = db.session.scalar(select(Contribution).where(Contribution.event_id == event.id))
    assert (collected.channel.value, collected.canton_code) == ("workshop", "3109")
    assert collected.participant.email == "ana@exemple.fr"
    client.post(
        "/admin/event/attendance/",
        data={"csrf_token": csrf_from(sheet), "id": event.id, "minutes": "Quinze présents"},
    )
    db.session.refresh(event)
    assert event.minutes == "Quinze présents"


def test_an_import_is_previewed_then_run(client, people, make_demarche):
    d = make_demarche("consultation")
    login(client, people.mission)
    page = client.get(f"/admin/demarche/import/?id={d.id}").text
    raw = (DATA / "decidim-comments-nancy-2019.csv").read_bytes()
    bad = "item;text\nEngagement n°1;Bien\nInconnu;Mal\n".encode()
    preview = client.post(
        f"/admin/demarche/import/?id={d.id}",
        data={
            "csrf_token": csrf_from(page),
            "id": d.id,
            "format": "",
            "file": (io.BytesIO(bad), "avis.csv"),
        },
        content_type="multipart/form-data",
    )
    assert preview.status_code == 302
    status = client.get(preview.headers["Location"]).text
    assert "Lignes à importer" in status and "élément inconnu : « Inconnu »" in status
    assert db.session.scalar(select(func.count(Contribution.id))) == 0  # nothing written yet
    client.post(preview.headers["Location"], data={"csrf_token": csrf_from(status)})
    assert db.session.scalar(select(func.count(Contribution.id))) == 1

    decidim = client.post(
        f"/admin/demarche/import/?id={d.id}",
        data={
            "csrf_token": csrf_from(page),
            "id": d.id,
            "format": "",
            "file": (io.BytesIO(raw), "nancy.csv"),
        },
        content_type="multipart/form-data",
    )
    client.post(decidim.headers["Location"], data={"csrf_token": csrf_from(status)})
    record = db.session.scalars(
        select(ContributionImport).order_by(ContributionImport.id.desc())
    ).first()
    assert (record.format, record.status.value, record.imported) == ("decidim", "done", 44)
    assert not Path(record.path).exists()  # the file may hold personal data: not kept


def test_exports_in_xlsx_without_and_with_personal_data(client, people, make_demarche):
    d = make_demarche("consultation")
    factories.contribution(d, people.mission, body="+33 avis")
    db.session.commit()
    login(client, people.mission)
    sheet = client.get(f"/admin/demarche/details/?id={d.id}").text
    response = client.post(
        "/admin/demarche/export/",
        data={"csrf_token": csrf_from(sheet), "id": d.id, "format": "xlsx", "personal": "0"},
    )
    assert response.headers["Content-Disposition"].endswith(".xlsx")
    sheet_cells = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet_cells.values)
    assert rows[1][5] == "+33 avis"  # shown as written …
    assert sheet_cells.cell(row=2, column=6).data_type == "s"  # … as text, never a formula
    assert "author_email" not in rows[0]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "contributions.export"))
    assert entry.data == {"format": "xlsx", "personal": False} and entry.actor == people.mission


def test_only_the_mission_reads_participants_addresses_in_the_back_office(
    client, people, citizen, make_demarche
):
    from workflows import events
    from workflows.participants import participant_for_user

    d = make_demarche("consultation")
    now = utcnow()
    claire = participant_for_user(db.session, citizen, as_of=now)
    anonymous = factories.participant("sans.nom@exemple.fr", as_of=now)
    for author, channel in ((claire, "online"), (anonymous, "mail")):
        factories.contribution(
            d,
            citizen if channel == "online" else people.mission,
            body=f"Avis par {channel}",
            author=author,
            channel=channel,
            as_of=now,
        )
    event = factories.event(
        d,
        people.mission,
        starts_at=now + timedelta(days=10),
        lasts=timedelta(hours=2),
        capacity=10,
        as_of=now,
    )
    events.register(db.session, event.id, claire, as_of=now)
    db.session.commit()
    contribution = db.session.scalar(select(Contribution).where(Contribution.channel == "mail"))
    pages = (
        "/admin/contribution/",
        f"/admin/contribution/details/?id={contribution.id}",
        f"/admin/event/details/?id={event.id}",
    )

    login(client, people.agent)
    for url in pages:
        page = client.get(url).text
        assert "claire@exemple.fr" not in page and "sans.nom@exemple.fr" not in page, url
    assert "Claire Dubois" in client.get(f"/admin/event/details/?id={event.id}").text
    listing = client.get("/admin/contribution/").text
    assert "Claire Dubois" in listing and f"participant·e n° {anonymous.id}" in listing

    client.post("/logout", data={"csrf_token": csrf_from(client.get("/admin/").text)})
    login(client, people.mission)
    assert "sans.nom@exemple.fr" in client.get(pages[1]).text
    assert "claire@exemple.fr" in client.get(pages[2]).text
