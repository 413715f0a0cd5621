"""A large file is previewed by a real worker process within its memory budget: a file too
big for the budget fails with a French message and the same worker reads the next one."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from backoffice.extensions import db
from tests.domain.test_import_previews import SHEET
from tests.processes import start_worker, wait_for
from tests.support import csrf_from, login
from workflows.models import ContributionImport, ImportStatus

MB = 1024 * 1024


@pytest.fixture
def worker(app, worker_env):
    """A worker whose previews may take 16 MB; the web sends files over 1 kB to it."""
    process = start_worker(worker_env(IMPORT_PREVIEW_MEMORY=str(16 * MB)))
    app.config.update(OUTBOX_DISPATCH="celery", IMPORT_INLINE_PREVIEW_BYTES=1000)
    yield process
    app.config.update(OUTBOX_DISPATCH="none", IMPORT_INLINE_PREVIEW_BYTES=MB)
    process.stop()


def upload(client, demarche_id: int, raw: bytes, filename: str):
    page = client.get(f"/admin/demarche/import/?id={demarche_id}").text
    boundary, body = encode_multipart(
        {
            "csrf_token": csrf_from(page),
            "id": str(demarche_id),
            "format": "",
            "file": FileStorage(io.BytesIO(raw), filename=filename),
        }
    )
    return client.post(
        f"/admin/demarche/import/?id={demarche_id}",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def status_of(import_id: int) -> ImportStatus:
    db.session.rollback()
    return db.session.get(ContributionImport, import_id, populate_existing=True).status


@pytest.mark.worker
def test_a_worker_previews_within_its_memory_budget_and_lives_on(
    client, people, make_demarche, worker
):
    d = make_demarche("consultation")
    login(client, people.mission)
    # 150,000 rows of distinct texts (26 MB): reading them takes more than 16 MB.
    big = "item;text\n" + "".join(
        f"Engagement n°1;Avis numéro {n} : {'une remarque précise ' * 7}\n" for n in range(150_000)
    )
    response = upload(client, d.id, big.encode(), "gros.csv")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).text
    assert "Un worker lit le fichier pour en faire l’aperçu" in page
    big_id = db.session.scalar(select(func.max(ContributionImport.id)))
    assert wait_for(lambda: status_of(big_id) == ImportStatus.FAILED), worker.log()
    page = client.get(response.headers["Location"]).text
    assert "le fichier est trop gros pour être lu dans la mémoire permise à un aperçu" in page
    assert not Path(db.session.get(ContributionImport, big_id).path).exists()

    # The same worker reads the next file.
    response = upload(client, d.id, SHEET.encode(), "avis.csv")
    small_id = db.session.scalar(select(func.max(ContributionImport.id)))
    assert wait_for(lambda: status_of(small_id) == ImportStatus.PREVIEWED), worker.log()
    page = client.get(response.headers["Location"]).text
    client.post(response.headers["Location"], data={"csrf_token": csrf_from(page)})
    assert db.session.get(ContributionImport, small_id).imported == 50
    assert Path(current_app.instance_path, "imports").exists()
