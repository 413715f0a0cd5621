"""The synthesis in the back office and on the public page."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from backoffice.extensions import db
from tests import factories
from tests.support import csrf_from, csrf_token, login, logout
from workflows import imports
from workflows.clock import utcnow
from workflows.models import Synthesis, SynthesisStatus
from workflows.syntheses import build, versions

DATA = Path(__file__).parent.parent / "data" / "reference"


def built(make_demarche, people):
    d = make_demarche("synthesis")
    raw = (DATA / "feamp-consultation-proposals.csv").read_bytes()
    importer = imports.Importer(db.session, d, "decidim")
    importer.apply(importer.preview(raw), actor=None, as_of=utcnow())
    factories.contribution(
        d,
        people.mission,
        body="Écrivez-moi : paul.martin@exemple.fr, je suis Paul Martin, 06 11 22 33 44. "
        "La lutte contre la pollution plastique en mer doit être la priorité du fonds.",
    )
    db.session.commit()
    return d, build.build(db.session, d, actor=people.mission, as_of=utcnow())


def test_the_mission_writes_validates_and_publishes_from_the_sheet(client, make_demarche, people):
    d, synthesis = built(make_demarche, people)
    url = f"/admin/synthesis/{d.id}/"
    login(client, people.agent)
    sheet = client.get(url).text
    assert "Version 1" in sheet and "<svg" in sheet and "Enregistrer le brouillon" not in sheet
    logout(client)
    login(client, people.other_agent)
    assert client.get(url).status_code == 404
    logout(client)

    login(client, people.mission)
    sheet = client.get(url).text
    theme = synthesis.themes[0]
    saved = client.post(
        f"{url}edit/",
        data={
            "csrf_token": csrf_from(sheet),
            "version": 1,
            "introduction": "408 propositions sur le futur fonds européen pour la pêche.",
            f"summary-{d.items[0].id}": "Des propositions surtout sur la répartition des fonds.",
            f"label-{theme['id']}": "Répartition des fonds",
        },
        follow_redirects=True,
    )
    assert "La synthèse est enregistrée" in saved.text and "Répartition des fonds" in saved.text
    for step, message in (("validate", "validée"), ("publish", "publique")):
        done = client.post(
            f"{url}{step}/",
            data={"csrf_token": csrf_token(client), "version": 1},
            follow_redirects=True,
        )
        assert message in done.text
    db.session.expire_all()
    assert db.session.get(Synthesis, synthesis.id).status == SynthesisStatus.PUBLISHED
    assert client.post(f"{url}publish/", data={"version": 1}).status_code == 400  # no CSRF

    logout(client)
    page = client.get(f"/demarches/{d.slug}").text
    section = page.split('id="synthese"')[1]
    assert "408 propositions sur le futur fonds" in section
    assert "Répartition des fonds" in section and section.count("<svg") == 4
    # (The contribution itself is public as its author wrote it; the synthesis quotes none of
    # its personal data.)
    assert "paul.martin@exemple.fr" not in section and "06 11 22 33 44" not in section
    assert "Paul Martin" not in section


def test_nothing_is_public_before_it_is_published(client, make_demarche, people):
    d, _ = built(make_demarche, people)
    assert 'id="synthese"' not in client.get(f"/demarches/{d.slug}").text
    assert db.session.scalars(select(Synthesis)).all()


def badge_line(sheet: str) -> str:
    """The sheet's line under its title: which version it shows, and its status."""
    return sheet.split("← La démarche</a>")[1].split("</p>")[0]


def test_the_sheet_opens_on_the_published_version_not_a_later_stray_build(
    client, make_demarche, people
):
    d, first = built(make_demarche, people)
    mission, now = people.mission, utcnow()
    versions.edit(db.session, mission, first, introduction="Ce que nous avons lu.", as_of=now)
    db.session.commit()
    build.build(db.session, d, actor=None, as_of=now)  # a task redelivered after the edit
    url = f"/admin/synthesis/{d.id}/"
    login(client, mission)
    sheet = client.get(url).text
    assert "Version 1" in badge_line(sheet) and "Brouillon" in badge_line(sheet)
    assert "Ce que nous avons lu." in sheet  # the draft being written, in its form

    versions.validate(db.session, mission, first, as_of=now)
    versions.publish(db.session, mission, first, as_of=now)
    rebuilt = build.build(db.session, d, actor=None, as_of=now)
    versions.edit(db.session, mission, rebuilt, introduction="Deuxième lecture.", as_of=now)
    db.session.commit()
    build.build(db.session, d, actor=None, as_of=now)  # version 4: nobody asked for it
    sheet = client.get(url).text
    assert "Version 1" in badge_line(sheet) and "Publiée" in badge_line(sheet)
    assert "Enregistrer le brouillon" not in sheet  # a published version no longer changes
    assert "La version 3 est en préparation (brouillon)." in sheet
    assert f'href="/admin/synthesis/{d.id}/?version=3"' in sheet
    # Asked for by number, any version opens.
    assert "Version 4" in badge_line(client.get(f"{url}?version=4").text)


def test_the_sheet_tells_its_method_in_french_and_shows_no_empty_heading(
    client, make_demarche, people
):
    d = make_demarche("synthesis")  # closed without a single contribution
    build.build(db.session, d, actor=None, as_of=utcnow())
    login(client, people.mission)
    sheet = client.get(f"/admin/synthesis/{d.id}/").text
    assert "Méthode" in sheet and "k-moyennes sur le cosinus" in sheet
    assert "adresses électroniques, numéros de téléphone" in sheet
    assert "NMF on TF-IDF" not in sheet and "stop words" not in sheet
    # Nothing was said: no item heading, no theme names, no empty pictures.
    assert f"{d.items[0].position}. {d.items[0].title}</h3>" not in sheet
    assert "Noms des thèmes" not in sheet and "<svg" not in sheet


def test_an_older_validated_version_is_not_published_over_a_later_one(
    client, make_demarche, people
):
    d, first = built(make_demarche, people)
    mission, now = people.mission, utcnow()
    versions.edit(db.session, mission, first, introduction="Première lecture.", as_of=now)
    versions.validate(db.session, mission, first, as_of=now)
    second = build.build(db.session, d, actor=mission, as_of=now)
    versions.edit(db.session, mission, second, introduction="Deuxième lecture.", as_of=now)
    versions.validate(db.session, mission, second, as_of=now)
    versions.publish(db.session, mission, second, as_of=now)
    db.session.commit()
    url = f"/admin/synthesis/{d.id}/"
    login(client, mission)
    sheet = client.get(f"{url}?version=1").text
    assert "Version 1" in badge_line(sheet) and "Validée" in badge_line(sheet)
    assert ">Publier</button>" not in sheet
    reason = (
        "la version 2, plus récente, est publiée : une version plus ancienne ne la remplace pas"
    )
    assert reason in sheet
    # Posted anyway (a page left open): refused, and version 2 stays the public one.
    done = client.post(
        f"{url}publish/",
        data={"csrf_token": csrf_from(sheet), "version": 1},
        follow_redirects=True,
    )
    assert reason in done.text
    db.session.expire_all()
    assert db.session.get(Synthesis, first.id).status == SynthesisStatus.VALIDATED
    assert db.session.get(Synthesis, second.id).status == SynthesisStatus.PUBLISHED
