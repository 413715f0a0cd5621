"""Headless Chromium (Debian's package) driven by Playwright, against the app served live."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.support import free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"Chromium is required (REQUIRE_BROWSER) but {CHROMIUM} is missing")
        pytest.skip("Chromium is not installed: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def demo_data(ctx):
    """What ``make run`` loads: the demo accounts and démarches."""
    from backoffice import demo
    from backoffice.extensions import db
    from workflows.clock import utcnow

    demo.load(db.session, as_of=utcnow())
    db.session.commit()


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def page(browser, live_server):
    """A page whose every Content-Security-Policy violation fails the test, and every
    document it loads must have been checked by ``assert_accessible`` before the next one."""
    context = browser.new_context(base_url=live_server, locale="fr-FR")
    page = context.new_page()
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    loads = _Loads()
    page.expose_binding("__dialogueLoaded", loads.on_load)
    page.add_init_script(loads.REPORT)
    page._dialogue_loads = loads  # type: ignore[attr-defined]
    yield page
    if not page.is_closed():
        page.evaluate("1")  # hear the last document's report
    context.close()
    assert not violations, violations
    unchecked = loads.unchecked
    assert not unchecked, f"pages loaded but not given to assert_accessible: {unchecked}"


class _Loads:
    """The HTML documents a page loaded, each known by its ``performance.timeOrigin`` (so the
    order in which the load and the check are heard does not matter), and those checked.
    Each document reports its own load through a binding: a Playwright event handler may
    not talk to the page."""

    REPORT = (
        "addEventListener('load', () => window.__dialogueLoaded("
        "performance.timeOrigin, document.contentType, location.href))"
    )

    def __init__(self) -> None:
        self.loaded: dict[float, str] = {}
        self.checked: set[float] = set()

    def on_load(self, source, origin: float, content_type: str, url: str) -> None:
        if content_type == "text/html":
            self.loaded.setdefault(origin, url)

    def check(self, page) -> None:
        self.checked.add(page.evaluate("performance.timeOrigin"))

    @property
    def unchecked(self) -> list[str]:
        return [url for origin, url in self.loaded.items() if origin not in self.checked]


# axe-core rules that must run: a check that disabled them would pass for the wrong reason.
REQUIRED_RULES = frozenset({"color-contrast", "link-name", "button-name", "label"})


def assert_accessible(page) -> None:
    """axe-core finds no serious or critical violation on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    kinds = ("violations", "passes", "incomplete", "inapplicable")
    ran = {rule["id"] for kind in kinds for rule in results.response[kind]}
    assert REQUIRED_RULES <= ran, f"axe-core did not run {sorted(REQUIRED_RULES - ran)}"
    grave = [
        (v["id"], v["impact"], [node["target"] for node in v["nodes"]][:5])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not grave, f"{page.url}: {grave}"
    loads = getattr(page, "_dialogue_loads", None)
    if loads is not None:
        loads.check(page)


CONTRAST_JS = (Path(__file__).parent / "contrast.js").read_text()
TEXT_CONTRAST = 4.5  # WCAG 1.4.3 for all text, large text and controls included
FOCUS_CONTRAST = 3.0  # WCAG 1.4.11: the focus indicator against what surrounds it
TABS = 30  # keystrokes of the real keyboard walk; the rest are focused as the keyboard does


def assert_contrasted(page, *, keyboard: bool = True) -> None:
    """Every visible text of the page, links, buttons (disabled ones too), badges and fields
    included, reaches 4.5:1 against the background it is drawn on; every focusable element,
    focused from the keyboard, shows an outline or a shadow of 3:1 against its surroundings,
    and its text still reaches 4.5:1. ``keyboard=False`` leaves out the real Tab walk (which
    closes an open menu)."""
    page.evaluate(CONTRAST_JS)
    assert page.evaluate("__contrast.textCount()") > 0, page.url
    faint = page.evaluate(f"__contrast.texts({TEXT_CONTRAST})")
    assert not faint, f"{page.url}: text below {TEXT_CONTRAST}:1: {faint[:10]}"

    measured = []
    page.evaluate("document.activeElement && document.activeElement.blur()")
    for _ in range(TABS if keyboard else 0):
        page.keyboard.press("Tab")
        found = page.evaluate("__contrast.focused()")
        if found is None:
            break
        measured.append(found)
    measured += page.evaluate("__contrast.allFocus()")
    assert measured, f"{page.url}: nothing to focus"
    unseen = [
        (m["element"], m["best"])
        for m in measured
        if m["best"] is None or m["best"]["ratio"] < FOCUS_CONTRAST
    ]
    assert not unseen, f"{page.url}: focus indicator below {FOCUS_CONTRAST}:1: {unseen[:10]}"
    faint = [(m["element"], m["text"]) for m in measured if m["text"]["ratio"] < TEXT_CONTRAST]
    assert not faint, f"{page.url}: focused text below {TEXT_CONTRAST}:1: {faint[:10]}"


def log_in(page, email: str, password: str, *, start: str = "/login") -> None:
    """Sign in from the sign-in page, each page it shows checked by axe-core. ``start`` may be
    a page that sends a signed-out visitor to the sign-in page (and back to it after)."""
    page.goto(start)
    assert page.locator("h1").inner_text() == "Connexion"
    assert_accessible(page)
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    page.get_by_role("button", name="Connexion").click()
    page.wait_for_load_state()
    assert_accessible(page)
