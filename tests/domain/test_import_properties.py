"""Properties of the importers over generated files (Hypothesis): CSV in every encoding with
random headers and rows, random bytes, XLSX workbooks whole or broken, Decidim exports.

Whatever the file: the only exception is the domain's own refusal (a French message — never
a 500), a refusal writes nothing and keeps no file, and an accepted import writes exactly the
rows its preview announced. Bounded: a few dozen examples each, well under a minute in all."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from slugify import slugify
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from backoffice.extensions import db
from tests import workbooks
from tests.support import csrf_from, login
from workflows.clock import utcnow
from workflows.errors import DomainError
from workflows.i18n import Msg
from workflows.imports import HEADERS, run_import, start_import
from workflows.models import Contribution, ContributionImport, ImportStatus, Item, Participant

BOUNDED = settings(
    max_examples=50,
    deadline=None,  # the database's pace varies; the examples are small
    database=None,  # no .hypothesis/ folder in the work tree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

ENCODINGS = [
    "utf-8",
    "utf-8-sig",
    "cp1252",
    "latin-1",
    "utf-16",
    "utf-16-le",
    "utf-16-be",
    "utf-32",
]
DECIDIM = [
    "id",
    "body",
    "title",
    "commentable_id",
    "commentable_type",
    "root_commentable_url",
    "created_at",
    "published_at",
    "depth",
    "alignment",
    "author/name",
    "endorsements/total_count",
]

words = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
cells = st.one_of(
    words,
    st.sampled_from(
        [
            "1",
            "2",
            "1.0",
            "Engagement n°1",
            "ENGAGEMENT N°1",
            "Revel",
            "31555",
            "31000",
            "Paris",
            "atelier",
            "en ligne",
            "pigeon",
            "20/11/2026",
            "2026-11-20 10:00:00 +0100",
            "hier",
            "3000-01-01",
            "a@cd31.fr",
            "pas-un-courriel",
            "<p>Du <b>HTML</b></p>",
            "\u200b\ufeff",
            "\u202eelbib",
            "=1+1",
            "Decidim::Comments::Comment",
            "Decidim::Proposals::Proposal",
            "https://ex.fr/proposals/7",
            "0",
            "-1",
            "",
        ]
    ),
    st.integers(-(2**40), 2**40).map(str),
)
# Columns this importer knows, as people name them; and anything else.
KNOWN = ["item", "text", "date", "channel", "commune", "email", "name", "kind", "title"]
FRENCH = {"item": "Élément", "text": "TEXTE", "channel": "canal", "email": "Courriel"}
# What a column may hold: mostly what it should, sometimes what it should not.
VALID = {
    "text": st.text(
        alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "Zs")),
        min_size=1,
        max_size=40,
    ),
    "item": st.sampled_from(["1", "1.0", "Engagement n°1", "ENGAGEMENT N°1"]),
    "date": st.sampled_from(["20/11/2026", "2026-11-20 10:00:00 +0100", "20/11/2026 10:30", ""]),
    "channel": st.sampled_from(["atelier", "en ligne", "courrier", ""]),
    "commune": st.sampled_from(["Revel", "31555", "Muret", ""]),
    "email": st.sampled_from(["a@cd31.fr", "B@CD31.FR", ""]),
    "kind": st.sampled_from(["commentaire", "question", "proposal", ""]),
}
INVALID = st.sampled_from(["9", "hier", "3000-01-01", "pigeon", "Paris", "31000", "x@", "avis"])
headers = st.one_of(
    # Mostly files with the columns needed, in any order, named in French or English…
    st.lists(st.sampled_from(KNOWN[2:]), max_size=5, unique=True)
    .flatmap(lambda extra: st.permutations(["item", "text", *extra]))
    .flatmap(
        lambda names: st.lists(st.booleans(), min_size=len(names), max_size=len(names)).map(
            lambda french: [
                FRENCH.get(n, n) if f else n for n, f in zip(names, french, strict=True)
            ]
        )
    ),
    # … and sometimes anything at all.
    st.lists(st.one_of(st.sampled_from(sorted(HEADERS)), words), max_size=7),
)


def weighted(choices: list[tuple[st.SearchStrategy, int]]) -> st.SearchStrategy:
    """One of the strategies, each as often as its weight (st.one_of weighs them alike)."""
    return st.sampled_from([s for s, weight in choices for _ in range(weight)]).flatmap(
        lambda chosen: chosen
    )


def cells_for(name: str) -> st.SearchStrategy[str]:
    key = HEADERS.get(slugify(name), slugify(name))
    if key not in VALID:
        return cells
    return weighted([(VALID[key], 8), (INVALID, 1), (cells, 1)])


@st.composite
def spreadsheets(draw, names=headers) -> list[list[str]]:
    header = draw(names)
    columns = [cells_for(n) for n in header] or [cells]
    rows = draw(
        st.lists(
            weighted(
                [
                    (st.tuples(*columns).map(list), 4),  # a row as wide as the header
                    (st.lists(cells, max_size=len(columns) + 1), 1),  # or not
                ]
            ),
            min_size=draw(st.sampled_from([0, 1, 3])),
            max_size=12,
        )
    )
    return [header, *rows]


@st.composite
def csv_files(draw, names=headers) -> bytes:
    table = draw(spreadsheets(names))
    out = io.StringIO()
    csv.writer(out, delimiter=draw(st.sampled_from([";", ",", "\t"]))).writerows(table)
    return out.getvalue().encode(draw(st.sampled_from(ENCODINGS)), errors="replace")


@st.composite
def damaged(draw, files) -> bytes:
    """A file, then maybe with some bytes changed or cut short. (The places are drawn apart
    from the file's length: openpyxl stamps the time in a workbook, whose length may vary
    between two runs of an example.)"""
    raw = bytearray(draw(files))
    for _ in range(draw(st.integers(0, 3))):
        place, value = draw(st.integers(0, 2**20)), draw(st.integers(0, 255))
        if raw:
            raw[place % len(raw)] = value
    cut = draw(st.one_of(st.none(), st.integers(0, 2**20)))
    if raw and cut is not None:
        raw = raw[: cut % (len(raw) + 1)]
    return bytes(raw)


@st.composite
def xlsx_files(draw) -> bytes:
    table = draw(spreadsheets())
    if draw(st.booleans()):
        return workbooks.excel_like(table)  # shared strings, as Excel writes them
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    for row in table:  # openpyxl writes no control characters (Excel_like does: bad XML)
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", value) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def counts() -> tuple[int, ...]:
    return tuple(
        db.session.scalar(select(func.count(model.id)))
        for model in (Contribution, Item, Participant, ContributionImport)
    )


def through_the_domain(demarche, actor, folder: Path, raw: bytes, filename: str) -> None:
    """The property, for one file."""
    before = counts()
    try:
        record = start_import(
            db.session,
            demarche,
            actor=actor,
            filename=filename,
            raw=raw,
            fmt=None,
            item_id=None,
            directory=folder,
            as_of=utcnow(),
        )
        db.session.commit()
    except DomainError as refused:
        db.session.rollback()
        event(f"refused: {refused.messages[0].text[:40]}")
        assert refused.messages and all(isinstance(m, Msg) for m in refused.messages)
        assert counts() == before  # nothing written
        assert list(folder.iterdir()) == []  # nothing kept
        return
    announced, path = record.rows_to_import, Path(record.path)
    event("accepted, rows to import: " + ("0" if not announced else "some"))
    for refusal in record.refused[:1]:
        event(f"a row refused: {refusal['reason'][:40]}")
    if record.duplicates:
        event("some rows already imported")
    done = run_import(db.session, record.id)
    assert (done.status, done.error) == (ImportStatus.DONE, "")
    assert done.imported == announced
    assert counts()[0] == before[0] + announced
    assert not path.exists()


@pytest.fixture
def setting(people, make_demarche, tmp_path):
    d = make_demarche("consultation")
    return d, people.mission, tmp_path


@BOUNDED
@given(raw=st.one_of(csv_files(), damaged(csv_files()), st.binary(max_size=600)))
def test_any_csv_file(setting, raw):
    through_the_domain(*setting, raw, "contributions.csv")


@BOUNDED
@given(raw=st.one_of(xlsx_files(), damaged(xlsx_files())))
def test_any_xlsx_file(setting, raw):
    through_the_domain(*setting, raw, "contributions.xlsx")


@BOUNDED
@given(
    raw=st.one_of(
        csv_files(st.lists(st.sampled_from(DECIDIM), min_size=2, max_size=9, unique=True)),
        damaged(
            st.just(
                (
                    Path(__file__).parents[1]
                    / "data"
                    / "reference"
                    / "decidim-comments-nancy-2019.csv"
                ).read_bytes()[:4000]
            )
        ),
    )
)
def test_any_decidim_file(setting, raw):
    """Forced to Decidim's format whatever its columns (guess_format would call some CSV)."""
    d, actor, folder = setting
    before = counts()
    try:
        record = start_import(
            db.session,
            d,
            actor=actor,
            filename="decidim.csv",
            raw=raw,
            fmt="decidim",
            item_id=None,
            directory=folder,
            as_of=utcnow(),
        )
        db.session.commit()
    except DomainError:
        db.session.rollback()
        assert counts() == before and list(folder.iterdir()) == []
        return
    announced = record.rows_to_import
    done = run_import(db.session, record.id)
    assert (done.status, done.imported) == (ImportStatus.DONE, announced)
    assert counts()[0] == before[0] + announced


@pytest.fixture
def uploader(app, client, people, make_demarche):
    """The mission on the upload page; the previews' files it leaves are deleted after."""
    d = make_demarche("consultation")
    login(client, people.mission)
    folder = Path(app.instance_path) / "imports"
    before = set(folder.glob("*")) if folder.exists() else set()
    yield client, d.id
    for left in set(folder.glob("*")) - before if folder.exists() else ():
        left.unlink(missing_ok=True)


@settings(BOUNDED, max_examples=25)
@given(
    raw=st.one_of(csv_files(), st.binary(max_size=300), damaged(xlsx_files())),
    filename=st.sampled_from(
        ["avis.csv", "avis.xlsx", "avis.txt", "avis", "a\x00b.csv", "../../x.csv", "é\u202e.csv"]
    ),
)
def test_the_upload_page_never_fails(uploader, raw, filename):
    """Through the back office: a preview page (302) or the form again with a French
    message (200) — never a 500; a refusal records and keeps nothing."""
    client, demarche_id = uploader
    before = counts()
    page = client.get(f"/admin/demarche/import/?id={demarche_id}").text
    boundary, body = encode_multipart(
        {
            "csrf_token": csrf_from(page),
            "id": str(demarche_id),
            "format": "",
            "file": FileStorage(io.BytesIO(raw), filename=filename),
        }
    )
    response = client.post(
        f"/admin/demarche/import/?id={demarche_id}",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert 'class="alert' in response.text
        assert counts() == before
    else:
        assert client.get(response.headers["Location"]).status_code == 200


def test_a_broken_zip_named_csv_is_refused_as_a_workbook(setting):
    d, actor, folder = setting
    raw = workbooks.excel_like([["item", "text"], ["1", "Avis"]])[:-30]
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(io.BytesIO(raw))
    with pytest.raises(DomainError, match="the file is not an XLSX workbook"):
        start_import(
            db.session,
            d,
            actor=actor,
            filename="avis.csv",
            raw=raw,
            fmt=None,
            item_id=None,
            directory=folder,
            as_of=utcnow(),
        )
    assert list(folder.iterdir()) == []
