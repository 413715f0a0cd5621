"""Schemathesis over ``/api/v1/openapi.json`` with a mission token: the API answers every
generated request — valid or not — without a server error, in the status codes, content
types, headers and shapes its OpenAPI document promises.

The app is served by a real HTTP server (a thread of this process, on a free loopback port)
on seeded data: a démarche at the synthesis stage with an item, contributions, a question
and its deadline, a draft mailing, a published synthesis and a training session, whose ids
fill the path parameters. The ``st`` command line runs all its phases (examples, coverage,
fuzzing, stateful) with a fixed seed, so a run is reproducible: ``make test-api-schema``, with
``SCHEMATHESIS_MAX_EXAMPLES`` (default 30) and ``SCHEMATHESIS_SEED`` to explore further.

Checked: every check of Schemathesis but ``positive_data_acceptance`` — the API refuses
schema-valid values that the domain knows are wrong (a department that does not exist, a
kind of mailing that does not go to that audience…): 422 in French, which that check counts
as a failure.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from backoffice.api.auth import issue_token
from backoffice.auth import create_user
from backoffice.extensions import db
from tests import factories
from tests.support import PASSWORD, publish_synthesis
from workflows import charter, methods, training
from workflows import demarches as domain
from workflows.clock import local_date, utcnow
from workflows.contributions import contribute
from workflows.items import add_item
from workflows.transitions import transition

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
    "ignored_auth",
    "use_after_free",
    "ensure_resource_availability",
)


@pytest.fixture
def world(app):
    """The seeded data, committed; returns the mission's token and the ids to test on."""
    with app.app_context():
        now = utcnow()
        today = local_date(now)
        mission, _ = create_user("mission@cd31.fr", "mission", password=PASSWORD, name="Mission")
        agent, _ = create_user(
            "routes@cd31.fr", "department", department="Direction des routes", password=PASSWORD
        )
        elected, _ = create_user("elue@cd31.fr", "elected", password=PASSWORD, name="Élue")
        d = domain.create_draft(
            db.session,
            agent,
            {
                "title": "Aménagement de la RD 820",
                "objectives": "Choisir le tracé d'une piste cyclable.",
                "public": "Riverains et cyclistes",
                "territory": "Portet-sur-Garonne",
                "participation_level": "concertation",
                "elected_official": elected,
                "desired_calendar": "Premier trimestre",
                "budget": "150000",
            },
            as_of=now - timedelta(days=30),
        )
        transition(db.session, d.id, "submitted", actor=agent, as_of=now)
        transition(db.session, d.id, "launch", actor=mission, as_of=now)
        item = add_item(db.session, mission, d, title="Engagement n°1", text="Le tracé.", as_of=now)
        domain.update_demarche(
            db.session,
            mission,
            d,
            {
                "presentation": "Venez donner votre avis.",
                "consultation_opens": today - timedelta(days=1),
                "consultation_closes": today + timedelta(days=30),
            },
            as_of=now - timedelta(days=20),
        )
        transition(db.session, d.id, "consultation", actor=mission, as_of=now)
        author = factories.participant("claire@exemple.fr", name="Claire", as_of=now)
        recorded = {"channel": "mail", "author": author, "actor": mission, "as_of": now}
        contribute(db.session, d, item_id=item.id, body="Une piste séparée.", **recorded)
        question = contribute(
            db.session, d, item_id=item.id, body="Quand ?", kind="question", **recorded
        )
        mailing = factories.mailing(
            mission,
            d,
            subject="Des nouvelles de la RD 820",
            body="Bonjour {{ name }},\n\nmerci.",
            as_of=now,
        )
        transition(db.session, d.id, "synthesis", actor=mission, as_of=now, comment="Clos")
        db.session.commit()
        publish_synthesis(d, mission, as_of=now)
        methods.load_catalogue(db.session, as_of=now)
        session = training.create_session(
            db.session,
            mission,
            {"date": today, "theme": "Conduire une concertation", "attendees": [agent.id]},
            as_of=now,
        )
        token = issue_token(mission, now)
        db.session.commit()
        ids = {
            "demarche_id": d.id,
            "item_id": item.id,
            "mailing_id": mailing.id,
            "question_id": question.id,
            "deadline_id": charter.deadline_of_question(db.session, question).id,
            "slug": "world-cafe",
            "training_id": session.id,
            "version": 1,  # of the synthesis: published
        }
        db.session.remove()
    return {"token": token, "ids": ids}


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:  # thousands of requests
        pass


@pytest.fixture
def served(app):
    """The app behind a real HTTP server on a free loopback port."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_the_api_keeps_its_openapi_contract(world, served, tmp_path):
    config = tmp_path / "schemathesis.toml"
    config.write_text(
        "[parameters]\n"
        + "".join(f'"path.{k}" = {json.dumps(v)}\n' for k, v in world["ids"].items())
    )
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(config),
        "--no-color",
        "run",
        f"{served}/api/v1/openapi.json",
        "--header",
        f"Authorization: Bearer {world['token']}",
        "--checks",
        ",".join(CHECKS),
        "--max-examples",
        os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "30"),
        "--seed",
        os.environ.get("SCHEMATHESIS_SEED", "20261130"),
        "--workers",
        "1",
        "--request-timeout",
        "60",
    ]
    # In tmp_path: Schemathesis keeps a cache in its working directory.
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=tmp_path)
    report = result.stdout + result.stderr
    assert result.returncode == 0, report[-30_000:]
    selected = re.search(r"Selected: (\d+)/(\d+)\s+Tested: (\d+)", report)
    assert selected, report[-5_000:]
    assert len(set(selected.groups())) == 1, f"not every operation was tested: {selected[0]}"
