"""Hostile and foreign import files: zip bombs and other zip tricks, XML entities, CSV
records without end, and every encoding a spreadsheet may be saved in. A refused file gets
one French message about the file, nothing is written and nothing is kept."""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import resource
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from backoffice.extensions import db
from tests import workbooks
from tests.support import csrf_from, login
from workflows.clock import utcnow
from workflows.imports import Importer, guess_format, start_import
from workflows.models import Contribution, ContributionImport
from workflows.sheets import FileLimits, ImportFileError, check_workbook, csv_records

DATA = Path(__file__).parent.parent / "data" / "reference"
MB = 1024 * 1024


def count(model) -> int:
    return db.session.scalar(select(func.count(model.id)))


def kept_files() -> set[Path]:
    """The files the app keeps for imports (its instance folder may be shared with other
    runs: compare before and after)."""
    folder = Path(current_app.instance_path) / "imports"
    return set(folder.iterdir()) if folder.exists() else set()


def upload(client, demarche, raw: bytes, filename: str):
    """Post the upload form. The body is encoded in memory: the test client would spool a
    large one to a temporary file that it never closes."""
    page = client.get(f"/admin/demarche/import/?id={demarche.id}").text
    boundary, body = encode_multipart(
        {
            "csrf_token": csrf_from(page),
            "id": str(demarche.id),
            "format": "",
            "file": FileStorage(io.BytesIO(raw), filename=filename),
        }
    )
    return client.post(
        f"/admin/demarche/import/?id={demarche.id}",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- zip bombs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lie", "message"),
    [
        (False, "se décompresse en plus de 256 Mo : refusé (une bombe de compression ?)"),
        (True, "le classeur est endommagé (son zip ne se lit pas)"),
    ],
    ids=["honest-sizes", "lying-sizes"],
)
def test_a_shared_strings_bomb_is_refused_by_the_preview_in_bounded_memory(
    client, people, make_demarche, lie, message
):
    """The issue's file: 1.2 MB whose shared strings inflate to 1.2 GB (the web process went
    to 3.1 GB). Refused before openpyxl reads it — on its declared sizes, or, when its headers
    lie, while inflating with a byte cap — holding at most a few megabytes."""
    d = make_demarche("consultation")
    bomb = workbooks.shared_strings_bomb(1_200_000_000, lie=lie)
    assert len(bomb) < 1.3 * MB
    login(client, people.mission)
    files = kept_files()
    rss_before = peak_rss_mb()
    tracemalloc.start()
    try:
        response = upload(client, d, bomb, "bombe.xlsx")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    grown = peak_rss_mb() - rss_before
    print(
        f"\nbomb of {len(bomb) / MB:.2f} MB (1.2 GB unzipped, sizes lie: {lie}): "
        f"peak traced {peak / MB:.1f} MB, peak RSS grown {grown:.0f} MB"
    )
    assert response.status_code == 200
    assert message in response.text
    assert peak < 64 * MB  # openpyxl would hold the 1.2 GB text, and more
    assert count(ContributionImport) == 0 and count(Contribution) == 0
    assert kept_files() == files


def test_without_the_check_openpyxl_would_inflate_the_table():
    """What the check stands in front of: the declared size is the real one (1.2 GB)."""
    import zipfile

    with zipfile.ZipFile(io.BytesIO(workbooks.shared_strings_bomb())) as archive:
        assert archive.getinfo("xl/sharedStrings.xml").file_size == 1_200_000_000


def bzip2_workbook() -> bytes:
    sheet, strings = workbooks.sheet_and_strings([["item", "text"], [1, "Avis"]])
    parts = workbooks.package(sheet, strings)
    parts[-1].method = 12  # bzip2: a far better bomb than deflate
    return workbooks.zip_of(parts)


def many_parts() -> bytes:
    sheet, strings = workbooks.sheet_and_strings([["item", "text"], [1, "Avis"]])
    extra = [workbooks.Part.stored(f"xl/media/image{n}.bin", b"x") for n in range(1500)]
    return workbooks.zip_of(workbooks.package(sheet, strings, *extra))


def ratio_bomb() -> bytes:
    """A part of 50 MB of one byte repeated, honest about its size: compressed 1,000 times."""
    sheet, _ = workbooks.sheet_and_strings([["item", "text"], [1, "Avis"]])
    padding = workbooks.repeated("xl/media/padding.bin", b"", b"\0", 50 * MB, b"")
    strings = workbooks.sheet_and_strings([["item", "text"], [1, "Avis"]])[1]
    return workbooks.zip_of(workbooks.package(sheet, strings, padding))


def long_text() -> bytes:
    """One text of 1.4 MB (random, so that it does not compress much)."""
    return workbooks.excel_like([["item", "text"], [1, os.urandom(700_000).hex()]])


def total_too_big() -> bytes:
    """Ten parts saying they unzip to 60 MB each (1 MB packed: a ratio of 60): each under
    the part limit, 600 MB together."""
    sheet, strings = workbooks.sheet_and_strings([["item", "text"], [1, "Avis"]])
    padding = [workbooks.Part.deflated(f"xl/media/p{n}.bin", os.urandom(MB)) for n in range(10)]
    declared = {part.name: 60 * MB for part in padding}
    return workbooks.zip_of(workbooks.package(sheet, strings, *padding), declared)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (workbooks.billion_laughs, "the workbook declares XML entities (a DOCTYPE): refused"),
        (many_parts, "the workbook holds too many parts (at most 1000)"),
        (ratio_bomb, "is compressed more than 100 times"),
        (total_too_big, "the workbook unzips to more than 512 MB"),
        (long_text, "the workbook holds a text of more than 1 MB: refused"),
        (bzip2_workbook, "the workbook is compressed in an unusual way"),
        (lambda: b"PK\x03\x04" + b"\0" * 100, "the file is not an XLSX workbook"),
        (lambda: long_text()[:5000], "the file is not an XLSX workbook"),
    ],
    ids=["entities", "parts", "ratio", "total", "text", "bzip2", "not-a-zip", "truncated"],
)
def test_zip_tricks_are_refused_whole_before_parsing(make_demarche, make, message):
    d = make_demarche("consultation")
    raw = make()
    tracemalloc.start()
    try:
        with pytest.raises(ImportFileError) as refused:
            Importer(db.session, d, "xlsx").preview(raw)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert message in str(refused.value)
    assert peak < len(raw) + 48 * MB


def test_the_shared_strings_are_counted_before_openpyxl_loads_them(make_demarche):
    d = make_demarche("consultation")
    raw = workbooks.excel_like(
        [["item", "text"]] + [["Engagement n°1", f"Avis {n}"] for n in range(3000)]
    )
    few = FileLimits(shared_strings=2000)
    with pytest.raises(ImportFileError, match="more than 2000 different texts"):
        Importer(db.session, d, "xlsx", limits=few).preview(raw)
    preview = Importer(db.session, d, "xlsx").preview(raw)
    assert preview.rows_to_import == 3000 and preview.refused == []


def test_a_nested_zip_is_not_opened(make_demarche):
    """An embedded object that is itself a bomb stays packed: openpyxl never opens it."""
    d = make_demarche("consultation")
    sheet, strings = workbooks.sheet_and_strings([["item", "text"], ["Engagement n°1", "Avis"]])
    inner = workbooks.Part.stored("xl/embeddings/oleObject1.bin", workbooks.shared_strings_bomb())
    raw = workbooks.zip_of(workbooks.package(sheet, strings, inner))
    tracemalloc.start()
    try:
        preview = Importer(db.session, d, "xlsx").preview(raw)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert preview.rows_to_import == 1 and peak < 64 * MB


def test_openpyxl_parses_through_defusedxml():
    import openpyxl

    assert openpyxl.DEFUSEDXML is True


def test_too_many_rows_are_refused_whole(make_demarche):
    d = make_demarche("consultation")
    raw = ("item;text\n" + "".join(f"1;Avis {n}\n" for n in range(11))).encode()
    with pytest.raises(ImportFileError, match="more than 10 rows"):
        Importer(db.session, d, "csv", limits=FileLimits(rows=10)).preview(raw)
    assert Importer(db.session, d, "csv", limits=FileLimits(rows=11)).preview(raw).refused == []


def test_a_csv_huge_in_one_line_is_refused_in_bounded_memory(make_demarche):
    d = make_demarche("consultation")
    raw = b"item;text\n1;" + b"a;" * (20 * MB)  # 40 MB, one line of 20 million fields
    tracemalloc.start()
    try:
        with pytest.raises(ImportFileError) as refused:
            Importer(db.session, d, "csv").preview(raw)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    print(f"\nCSV of one 40 MB line: peak traced {peak / MB:.0f} MB")
    assert "line 2 is too long (more than 1 MB in one row)" in str(refused.value)
    assert peak < 2 * len(raw)


def reference_rows(count: int) -> list[list[str]]:
    """The bench's spreadsheet (bench/import_contributions.py): the real texts of the
    reference data cycled, each made unique, with dates, channels, communes and authors."""
    texts = [a["reponse"] for a in json.loads((DATA / "grand-debat-answers-2019.json").read_text())]
    with (DATA / "feamp-consultation-proposals.csv").open(encoding="utf-8") as fh:
        texts += [r["body"] for r in csv.DictReader(fh)]
    texts = [t for t in texts if t and t.strip()]
    rows = [["item", "text", "date", "channel", "commune", "email", "name"]]
    for n in range(count):
        author = n % 5 == 0
        rows.append(
            [
                f"Engagement n°{n % 5 + 1}",
                f"{texts[n % len(texts)][:9000]} [{n}]",
                f"{n % 28 + 1:02}/11/2026 {n % 24:02}:{n % 60:02}",
                ("en ligne", "atelier", "réunion", "courrier")[n % 4],
                ("Revel", "31555", "Muret", "31400")[n % 4],
                f"participant{n % 20_000}@exemple.fr" if author else "",
                f"Participant {n % 20_000}" if author else "",
            ]
        )
    return rows


def test_the_100000_row_reference_files_pass_the_checks():
    """100,000 rows of the real texts as a CSV (about 50 MB) and as Excel writes them
    (shared strings) are within the limits."""
    rows = reference_rows(100_000)
    out = io.StringIO()
    csv.writer(out, delimiter=";").writerows(rows)
    raw = out.getvalue().encode()
    header, records = csv_records(raw, FileLimits())
    assert header[:2] == ["item", "text"] and sum(1 for _ in records) == 100_000
    workbook = workbooks.excel_like(rows)
    check_workbook(workbook, FileLimits())  # no refusal
    print(f"\nreference: CSV {len(raw) / MB:.0f} MB, XLSX {len(workbook) / MB:.0f} MB")


# -- encodings ----------------------------------------------------------------------------------

SHEET = "élément;texte;commune\nEngagement n°1;Très « bien », dit l’élue;Revel\n"


@pytest.mark.parametrize(
    ("encoded", "delimiter"),
    [
        (codecs.BOM_UTF8 + SHEET.encode(), ";"),
        (SHEET.encode(), ";"),
        (SHEET.encode("cp1252"), ";"),
        (codecs.BOM_UTF16_LE + SHEET.replace(";", "\t").encode("utf-16-le"), "\t"),
        (codecs.BOM_UTF16_BE + SHEET.encode("utf-16-be"), ";"),
        (SHEET.encode("utf-16-le"), ";"),
        (SHEET.encode("utf-16-be"), ";"),
        (codecs.BOM_UTF32_LE + SHEET.encode("utf-32-le"), ";"),
        (codecs.BOM_UTF32_BE + SHEET.encode("utf-32-be"), ";"),
    ],
    ids=[
        "utf8-bom",
        "utf8",
        "windows-1252",
        "utf16le-bom-tabs",  # Excel's « Texte Unicode »
        "utf16be-bom",
        "utf16le",
        "utf16be",
        "utf32le-bom",
        "utf32be-bom",
    ],
)
def test_every_encoding_reads_the_same_row(make_demarche, encoded, delimiter):
    d = make_demarche("consultation")
    assert guess_format("avis.csv", encoded) == "csv"
    preview = Importer(db.session, d, "csv").preview(encoded)
    assert preview.refused == [] and preview.rows_to_import == 1
    assert preview.rows[0].values["body"] == "Très « bien », dit l’élue"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            codecs.BOM_UTF16_LE + "item;text\n".encode("utf-16-le") + b"\x00\xd8;\x00",
            "the file is announced as UTF-16 but is not valid UTF-16",
        ),
        (
            codecs.BOM_UTF8 + b"item;text\n1;caf\xe9\n",
            "the file is announced as UTF-8 but is not valid UTF-8",
        ),
        (b"item;text\n1;\x81\x8d\x8f\x90\x9d\n", "the file is neither UTF-8 nor Windows-1252"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "not a text file"),
        (b"PK\x03\x04" + b"\x00" * 64, "is a zip archive"),
        (
            b"nom;adresse\nAnne;Revel\nBob;Muret\n",
            "the columns « text », « item » are missing (columns read: « nom », « adresse »)",
        ),
    ],
    ids=["broken-utf16", "broken-utf8-bom", "undecodable", "binary", "zip-as-csv", "no-columns"],
)
def test_a_file_that_does_not_read_gets_one_message_about_the_file(make_demarche, raw, message):
    d = make_demarche("consultation")
    with pytest.raises(ImportFileError) as refused:
        Importer(db.session, d, "csv").preview(raw)
    assert list(refused.value.errors) == ["file"]
    assert message in str(refused.value)


def test_a_utf16_file_from_the_upload_page_reads_and_imports(client, people, make_demarche):
    """Before, a UTF-16 file read as Windows-1252 had one misleading refusal per row."""
    d = make_demarche("consultation")
    raw = codecs.BOM_UTF16_LE + SHEET.replace(";", "\t").encode("utf-16-le")
    login(client, people.mission)
    files = kept_files()
    response = upload(client, d, raw, "avis.txt")
    assert response.status_code == 302
    status = client.get(response.headers["Location"]).text
    client.post(response.headers["Location"], data={"csrf_token": csrf_from(status)})
    body = db.session.scalar(select(Contribution.body))
    assert body == "Très « bien », dit l’élue"
    assert kept_files() == files  # imported, then deleted


def test_a_refused_file_shows_one_french_message_and_keeps_nothing(client, people, make_demarche):
    d = make_demarche("consultation")
    login(client, people.mission)
    files = kept_files()
    response = upload(client, d, b"\x00\x01\x02binary\x00" * 100, "avis.csv")
    assert response.status_code == 200
    assert "ce n’est pas un fichier texte" in response.text
    assert count(ContributionImport) == 0 and kept_files() == files


def test_a_start_import_refusal_keeps_no_file(tmp_path, people, make_demarche):
    d = make_demarche("consultation")
    with pytest.raises(ImportFileError):
        start_import(
            db.session,
            d,
            actor=people.mission,
            filename="bombe.xlsx",
            raw=workbooks.shared_strings_bomb(),
            fmt=None,
            item_id=None,
            directory=tmp_path,
            as_of=utcnow(),
        )
    assert list(tmp_path.iterdir()) == []


def test_a_workbook_jumping_to_its_last_row_is_refused_whole(make_demarche):
    """A sheet whose second row is numbered 1,048,576: openpyxl fills the gap with empty
    rows, which count towards the lines a file may have."""
    d = make_demarche("consultation")
    sheet, strings = workbooks.sheet_and_strings([["item", "text"], ["1", "Avis"]])
    sheet = sheet.replace('<row r="2">', '<row r="1048576">').replace("A2", "A1048576")
    raw = workbooks.zip_of(workbooks.package(sheet, strings.replace("B2", "B1048576")))
    with pytest.raises(ImportFileError, match="the file has more than 1020 lines"):
        Importer(db.session, d, "xlsx", limits=FileLimits(rows=1)).preview(raw)


def test_a_zip_of_an_unknown_version_is_told_not_an_xlsx():
    """A central directory claiming a zip version newer than Python reads (found by
    Hypothesis): a French refusal, not a crash."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    raw = bytearray(out.getvalue())
    entry = raw.find(b"PK\x01\x02")
    raw[entry + 6] = 173  # "version needed to extract": 17.3
    with pytest.raises(ImportFileError) as refused:
        check_workbook(bytes(raw), FileLimits())
    assert "XLSX" in str(refused.value.errors["file"])
