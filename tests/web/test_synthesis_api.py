"""The synthesis sheet's actions through the API: a script takes a démarche from its synthesis
to its feedback and closing with a token only; the roles, the wrong states and the bad values
are refused as on the sheet, in French, and nothing of a refused request is saved."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from backoffice import after_commit
from backoffice.extensions import db
from backoffice.outgoing import mailer
from tests import factories
from workflows import after_commit as jobs
from workflows import imports, mailings
from workflows.clock import utcnow
from workflows.models import AuditEntry, Demarche, Synthesis
from workflows.syntheses import build, versions

DATA = Path(__file__).parent.parent / "data" / "reference"
VOICES = (
    ("ana.garcia@exemple.fr", "Une piste cyclable séparée de la route, protégée des camions."),
    ("louis.roux@exemple.fr", "La piste cyclable doit rejoindre la gare de Portet."),
    ("ines.petit@exemple.fr", "Des arbres le long de la piste cyclable, pour l'ombre l'été."),
)


@pytest.fixture
def asked(monkeypatch):
    """The jobs the commits hand to the workers (none is sent: the test is the worker)."""
    handed: list[tuple[str, tuple]] = []
    monkeypatch.setattr(after_commit, "publish", lambda task, *args: handed.append((task, args)))
    return handed


def work(asked) -> list[str]:
    """Do what the workers would with the jobs handed so far (the documents of a published
    version are left: tests/web/test_synthesis_documents.py makes them); the tasks done."""
    done = []
    while asked:
        task, args = asked.pop(0)
        if task == jobs.BUILD_SYNTHESIS:
            demarche_id, trigger = args
            d = db.session.get(Demarche, demarche_id)
            build.build(db.session, d, actor=None, as_of=utcnow(), trigger=trigger)
        elif task == jobs.START_MAILING:
            (mailing_id,) = args
            mailings.start(db.session, mailing_id, as_of=utcnow())
            more = True
            while more:
                _, more = mailings.deliver_chunk(
                    db.session,
                    mailing_id,
                    mailer.smtp_opener,
                    lambda m: mailer.composer(db.session, m),
                )
        else:
            continue
        db.session.commit()
        done.append(task)
    return done


@pytest.fixture
def closed_consultation(make_demarche, people, asked):
    """A démarche whose consultation has closed: the FEAMP consultation's 408 proposals
    (their authors unknown) and three contributors who want the feedback; its first build is
    asked for, not made yet."""
    d = make_demarche("synthesis")
    raw = (DATA / "feamp-consultation-proposals.csv").read_bytes()
    importer = imports.Importer(db.session, d, "decidim")
    importer.apply(importer.preview(raw), actor=None, as_of=utcnow())
    for email, body in VOICES:
        author = factories.participant(email, name=email.split(".")[0].title())
        factories.contribution(d, people.mission, body=body, author=author)
    db.session.commit()
    return d


def test_a_script_takes_a_demarche_from_its_synthesis_to_its_feedback_and_closing(
    client, closed_consultation, people, api, asked, smtp
):
    d, mission, agent = closed_consultation, people.mission, people.agent
    url = f"/api/v1/demarches/{d.id}"
    item_id = d.items[0].id
    missing = api(mission, "get", f"{url}/synthesis")
    assert missing.status_code == 404 and missing.json["message"] == "pas encore de synthèse"

    assert work(asked) == [jobs.BUILD_SYNTHESIS]  # entering the synthesis stage asked for it
    listed = api(mission, "get", f"{url}/synthesis/versions").json
    assert [(v["version"], v["status"]) for v in listed["items"]] == [(1, "draft")]
    draft = api(mission, "get", f"{url}/synthesis").json
    assert (draft["version"], draft["status"], draft["introduction"]) == (1, "draft", "")
    assert draft["figures"]["contributions"] == 411
    # The model introduction the sheet's form offers, filled from the version: the mission's.
    assert d.title in draft["introduction_model"] and "411" in draft["introduction_model"]
    assert api(agent, "get", f"{url}/synthesis").json["introduction_model"] is None
    theme = draft["themes"][0]["id"]

    written = api(
        mission,
        "patch",
        f"{url}/synthesis/1",
        json={
            "introduction": "Trois habitants ont parlé de la piste cyclable.",
            "summaries": {str(item_id): "Une piste séparée, reliée à la gare, ombragée."},
            "labels": {theme: "La piste cyclable"},
        },
    )
    assert written.status_code == 200, written.json
    assert written.json["introduction"] == "Trois habitants ont parlé de la piste cyclable."
    assert written.json["introduction_model"] is None
    assert written.json["summaries"] == {
        str(item_id): "Une piste séparée, reliée à la gare, ombragée."
    }
    assert {t["id"]: t["label"] for t in written.json["themes"]}[theme] == "La piste cyclable"

    validated = api(mission, "post", f"{url}/synthesis/1/validate")
    assert (validated.status_code, validated.json["status"]) == (200, "validated")
    assert api(mission, "post", f"{url}/synthesis/1/validate").json["status"] == "validated"
    published = api(mission, "post", f"{url}/synthesis/1/publish")
    assert (published.status_code, published.json["status"]) == (200, "published")
    again = api(mission, "post", f"{url}/synthesis/1/publish")  # a script retrying
    assert again.status_code == 200 and again.json == published.json
    [render] = [args for task, args in asked if task == jobs.RENDER_SYNTHESIS]
    assert render == (db.session.scalar(select(Synthesis.id).where(Synthesis.demarche_id == d.id)),)
    assert len(audited(d, "synthesis.publish")) == 1
    deadlines = {x["rule"]: x for x in api(mission, "get", url).json["deadlines"]}
    assert deadlines["publish_synthesis"]["status"] == "met"
    page = client.get(f"/demarches/{d.slug}").text
    assert "Trois habitants ont parlé de la piste cyclable." in page and "La piste cyclable" in page

    # The department decides; the script moves the démarche on, its feedback goes out.
    for item in api(agent, "get", f"{url}/items").json["items"]:
        decided = api(
            agent,
            "put",
            f"{url}/items/{item['id']}/decision",
            json={"outcome": "retained", "justification": "Le service retient ces idées."},
        )
        assert decided.status_code == 200, decided.json
    moved = api(mission, "post", f"{url}/transitions", json={"to": "feedback", "comment": ""})
    assert moved.status_code == 201, moved.json
    early = api(mission, "post", f"{url}/transitions", json={"to": "closed", "comment": ""})
    assert early.status_code == 409  # the workers have not sent the feedback yet
    assert "le retour aux participants est encore en cours d’envoi" in early.json["message"]
    # The feedback goes out; once sent, it asks for the participants' survey, which goes too.
    assert work(asked) == [jobs.START_MAILING, jobs.START_MAILING]
    sent = api(mission, "get", f"/api/v1/mailings?demarche_id={d.id}").json["items"]
    assert sorted((m["kind"], m["status"], m["counts"]["sent"]) for m in sent) == [
        ("feedback", "sent", 3),
        ("survey", "sent", 3),
    ]
    assert sorted(r.rcpt_tos[0] for r in smtp.received) == sorted(2 * [e for e, _ in VOICES])
    closed = api(mission, "post", f"{url}/transitions", json={"to": "closed", "comment": ""})
    assert closed.status_code == 201, closed.json
    assert api(mission, "get", url).json["stage"] == "closed"
    # Closed, the synthesis stays what was published.
    assert api(people.agent, "get", f"{url}/synthesis").json["version"] == 1


def audited(d, action: str) -> list[AuditEntry]:
    return db.session.scalars(
        select(AuditEntry).where(AuditEntry.demarche_id == d.id, AuditEntry.action == action)
    ).all()


def test_staff_read_the_version_that_matters_and_ask_for_new_ones(
    closed_consultation, people, api, asked, citizen
):
    d, mission = closed_consultation, people.mission
    url = f"/api/v1/demarches/{d.id}/synthesis"
    work(asked)
    api(mission, "patch", f"{url}/1", json={"introduction": "Ce que nous avons lu."})
    build.build(db.session, d, actor=None, as_of=utcnow())  # a task redelivered after the edit
    db.session.commit()
    # Staff read the draft being written, not the stray build above it.
    assert api(people.agent, "get", url).json["introduction"] == "Ce que nous avons lu."
    assert api(mission, "get", f"{url}/versions").json["matters"] == 1
    assert api(mission, "get", f"{url}/2").json["introduction"] == ""
    assert api(citizen, "get", url).status_code == 404  # nothing published
    assert api(citizen, "get", f"{url}/1").status_code == 404

    asked_for = api(mission, "post", f"{url}/builds")
    assert asked_for.status_code == 202
    assert asked_for.json == {"demarche_id": d.id, "newest_version": 2}
    assert asked_for.headers["Location"].endswith(f"{url}/versions")
    assert asked == [(jobs.BUILD_SYNTHESIS, (d.id, None))]
    assert work(asked) == [jobs.BUILD_SYNTHESIS]
    listed = api(mission, "get", f"{url}/versions").json
    assert [v["version"] for v in listed["items"]] == [3, 2, 1] and listed["matters"] == 1
    assert len(audited(d, "synthesis.rebuild")) == 1

    api(mission, "post", f"{url}/1/validate")
    api(mission, "post", f"{url}/1/publish")
    assert api(citizen, "get", url).json["version"] == 1
    assert api(citizen, "get", f"{url}/versions").json["total"] == 1
    assert api(citizen, "get", f"{url}/3").status_code == 404  # a draft: not for citizens


def test_the_roles_are_refused_as_on_the_sheet_and_nothing_changes(
    closed_consultation, people, api, asked, citizen
):
    d = closed_consultation
    url = f"/api/v1/demarches/{d.id}/synthesis"
    work(asked)
    refusal = "seule la mission rédige et publie la synthèse"
    for who in (people.agent, people.elected):
        assert api(who, "get", f"{url}/1").status_code == 200  # they read it
        for method, path, body in (
            ("patch", "/1", {"introduction": "Par le service."}),
            ("patch", "/1", {}),
            ("post", "/1/validate", None),
            ("post", "/1/publish", None),
            ("post", "/builds", None),
        ):
            refused = api(who, method, f"{url}{path}", json=body)
            assert refused.status_code == 403, (who.email, path, refused.json)
            assert refused.json["errors"] == [refusal]
    # Another department's agent does not even see the démarche.
    hidden = api(people.other_agent, "post", f"{url}/1/validate")
    assert hidden.status_code == 404 and hidden.json["message"] == f"aucune démarche n° {d.id}"
    assert api(citizen, "patch", f"{url}/1", json={"introduction": "x"}).status_code == 404
    assert asked == [] and audited(d, "synthesis.rebuild") == []
    db.session.expire_all()
    assert db.session.scalar(select(Synthesis.introduction)) == ""

    versions_published(d, people)
    assert api(citizen, "post", f"{url}/1/publish").json["errors"] == [refusal]


def versions_published(d, people) -> None:
    synthesis = db.session.scalar(select(Synthesis).where(Synthesis.demarche_id == d.id))
    now = utcnow()
    versions.edit(db.session, people.mission, synthesis, introduction="Lu.", as_of=now)
    versions.validate(db.session, people.mission, synthesis, as_of=now)
    versions.publish(db.session, people.mission, synthesis, as_of=now)
    db.session.commit()


def test_wrong_states_are_409_in_french(closed_consultation, people, api, asked, make_demarche):
    d, mission = closed_consultation, people.mission
    url = f"/api/v1/demarches/{d.id}/synthesis"
    work(asked)
    unknown = api(mission, "post", f"{url}/9/publish")
    assert unknown.status_code == 404
    assert unknown.json["message"] == "aucune version 9 de cette synthèse"

    def refused(path, json=None, method="post"):
        answer = api(mission, method, f"{url}{path}", json=json)
        assert answer.status_code == 409, answer.json
        return answer.json["message"]

    assert refused("/1/publish") == "validez cette version avant de la publier"
    assert refused("/1/validate") == "écrivez l’introduction avant de valider"

    # Version 1 validated, never published; version 2 published after it.
    api(mission, "patch", f"{url}/1", json={"introduction": "Première lecture."})
    api(mission, "post", f"{url}/1/validate")
    api(mission, "post", f"{url}/builds")
    work(asked)
    api(mission, "patch", f"{url}/2", json={"introduction": "Deuxième lecture."})
    for step in ("validate", "publish"):
        assert api(mission, "post", f"{url}/2/{step}").status_code == 200
    assert refused("/1/publish") == (
        "la version 2, plus récente, est publiée : une version plus ancienne ne la remplace pas"
    )
    assert refused("/2", {"introduction": "Autre chose."}, "patch") == (
        "une version publiée ne change plus : construisez une nouvelle version pour la modifier"
    )
    assert refused("/2/validate") == "seul un brouillon se valide"
    assert refused("/2/themes/merge", {"theme": "a", "into": "b"}) == (
        "une version publiée ne change plus : construisez une nouvelle version pour la modifier"
    )
    # Version 3 published replaces version 2, which is then no more to publish.
    api(mission, "post", f"{url}/builds")
    work(asked)
    api(mission, "patch", f"{url}/3", json={"introduction": "Troisième lecture."})
    api(mission, "post", f"{url}/3/validate")
    assert api(mission, "post", f"{url}/3/publish").json["status"] == "published"
    assert api(mission, "get", f"{url}/2").json["status"] == "superseded"
    assert refused("/2/publish") == (
        "la version 2 a été publiée puis remplacée : construisez une nouvelle version pour "
        "publier à nouveau"
    )
    assert api(mission, "get", url).json["version"] == 3

    # No synthesis is built before the consultation closes.
    early = make_demarche("consultation")
    asked.clear()
    answer = api(mission, "post", f"/api/v1/demarches/{early.id}/synthesis/builds")
    assert answer.status_code == 409
    assert answer.json["message"] == "une synthèse se construit une fois la consultation close"
    assert asked == []


def test_bad_values_are_422_in_french_and_nothing_is_saved(closed_consultation, people, api, asked):
    d, mission = closed_consultation, people.mission
    url = f"/api/v1/demarches/{d.id}/synthesis/1"
    work(asked)
    themes = api(mission, "get", url).json["themes"]

    def refused(body, path=""):
        answer = api(mission, "post" if path else "patch", f"{url}{path}", json=body)
        assert answer.status_code == 422, answer.json
        return answer.json["errors"]

    # One good field and one bad: the good one is not saved either.
    assert refused({"introduction": "Gardée ?", "summaries": {"999999": "Un résumé."}}) == {
        "summaries": ["aucun élément 999999"]
    }
    assert refused({"introduction": "x" * (versions.MAX_TEXT + 1)}) == {
        "introduction": ["50000 caractères au plus"]
    }
    assert refused({"labels": {themes[0]["id"]: "   "}}) == {
        "labels": ["un nom de 200 caractères au plus"]
    }
    assert refused({"labels": {"t-inconnu": "Un nom"}}) == {"labels": ["aucun thème t-inconnu"]}
    # Each bad field with its messages, however deep the mapping (one message per kind).
    too_long = {t["id"]: "x" * (versions.MAX_LABEL + 1) for t in themes[:2]}
    assert refused({"labels": too_long}) == {"labels": ["200 caractères au plus"]}
    assert refused({"introduction": None}) == {"introduction": ["Ce champ ne peut pas être nul."]}
    assert refused({"conclusion": "…"}) == {"conclusion": ["Champ inconnu."]}
    assert refused({"summaries": "Un résumé."}) == {
        "summaries": ["Objet invalide : un objet JSON {clé: valeur} est attendu."]
    }
    first = themes[0]["id"]
    assert refused({"theme": first, "into": first}, "/themes/merge") == {
        "themes": ["deux thèmes différents de cette version"]
    }
    assert refused({"theme": first}, "/themes/merge") == {"into": ["Champ obligatoire manquant."]}
    db.session.expire_all()
    kept = db.session.scalar(select(Synthesis).where(Synthesis.demarche_id == d.id))
    assert (kept.introduction, kept.summaries, kept.edited_at) == ("", {}, None)
    assert audited(d, "synthesis.edit") == []


def test_two_themes_merge_into_one(closed_consultation, people, api, asked):
    d, mission = closed_consultation, people.mission
    url = f"/api/v1/demarches/{d.id}/synthesis/1"
    work(asked)
    themes = api(mission, "get", url).json["themes"]
    keep, gone = [t for t in themes if t["item_id"] is None][:2]
    merged = api(
        mission, "post", f"{url}/themes/merge", json={"theme": gone["id"], "into": keep["id"]}
    )
    assert merged.status_code == 200, merged.json
    after = {t["id"]: t for t in merged.json["themes"]}
    assert gone["id"] not in after and after[keep["id"]]["size"] == keep["size"] + gone["size"]
