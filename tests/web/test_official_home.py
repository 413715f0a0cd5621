"""The home of an elected official: their démarches, not the mission's lists (issue 12)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup
from sqlalchemy import select

from backoffice.extensions import db
from tests import factories
from tests.support import csrf_from, login
from workflows import charter
from workflows.clock import local_date, utcnow
from workflows.models import Deadline

MISSION_LISTS = (
    "Démarches par étape",
    "En attente de votre action",
    "Questions en attente de réponse",
    "Envois en cours",
    "Nouvelle saisine",
)


def _cards(page: str) -> list[str]:
    soup = BeautifulSoup(page, "html.parser")
    return [card.find(["h2", "h3"]).get_text(strip=True) for card in soup.select("article.card")]


def _admin_links(page: str) -> set[str]:
    soup = BeautifulSoup(page, "html.parser")
    found = set()
    for link in soup.find_all("a", href=True):
        target = urlsplit(urljoin("/admin/", link["href"]))
        if target.netloc in ("", "localhost") and target.path.startswith("/admin/"):
            found.add(target._replace(scheme="", netloc="", fragment="").geturl())
    return found


def _review(d) -> Deadline:
    return db.session.scalar(
        select(Deadline).where(Deadline.demarche_id == d.id, Deadline.rule_code == "review_saisine")
    )


def _ends(deadline: Deadline, days: int) -> None:
    """Make ``deadline``'s last day ``days`` from today (negative: over)."""
    deadline.due_date = local_date(utcnow()) + timedelta(days=days)
    deadline.due_at = charter.paris_midnight(deadline.due_date + timedelta(days=1))


def test_an_official_reads_their_demarches_late_first(client, people, make_demarche):
    later = make_demarche("submitted", title="Collèges ouverts le samedi")
    late = make_demarche("submitted", title="Plan vélo du Lauragais")
    consultation = make_demarche("consultation", title="Routes de montagne")
    make_demarche("draft", title="Aide à domicile", elected_official=people.other_elected)
    factories.contribution(
        consultation, people.mission, body="Un avis sur la RD 820", author=factories.participant()
    )
    factories.event(consultation, people.mission, starts_in=timedelta(days=10))
    _ends(_review(later), 5)
    _ends(_review(late), -2)
    for deadline in db.session.scalars(
        select(Deadline).where(Deadline.rule_code == "acknowledge_saisine")
    ):
        deadline.status, deadline.met_at = "met", utcnow()  # the receipts went out
    db.session.commit()

    login(client, people.elected)
    page = client.get("/admin/").text
    assert "Bonjour Élodie Élue" in page
    assert _cards(page) == [
        "Plan vélo du Lauragais",
        "Collèges ouverts le samedi",
        "Routes de montagne",
    ]
    assert "Aide à domicile" not in page
    assert "3 démarches en cours, dont 1 en retard." in page
    for heading in MISSION_LISTS:
        assert heading not in page

    soup = BeautifulSoup(page, "html.parser")
    first = soup.select("article.card")[0].get_text(" ", strip=True)
    assert "Saisine déposée" in first and "En retard" in first
    assert "Examiner une saisine — dernier jour" in first
    assert (
        "Étape suivante Lancement . Elle y passera quand la mission acceptera la saisine." in first
    )
    third = soup.select("article.card")[2].get_text(" ", strip=True)
    assert "1 contribution publiée" in third and "1 personne a participé" in third
    assert "1 événement à venir : 0 inscription" in third
    assert "Elle y passera d’elle-même après le dernier jour de la consultation" in third


def test_no_link_of_the_official_home_refuses_them(client, people, make_demarche):
    d = make_demarche("consultation")
    factories.contribution(d, people.mission, body="Un avis")
    asked = factories.contribution(d, people.mission, body="Une question ?", kind="question")
    question_deadline = charter.deadline_of_question(db.session, asked)
    _ends(question_deadline, -1)
    db.session.commit()
    login(client, people.elected)
    links = _admin_links(client.get("/admin/").text)
    assert f"/admin/demarche/details/?id={d.id}" in links
    assert f"/admin/deadline/details/?id={question_deadline.id}" in links
    assert not any("/admin/contribution/" in link for link in links)  # not theirs to open
    assert [link for link in sorted(links) if client.get(link).status_code != 200] == []


def test_an_official_without_demarche_is_told_whom_to_ask(client, people, make_demarche):
    make_demarche("submitted", elected_official=people.other_elected)
    login(client, people.elected)
    page = client.get("/admin/").text
    assert "Aucune démarche participative ne vous a encore été confiée." in page
    assert f'href="mailto:{people.mission.email}"' in page and "Marc Mission" in page
    assert _cards(page) == []
    for heading in MISSION_LISTS:
        assert heading not in page


def test_the_mission_and_the_agents_keep_their_home(client, people, make_demarche):
    make_demarche("submitted", title="Plan vélo du Lauragais")
    for user in (people.mission, people.agent):
        login(client, user)
        page = client.get("/admin/").text
        assert "Démarches par étape" in page and "En attente de votre action" in page
        assert "Vos démarches en cours" not in page
        client.post("/logout", data={"csrf_token": csrf_from(page)})
