"""Every back-office form, posted as a user would, on the demo data: never a server error.

The crawler logs in as each staff role, follows the back office's own links from its home
page, and submits every POST form it meets with the values the page put in it (what a user
who clicks « Enregistrer » without changing anything sends). A form that SQLite accepts may
fail on PostgreSQL (row locks, integer bounds, types): CI runs this module on both.
"""

from __future__ import annotations

from collections import deque
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
from bs4 import BeautifulSoup
from werkzeug.datastructures import MultiDict

from backoffice import demo
from backoffice.extensions import db
from tests.support import login
from workflows.clock import utcnow
from workflows.models import User

#: Forms that end the session or start over what the crawl needs; posted by their own tests.
SKIPPED_ACTIONS = ("/logout", "/admin/mail/clear")
MAX_PAGES = 400


def _values(form) -> list[tuple[str, str]]:
    """What the browser sends for ``form`` as the page filled it."""
    values: list[tuple[str, str]] = []
    for field in form.find_all(["input", "select", "textarea"]):
        name = field.get("name")
        if not name or field.has_attr("disabled"):
            continue
        if field.name == "textarea":
            values.append((name, field.text))
        elif field.name == "select":
            chosen = field.find("option", selected=True) or field.find("option")
            if chosen is not None:
                values.append((name, chosen.get("value", chosen.text)))
        else:
            kind = (field.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if field.has_attr("checked"):
                    values.append((name, field.get("value", "on")))
            elif kind not in ("submit", "button", "file", "image", "reset"):
                values.append((name, field.get("value", "")))
    return values


def _page_key(url: str) -> str:
    """Pages that differ only by sorting, filtering, paging or their return URL are one page."""
    parts = urlsplit(url)
    kept = sorted(
        (name, value)
        for name, value in parse_qsl(parts.query)
        if name not in ("url", "sort", "desc", "page", "search", "page_size")
        and not name.startswith("flt")
    )
    return f"{parts.path}?{urlencode(kept)}"


def _local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.netloc in ("", "localhost") and parts.path.startswith("/admin/")


def crawl(client) -> tuple[list[tuple[str, int]], int, int]:
    """Visit the back office from /admin/, posting every form met once per (action, fields).

    Returns the server errors met, and how many pages and forms were tried."""
    errors: list[tuple[str, int]] = []
    seen_pages: set[str] = set()
    seen_forms: set[tuple[str, tuple[str, ...]]] = set()
    queue = deque(["/admin/"])
    pages = forms = 0
    while queue and pages < MAX_PAGES:
        url = queue.popleft()
        if _page_key(url) in seen_pages:
            continue
        seen_pages.add(_page_key(url))
        response = client.get(url)
        pages += 1
        if response.status_code >= 500:
            errors.append((f"GET {url}", response.status_code))
            continue
        if response.status_code != 200 or "html" not in response.content_type:
            continue
        soup = BeautifulSoup(response.text, "html.parser")
        for link in soup.find_all("a", href=True):
            target = urljoin(url, link["href"]).split("#")[0]
            # Exports and documents are read by their own tests; the crawl wants forms.
            if _local(target) and "/export/" not in target and _page_key(target) not in seen_pages:
                queue.append(urlsplit(target)._replace(scheme="", netloc="").geturl())
        for form in soup.find_all("form"):
            if (form.get("method") or "get").lower() != "post":
                continue
            action = urljoin(url, form.get("action") or url)
            if not _local(action) or any(skip in action for skip in SKIPPED_ACTIONS):
                continue
            values = _values(form)
            key = (urlsplit(action).path, tuple(sorted(name for name, _ in values)))
            if key in seen_forms:
                continue
            seen_forms.add(key)
            forms += 1
            posted = client.post(action, data=MultiDict(values))
            if posted.status_code >= 500:
                errors.append((f"POST {action} from {url}", posted.status_code))
    return errors, pages, forms


@pytest.fixture
def demo_data(ctx):
    demo.load(db.session, as_of=utcnow())
    db.session.commit()


@pytest.mark.parametrize(
    "email",
    [
        "mission@demo.cd31.fr",
        "routes@demo.cd31.fr",
        "elue@demo.cd31.fr",
        "admin@demo.cd31.fr",
    ],
)
def test_every_back_office_form_posts_without_a_server_error(client, demo_data, email):
    user = db.session.query(User).filter_by(email=email).one()
    login(client, user, password=demo.PASSWORD)
    errors, pages, forms = crawl(client)
    assert not errors, errors
    # The crawl really went through the back office (not stopped at a login page).
    assert pages > 10
    if user.has_role("mission") or user.has_role("department"):
        assert forms >= 5  # an agent: the sheet's moves, decisions, the guided saisine…
