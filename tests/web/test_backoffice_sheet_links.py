"""The démarche sheet: what is added from it belongs to it, and it offers nobody a link that
refuses them (issue 12, « Broken »)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from backoffice.extensions import db
from tests import factories
from tests.support import csrf_from, login
from workflows.models import Event, Item

ADD_ITEM = "Ajouter un élément"
ADD_EVENT = "Organiser un événement"


def _link(page: str, text: str) -> str | None:
    soup = BeautifulSoup(page, "html.parser")
    found = soup.find("a", string=lambda s: s is not None and s.strip() == text)
    return found["href"] if found is not None else None


def _two_demarches(make_demarche, stage: str):
    """The sheet's démarche, and another one first in alphabetical order (which the generic
    form preselected)."""
    first = make_demarche(stage, title="Aaa — une autre démarche")
    ours = make_demarche(stage, title="Zzz — la démarche de la fiche")
    db.session.commit()
    return first, ours


def test_an_item_added_from_the_sheet_belongs_to_its_demarche(client, people, make_demarche):
    first, ours = _two_demarches(make_demarche, "launch")
    login(client, people.agent)
    sheet_url = f"/admin/demarche/details/?id={ours.id}"
    href = _link(client.get(sheet_url).text, ADD_ITEM)
    assert href is not None
    assert parse_qs(urlsplit(href).query)["demarche_id"] == [str(ours.id)]

    form = client.get(href).text
    soup = BeautifulSoup(form, "html.parser")
    assert soup.find(attrs={"name": "demarche"}) is None  # no select to change it
    assert soup.find(id="fixed-demarche").text == ours.title
    assert first.title not in form

    response = client.post(
        href,
        data={
            "csrf_token": csrf_from(form),
            "demarche": str(first.id),  # a forged other démarche is ignored
            "title": "Option du nord",
            "text": "Par la RD 820",
        },
    )
    assert response.status_code == 302
    assert urlsplit(response.location).path == "/admin/demarche/details/"
    assert parse_qs(urlsplit(response.location).query)["id"] == [str(ours.id)]
    item = db.session.scalar(select(Item).where(Item.title == "Option du nord"))
    assert item.demarche_id == ours.id


def test_save_and_add_another_stays_on_the_demarche(client, people, make_demarche):
    _, ours = _two_demarches(make_demarche, "draft")
    login(client, people.mission)
    href = f"/admin/item/new/?demarche_id={ours.id}"
    form = client.get(href).text
    response = client.post(
        href,
        data={"csrf_token": csrf_from(form), "title": "Premier", "_add_another": "1"},
    )
    assert response.status_code == 302
    assert parse_qs(urlsplit(response.location).query)["demarche_id"] == [str(ours.id)]


def test_an_event_organised_from_the_sheet_belongs_to_its_demarche(client, people, make_demarche):
    first, ours = _two_demarches(make_demarche, "consultation")
    login(client, people.mission)
    href = _link(client.get(f"/admin/demarche/details/?id={ours.id}").text, ADD_EVENT)
    assert href is not None
    form = client.get(href).text
    soup = BeautifulSoup(form, "html.parser")
    assert soup.find(attrs={"name": "demarche"}) is None
    assert soup.find(id="fixed-demarche").text == ours.title

    response = client.post(
        href,
        data={
            "csrf_token": csrf_from(form),
            "demarche": str(first.id),
            "kind": "workshop",
            "title": "Atelier du nord",
            "starts_at": "2030-03-02T18:00",
            "ends_at": "2030-03-02T20:00",
            "place": "Salle des fêtes",
            "territory": "",
            "capacity": "40",
            "registration_open": "y",
        },
    )
    assert response.status_code == 302
    assert parse_qs(urlsplit(response.location).query)["id"] == [str(ours.id)]
    event = db.session.scalar(select(Event).where(Event.title == "Atelier du nord"))
    assert event.demarche_id == ours.id


@pytest.mark.parametrize(
    ("stage", "item", "event"),
    [
        ("draft", True, False),
        ("launch", True, True),
        ("consultation", True, True),
        ("synthesis", False, True),
        ("closed", False, False),
    ],
)
def test_the_sheet_offers_to_add_only_where_the_stage_allows(
    client, people, make_demarche, stage, item, event
):
    d = make_demarche(stage)
    db.session.commit()
    for user, may in ((people.agent, True), (people.elected, False)):
        login(client, user)
        page = client.get(f"/admin/demarche/details/?id={d.id}").text
        assert (_link(page, ADD_ITEM) is not None) == (item and may), (user.email, stage)
        assert (_link(page, ADD_EVENT) is not None) == (event and may), (user.email, stage)
        client.post("/logout", data={"csrf_token": csrf_from(page)})


def test_a_demarche_not_one_s_own_cannot_be_fixed(client, people, make_demarche):
    d = make_demarche("launch")
    db.session.commit()
    login(client, people.other_agent)  # cannot see it
    assert client.get(f"/admin/item/new/?demarche_id={d.id}").status_code == 404
    assert client.get(f"/admin/event/new/?demarche_id={d.id}").status_code == 404
    assert client.get("/admin/item/new/?demarche_id=abc").status_code == 404


def _admin_links(page: str, base: str) -> set[str]:
    soup = BeautifulSoup(page, "html.parser")
    found = set()
    for link in soup.find_all("a", href=True):
        target = urljoin(base, link["href"]).split("#")[0]
        parts = urlsplit(target)
        if parts.netloc in ("", "localhost") and parts.path.startswith("/admin/"):
            found.add(parts._replace(scheme="", netloc="").geturl())
    return found


@pytest.mark.parametrize("stage", ["consultation", "synthesis"])
@pytest.mark.parametrize("who", ["mission", "agent", "elected"])
def test_no_link_of_the_sheet_or_home_refuses_its_user(client, people, make_demarche, stage, who):
    d = make_demarche(stage)
    factories.event(d, people.mission)
    factories.contribution(d, people.mission, body="Un avis")
    db.session.commit()
    user = getattr(people, who)
    login(client, user)
    sheet = f"/admin/demarche/details/?id={d.id}"
    links = _admin_links(client.get(sheet).text, sheet) | _admin_links(
        client.get("/admin/").text, "/admin/"
    )
    # The sheet's own consultation links are there for those who may open them.
    assert any("/admin/item/" in link for link in links) == (who != "elected")
    refused = [link for link in sorted(links) if client.get(link).status_code == 403]
    assert not refused, (who, refused)


def test_the_item_form_leaves_the_order_empty_so_the_item_goes_last(client, people, make_demarche):
    d = make_demarche("launch")
    login(client, people.mission)
    href = f"/admin/item/new/?demarche_id={d.id}"
    first = client.post(
        href, data={"csrf_token": csrf_from(client.get(href).text), "title": "A", "position": ""}
    )
    assert first.status_code == 302
    form = client.get(href).text
    position = re.search(r'<input[^>]*name="position"[^>]*>', form).group(0)
    assert 'value="1"' not in position  # « Vide : après le dernier élément » is true
    client.post(href, data={"csrf_token": csrf_from(form), "title": "B", "position": ""})
    db.session.expire_all()
    positions = {i.title: i.position for i in d.items}
    assert positions["B"] == positions["A"] + 1 == max(positions.values())
