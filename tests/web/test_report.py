"""The yearly report where people read it: ``/bilan/<year>`` (public, no script, the map with
its table), its PDF and spreadsheet — 503 in French until a worker made them, then served and
read back —, the API ``/api/v1/reports/{year}`` (+ ``.pdf``, ``.xlsx``), the command
``flask --app wsgi evaluation report YEAR``, and the years that do not exist (404)."""

from __future__ import annotations

import html
import io
import re

import pypdfium2
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from backoffice.extensions import db
from backoffice.outgoing.report import make_documents, number
from tests.domain.test_report import MURET, TOULOUSE, said
from workflows import report
from workflows.clock import local_date, utcnow
from workflows.models import Demarche
from workflows.participants import participant_for_email

YEAR = local_date(utcnow()).year


def text_of(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())


def inked(data: bytes, index: int) -> float:
    page = pypdfium2.PdfDocument(data)[index].render(scale=1).to_pil().convert("L")
    return sum(page.histogram()[:128]) / (page.width * page.height)


def a_year(make_demarche) -> None:
    now = utcnow()
    ana = participant_for_email(db.session, "ana@exemple.fr", name="Ana", as_of=now)
    bruno = participant_for_email(db.session, "bruno@exemple.fr", name="Bruno", as_of=now)
    d = make_demarche("consultation", title="Routes <b>et</b> pistes")
    said(d, ana, MURET)
    said(d, bruno, TOULOUSE)
    db.session.commit()


def test_the_page_shows_the_year_with_its_map_and_tables(client, make_demarche):
    a_year(make_demarche)
    page = client.get(f"/bilan/{YEAR}")
    assert page.status_code == 200
    text = text_of(page.text)
    assert f"Bilan annuel {YEAR}" in text
    assert "Participants par canton" in text and "Muret" in text
    assert "<svg" in page.text and "<table" in page.text  # the map, and its table
    assert "Toulouse compte pour une seule unité" in text
    assert "<script" not in page.text.split("<main", 1)[1]
    # The map draws Toulouse's eleven cantons as one area: Bruno over the population of the
    # commune and of the Toulouse-N cantons' other communes.
    r = report.yearly(db.session, YEAR, as_of=utcnow())
    town = [c for c in r.per_canton if c["name"].startswith("Toulouse")]
    rate = 1 / sum(c["population"] for c in town) * 1000
    assert f"<title>Toulouse-1 : {number(rate)}</title>" in page.text
    muret = next(c for c in r.per_canton if c["name"] == "Muret")
    assert f"<title>Muret : {number(muret['per_1000'])}</title>" in page.text
    assert client.get("/bilan").headers["Location"].endswith(f"/bilan/{YEAR}")
    assert f"/bilan/{YEAR}" in client.get("/bilan", follow_redirects=True).request.path


def test_a_year_with_nothing_says_so_and_absurd_years_are_404(client, ctx):
    empty = client.get("/bilan/2019")
    assert empty.status_code == 200
    assert "Aucune démarche n’a ouvert sa consultation en 2019" in html.unescape(empty.text)
    for year in ("1999", str(YEAR + 1), "99999999999"):
        missing = client.get(f"/bilan/{year}")
        assert missing.status_code == 404, year
        assert "introuvable" in html.unescape(missing.text).lower()
    assert client.get("/bilan/deux-mille").status_code == 404


def test_the_documents_are_503_until_made_then_read_back(client, make_demarche):
    a_year(make_demarche)
    for extension in ("pdf", "xlsx"):
        waiting = client.get(f"/bilan/{YEAR}.{extension}")
        assert waiting.status_code == 503
        assert waiting.headers["Retry-After"] == "120"
        assert "en préparation" in html.unescape(waiting.text)

    assert make_documents(db.session, YEAR, as_of=utcnow()).startswith(f"{YEAR}: made")
    assert make_documents(db.session, YEAR, as_of=utcnow()) == f"{YEAR}: up to date"

    pdf = client.get(f"/bilan/{YEAR}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert f"bilan-dialogue-citoyen-{YEAR}.pdf" in pdf.headers["Content-Disposition"]
    text = pdf_text(pdf.data)
    for expected in (
        f"Bilan annuel {YEAR}",
        "Chiffres clés",
        "Participants par canton",
        "Muret",
        "Échéances de la charte",
        "Tendances",
    ):
        assert expected in text, expected
    pages = len(PdfReader(io.BytesIO(pdf.data)).pages)
    assert pages >= 2
    assert inked(pdf.data, 0) > 0.001  # the title page
    assert all(inked(pdf.data, n) > 0.001 for n in range(pages))

    sheet = client.get(f"/bilan/{YEAR}.xlsx")
    assert sheet.status_code == 200
    book = load_workbook(io.BytesIO(sheet.data))
    assert "Chiffres clés" in book.sheetnames and "Participants par canton" in book.sheetnames
    rows = list(book["Chiffres clés"].iter_rows(values_only=True))
    assert ["Participants", 2] in [list(r[:2]) for r in rows]
    cantons = {r[0]: r for r in book["Participants par canton"].iter_rows(values_only=True)}
    assert cantons["Toulouse"][2] == 1

    # A new contribution makes the current year's documents stale: made again.
    carl = participant_for_email(db.session, "carl@exemple.fr", name="Carl", as_of=utcnow())
    roads = db.session.scalar(select(Demarche).where(Demarche.title == "Routes <b>et</b> pistes"))
    said(roads, carl, MURET)
    db.session.commit()
    assert make_documents(db.session, YEAR, as_of=utcnow()).startswith(f"{YEAR}: made")


def test_the_api_gives_the_report_and_its_documents(api, client, people, make_demarche):
    a_year(make_demarche)
    assert client.get(f"/api/v1/reports/{YEAR}").status_code == 401
    answer = api(people.agent, "get", f"/api/v1/reports/{YEAR}")
    assert answer.status_code == 200
    data = answer.json
    assert data["year"] == YEAR and data["live"] is True and data["empty"] is False
    assert data["figures"]["demarches"] == 1 and data["figures"]["participants"] == 2
    assert len(data["per_canton"]) == 22
    assert data["survey_note"] == "non disponible"
    assert data["labels"] == [] and data["documents"] is None
    assert data["page"].endswith(f"/bilan/{YEAR}")

    pending = api(people.agent, "get", f"/api/v1/reports/{YEAR}.pdf")
    assert pending.status_code == 503 and pending.headers["Retry-After"] == "120"
    assert "en cours" in pending.json["message"]

    make_documents(db.session, YEAR, as_of=utcnow())
    pdf = api(people.agent, "get", f"/api/v1/reports/{YEAR}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    xlsx = api(people.agent, "get", f"/api/v1/reports/{YEAR}.xlsx")
    assert xlsx.status_code == 200 and xlsx.data.startswith(b"PK")
    assert api(people.agent, "get", f"/api/v1/reports/{YEAR}").json["documents"]["pages"] >= 2

    assert api(people.agent, "get", "/api/v1/reports/2019").json["empty"] is True
    gone = api(people.agent, "get", "/api/v1/reports/1800")
    assert gone.status_code == 404 and "aucun bilan" in gone.json["message"]


def test_the_command_makes_and_keeps_the_documents(app, make_demarche):
    a_year(make_demarche)
    result = app.test_cli_runner().invoke(args=["evaluation", "report", str(YEAR)])
    assert result.exit_code == 0, result.output
    assert f"{YEAR}: made" in result.output
    assert "1 démarches, 2 participants, 2 contributions" in result.output
    assert f"/bilan/{YEAR}.pdf" in result.output
    assert report.kept(db.session, YEAR) is not None
    refused = app.test_cli_runner().invoke(args=["evaluation", "report", "1800"])
    assert refused.exit_code != 0


def test_the_home_and_the_dashboard_link_to_the_report(client, people):
    from tests.support import login

    assert "/bilan" in client.get("/").text
    login(client, people.mission)
    assert "/bilan" in client.get("/admin/").text


def test_a_past_year_is_kept_and_the_current_one_made_again_when_it_changes(
    app, client, make_demarche
):
    from datetime import timedelta

    from backoffice.outgoing.report import years_to_sweep
    from tests.domain.test_report import opened_on

    def sweep_reports() -> list[str]:  # what workers.sweep_reports does
        moment = utcnow()
        return [make_documents(db.session, y, as_of=moment) for y in years_to_sweep(moment)]

    now = utcnow()
    ana = participant_for_email(db.session, "ana@exemple.fr", name="Ana", as_of=now)
    last = make_demarche("consultation", title="L’an dernier")
    opened_on(last, now.replace(year=YEAR - 1, month=3, day=10))
    said(last, ana, MURET)
    a_year(make_demarche)

    # The sweep makes both years' documents, then finds nothing to do.
    assert [line.split(":")[1].strip().split()[0] for line in sweep_reports()] == ["made"] * 2
    assert all(line.endswith("up to date") for line in sweep_reports())
    kept_last = report.kept(db.session, YEAR - 1)
    assert kept_last.data["figures"]["participants"] == 1

    # Later, more people: the current year's documents are stale and made again; last
    # year's, made after its end, are kept — and its page shows the figures they hold.
    bruno = participant_for_email(db.session, "bruno@x.fr", name="Bruno", as_of=now)
    said(last, bruno, TOULOUSE)
    current = db.session.scalar(select(Demarche).where(Demarche.title == "Routes <b>et</b> pistes"))
    said(current, bruno, MURET)
    db.session.commit()
    lines = sweep_reports()
    assert lines[0] == f"{YEAR - 1}: up to date" and lines[1].startswith(f"{YEAR}: made")
    page = text_of(client.get(f"/bilan/{YEAR - 1}").text)
    assert "Participants 1 " in page  # as kept, not the 2 of the record now
    assert "évoluent" not in page

    # Asked (the command, or the task with force), last year's are made again.
    made = app.test_cli_runner().invoke(args=["evaluation", "report", str(YEAR - 1)])
    assert f"{YEAR - 1}: made" in made.output
    assert report.kept(db.session, YEAR - 1).data["figures"]["participants"] == 2
    assert "Participants 2 " in text_of(client.get(f"/bilan/{YEAR - 1}").text)
    assert timedelta(0) <= report.kept(db.session, YEAR - 1).made_at - now


def test_a_year_is_claimed_by_one_worker_and_a_dead_workers_claim_taken_over(ctx):
    from workflows.report.documents import STALE_CLAIM

    now = utcnow()
    first = report.claim(db.session, 2020, "abc", as_of=now)
    assert first is not None
    db.session.commit()
    assert report.claim(db.session, 2020, "abc", as_of=now) is None  # being made
    later = now + STALE_CLAIM + STALE_CLAIM
    taken = report.claim(db.session, 2020, "abc", as_of=later)
    assert taken is not None and taken.started_at == later
    r = report.yearly(db.session, 2020, as_of=later)
    report.keep(db.session, taken, r, pdf=b"%PDF", xlsx=b"PK", pages=1, as_of=later)
    db.session.commit()
    assert report.claim(db.session, 2020, report.digest_of(r), as_of=later) is None  # made
    assert report.claim(db.session, 2020, report.digest_of(r), as_of=later, force=True)
