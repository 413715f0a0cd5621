"""Each back-office role, on the demo data, goes through every page its menus and sheets link
to: every list, every démarche's sheet (one per stage the demo holds), one sheet and one form
of every other kind. Each page answers, has a title and no serious or critical axe-core
violation. The pages are found by following links, so a page added later is visited too."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import select

from backoffice import demo
from backoffice.extensions import db
from tests import factories
from tests.browser.conftest import assert_accessible, log_in
from workflows.models import Demarche, User
from workflows.stages import Stage

pytestmark = pytest.mark.browser

# Query keys that only show a list otherwise (sorted, filtered, another page of it).
VARIANTS = re.compile(r"^(sort|desc|page|page_size|search|flt\d*_.*|url|_.*)$")
# Links that are files, not pages.
FILES = re.compile(r"\.(pdf|xlsx|csv|json|ics)$|/(pdf|xlsx|csv)/$")
# Kinds of page visited for each of their links, not only the first.
EVERY = ("/admin/demarche/details/",)
MOST_PAGES = 150
# What only the administrators see besides what the mission sees.
PEOPLE = ("/admin/user/", "/admin/elected/", "/admin/department/", "/admin/role/")


def kind_of(url: str) -> str | None:
    """What kind of page ``url`` is (its path, numbers left out, and the query keys that
    choose a record), or None for a link the journey does not follow."""
    parts = urlsplit(url)
    if not parts.path.startswith("/admin/") or FILES.search(parts.path):
        return None
    keys = sorted({k for k, _ in parse_qsl(parts.query) if not VARIANTS.match(k)})
    if any(VARIANTS.match(k) for k, _ in parse_qsl(parts.query)) and not keys:
        return None  # a list sorted or filtered otherwise: the list itself is visited
    return re.sub(r"\d+", "N", parts.path) + ("?" + "&".join(keys) if keys else "")


def journey(page, base: str, within: tuple[str, ...] = ("/admin/",)) -> list[str]:
    """Every back-office page reachable by links from the home page (only those whose path
    starts with one of ``within`` besides it); returns their kinds."""
    seen_urls: set[str] = set()
    kinds: dict[str, int] = {}
    queue = [base + "/admin/"]
    while queue:
        url = queue.pop(0)
        answer = page.goto(url)
        assert answer is not None and answer.status < 400, (url, answer and answer.status)
        assert page.locator("h1").count() == 1, f"{url}: one <h1> per page"
        assert_accessible(page)
        links = page.eval_on_selector_all(
            "a[href]:not([href^='#']):not([href^='javascript:'])",
            "links => links.map(a => a.href.split('#')[0])",
        )
        for link in links:
            kind = kind_of(link)
            if kind is None or not link.startswith(base) or link in seen_urls:
                continue
            if not kind.startswith(within):
                continue
            seen_urls.add(link)
            if kinds.get(kind) and not kind.startswith(EVERY):
                continue
            kinds[kind] = kinds.get(kind, 0) + 1
            queue.append(link)
        assert len(seen_urls) < MOST_PAGES * 10 and sum(kinds.values()) < MOST_PAGES
    return sorted(kinds)


def test_the_mission_goes_through_every_back_office_page(page, live_server, demo_data):
    mission = db.session.scalar(select(User).where(User.email == "mission@demo.cd31.fr"))
    d = db.session.scalar(select(Demarche).where(Demarche.stage == Stage.CONSULTATION))
    factories.mailing(mission, d)  # the demo sends none before the feedback
    db.session.commit()
    log_in(page, "mission@demo.cd31.fr", demo.PASSWORD)
    kinds = journey(page, live_server)
    for expected in (
        "/admin/",
        "/admin/demarche/",
        "/admin/demarche/details/?id",
        "/admin/demarche/edit/?id",
        "/admin/item/",
        "/admin/event/",
        "/admin/event/details/?id",
        "/admin/contribution/",
        "/admin/contribution/details/?id",
        "/admin/deadline/",
        "/admin/deadline/details/?id",
        "/admin/mailing/",
        "/admin/mailing/details/?id",
        "/admin/mailing/new/?demarche_id",
        "/admin/synthesis/N/",
        "/admin/charter/",
        "/admin/demarche/import/?id",
        "/admin/training/",
        "/admin/training/details/?id",
        "/admin/training/new/",
    ):
        assert expected in kinds, (expected, kinds)
    assert "/admin/user/" not in kinds  # accounts are the administrators'


def test_an_administrator_goes_through_the_people_pages(page, live_server, demo_data):
    log_in(page, "admin@demo.cd31.fr", demo.PASSWORD)
    kinds = journey(page, live_server, within=PEOPLE)
    for expected in PEOPLE:
        assert expected in kinds, (expected, kinds)


def test_a_department_agent_goes_through_every_back_office_page(page, live_server, demo_data):
    log_in(page, "routes@demo.cd31.fr", demo.PASSWORD)
    kinds = journey(page, live_server)
    for expected in ("/admin/", "/admin/demarche/", "/admin/demarche/details/?id"):
        assert expected in kinds, (expected, kinds)
    assert "/admin/user/" not in kinds


def test_an_elected_official_goes_through_every_back_office_page(page, live_server, demo_data):
    log_in(page, "elue@demo.cd31.fr", demo.PASSWORD)
    kinds = journey(page, live_server)
    assert "/admin/demarche/details/?id" in kinds, kinds
