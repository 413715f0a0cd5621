"""Large files are previewed by a worker within a memory budget: the web only checks what is
quick (a workbook's zip, a text's encoding); a file too big for the budget fails with a
French message, the worker lives on, and a worker that died reading a file is not handed the
same file again."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backoffice.extensions import db
from tests import workbooks
from tests.support import login
from workflows import imports
from workflows.clock import utcnow
from workflows.models import Contribution, ContributionImport, ImportStatus
from workflows.sheets import ImportFileError

SHEET = "item;text\n" + "".join(f"Engagement n°1;Avis numéro {n}\n" for n in range(50))


def start(demarche, actor, folder: Path, raw: bytes, **options) -> ContributionImport:
    record = imports.start_import(
        db.session,
        demarche,
        actor=actor,
        filename="avis.csv",
        raw=raw,
        fmt=None,
        item_id=None,
        directory=folder,
        as_of=options.pop("as_of", utcnow()),
        preview_now=False,
        **options,
    )
    db.session.commit()
    return record


def test_a_deferred_preview_is_made_once_then_imported(people, make_demarche, tmp_path):
    d = make_demarche("consultation")
    record = start(d, people.mission, tmp_path, SHEET.encode())
    assert (record.status, record.rows_to_import) == (ImportStatus.PREVIEWING, 0)
    assert Path(record.path).exists()
    # Nothing to import before it is read.
    assert imports.run_import(db.session, record.id) is None
    previewed = imports.preview_import(db.session, record.id)
    assert (previewed.status, previewed.rows_read, previewed.rows_to_import) == (
        ImportStatus.PREVIEWED,
        50,
        50,
    )
    assert imports.preview_import(db.session, record.id) is None  # a task delivered twice
    assert imports.run_import(db.session, record.id).imported == 50
    assert db.session.scalar(select(func.count(Contribution.id))) == 50


def test_the_web_still_refuses_at_once_what_is_quick_to_check(people, make_demarche, tmp_path):
    d = make_demarche("consultation")
    with pytest.raises(ImportFileError, match="unzips to more than"):
        imports.start_import(
            db.session,
            d,
            actor=people.mission,
            filename="bombe.xlsx",
            raw=workbooks.shared_strings_bomb(),
            fmt=None,
            item_id=None,
            directory=tmp_path,
            as_of=utcnow(),
            preview_now=False,
        )
    with pytest.raises(ImportFileError, match="neither UTF-8 nor Windows-1252"):
        start(d, people.mission, tmp_path, b"item;text\n1;\x81\x8d\x8f\x90\x9d\n")
    assert list(tmp_path.iterdir()) == []


def test_a_file_refused_by_its_preview_fails_with_its_reason(people, make_demarche, tmp_path):
    d = make_demarche("consultation")
    record = start(d, people.mission, tmp_path, b"nom;adresse\nAnne;Revel\n")
    failed = imports.preview_import(db.session, record.id)
    assert failed.status == ImportStatus.FAILED
    assert str(imports.failure(failed)).startswith("the columns « text », « item » are missing")
    assert not Path(record.path).exists()


def test_the_sweep_hands_out_lost_previews_and_fails_those_a_dead_worker_held(
    people, make_demarche, tmp_path
):
    d = make_demarche("consultation")
    now = utcnow()
    lost = start(d, people.mission, tmp_path, SHEET.encode(), as_of=now - timedelta(minutes=3))
    fresh = start(d, people.mission, tmp_path, SHEET.encode(), as_of=now)
    held = start(d, people.mission, tmp_path, SHEET.encode(), as_of=now - timedelta(minutes=30))
    held.updated_at = now - timedelta(minutes=11)  # taken by a worker that then died
    db.session.commit()
    assert imports.lost_previews(db.session, as_of=now) == [lost.id]
    imports.sweep_imports(db.session, as_of=now)
    db.session.refresh(held)
    assert held.status == ImportStatus.FAILED and imports.failure(held) == imports.PREVIEW_LOST
    assert not Path(held.path).exists()
    assert {fresh.status, lost.status} == {ImportStatus.PREVIEWING}


def test_a_run_refused_by_the_domain_says_why_in_french(client, people, make_demarche, tmp_path):
    """Contributions are imported during the consultation and its synthesis only."""
    d = make_demarche("feedback")
    record = start(d, people.mission, tmp_path, SHEET.encode())
    imports.preview_import(db.session, record.id)
    failed = imports.run_import(db.session, record.id)
    assert failed.status == ImportStatus.FAILED
    login(client, people.mission)
    page = client.get(f"/admin/demarche/import/{record.id}/").text
    assert (
        "les contributions s’importent pendant la consultation et sa synthèse ; la démarche "
        "est à l’étape « Retour aux citoyens »" in page
    )


def test_a_preview_whose_file_went_missing_ends_failed(people, make_demarche, tmp_path):
    d = make_demarche("consultation")
    record = start(d, people.mission, tmp_path, SHEET.encode())
    Path(record.path).unlink()  # a full disk, a cleaner …
    failed = imports.preview_import(db.session, record.id)
    assert failed.status == ImportStatus.FAILED
    assert str(imports.failure(failed)) == "the file could not be read (FileNotFoundError)"
