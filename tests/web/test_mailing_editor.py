"""The mailing editor over HTTP: the placeholders listed in the writer's words, the preview
of unsaved text for a recipient (the page's « Prévisualiser », the live preview's JSON, the
API's), CSRF, who may ask, and nobody's personal data for who may not see it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from backoffice.extensions import db
from tests.seed import address, seed_contributors
from tests.support import csrf_from, login, logout
from workflows.clock import utcnow
from workflows.models import Mailing

SUBJECT = "Merci [Prénom et nom du destinataire]"
BODY = "[Bonjour et nom du destinataire]\n\nDes nouvelles de « [Titre de la démarche] »."


@pytest.fixture
def consulted(make_demarche):
    d = make_demarche("consultation", title="Collèges du Comminges")
    seed_contributors(db.session, d, 3, as_of=utcnow())
    db.session.commit()
    return d


def form_of(d, **changes) -> dict:
    return {
        "demarche_id": d.id,
        "kind": "newsletter",
        "audience": "contributors",
        "event_id": "",
        "subject": SUBJECT,
        "body": BODY,
        **changes,
    }


def saved() -> int:
    return db.session.scalar(select(func.count()).select_from(Mailing))


def test_the_editor_lists_what_to_type_and_starts_from_plain_french(client, consulted, people):
    login(client, people.mission)
    page = client.get(f"/admin/mailing/new/?demarche_id={consulted.id}").text
    assert "Champs à insérer" in page
    assert "<code>[Titre de la démarche]</code> — le titre de la démarche" in page
    assert 'data-insert="[Bonjour et nom du destinataire]"' in page  # shown by the script
    assert "{{" not in page.split('id="body"')[1].split("</textarea>")[0]  # the default text
    assert "{%" not in page
    # The default feedback, previewed for the first contributor beside the text.
    assert "Ce que votre participation à « Collèges du Comminges » a permis" in page
    assert "Bonjour Citoyen 1," in page and "Tel que le lira Citoyen 1" in page
    # Placeholders the mailing has no value for are not offered.
    assert 'data-placeholder="event_title" hidden' in page
    invitation = client.get(f"/admin/mailing/new/?demarche_id={consulted.id}&kind=officials")
    assert "point d’étape" in invitation.text
    assert 'data-placeholder="unsubscribe_url" hidden' in invitation.text


def test_previewing_without_javascript_shows_the_page_again_unsaved(client, consulted, people):
    login(client, people.mission)
    url = f"/admin/mailing/new/?demarche_id={consulted.id}"
    token = csrf_from(client.get(url).text)
    shown = client.post(
        url,
        data={
            **form_of(consulted),
            "csrf_token": token,
            "preview": "1",
            "preview_address": address(3),
        },
    )
    assert shown.status_code == 200 and saved() == 0
    assert "Merci Citoyen 3" in shown.text and "Bonjour Citoyen 3," in shown.text
    assert f'<option value="{address(3)}" selected>' in shown.text
    wrong = client.post(
        url,
        data={
            **form_of(consulted, body="Rendez-vous à [Lieu de l’événement]."),
            "csrf_token": token,
            "preview": "1",
        },
    )
    assert "Texte : [Lieu de l’événement] a besoin d’un événement" in wrong.text
    created = client.post(url, data={**form_of(consulted), "csrf_token": token})
    assert created.status_code == 302 and saved() == 1
    mailing = db.session.scalar(select(Mailing))
    assert mailing.subject == SUBJECT  # kept as written, placeholders and all
    edit = client.get(f"/admin/mailing/edit/?id={mailing.id}").text
    assert "Merci Citoyen 1" in edit and f'value="{SUBJECT}"' in edit
    changed = client.post(
        f"/admin/mailing/edit/?id={mailing.id}",
        data={
            **form_of(consulted, subject="Au revoir [Prénom et nom du destinataire]"),
            "csrf_token": token,
            "preview": "1",
            "preview_address": address(2),
        },
    )
    assert "Au revoir Citoyen 2" in changed.text
    db.session.refresh(mailing)
    assert mailing.subject == SUBJECT  # previewed, not saved


def test_the_live_preview_answers_json_for_the_mission_only(client, consulted, people):
    login(client, people.mission)
    token = csrf_from(client.get("/admin/mailing/new/").text)
    answer = client.post(
        "/admin/mailing/preview/",
        data={**form_of(consulted), "csrf_token": token, "preview_address": address(2)},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json["subject"] == "Merci Citoyen 2"
    assert "<p>Bonjour Citoyen 2,</p>" in answer.json["html"]
    assert [c["address"] for c in answer.json["choices"]] == [address(n) for n in (1, 2, 3)]
    assert answer.json["recipient_label"] == (  # a newsletter needs the news consent
        f"Citoyen 2 <{address(2)}> — ne le recevra pas : "
        "sans le consentement qu’exige ce type d’envoi"
    )
    assert "unsubscribe_url" in answer.json["placeholders"]
    refused = client.post(
        "/admin/mailing/preview/",
        data={**form_of(consulted, subject="{{ nom }}"), "csrf_token": token},
    )
    assert refused.status_code == 422
    assert refused.json["errors"]["subject"][0].startswith("le modèle ne se lit pas")
    no_csrf = client.post("/admin/mailing/preview/", data=form_of(consulted))
    assert no_csrf.status_code == 400 and "Citoyen" not in no_csrf.text

    logout(client)
    anonymous = client.post("/admin/mailing/preview/", data=form_of(consulted))
    assert anonymous.status_code in (302, 400) and "Citoyen" not in anonymous.text
    for who in (people.agent, people.elected):
        login(client, who)
        page = client.get("/admin/").text
        denied = client.post(
            "/admin/mailing/preview/",
            data={**form_of(consulted), "csrf_token": csrf_from(page)},
        )
        assert denied.status_code == 403 and "Citoyen" not in denied.text
        logout(client)
    assert saved() == 0


def test_the_api_previews_unsaved_text_and_lists_the_placeholders(api, consulted, people):
    fields = {k: v for k, v in form_of(consulted).items() if k != "event_id"}
    shown = api(
        people.mission, "post", "/api/v1/mailings/preview", json={**fields, "address": address(3)}
    )
    assert shown.status_code == 200, shown.json
    assert shown.json["recipient"] == {"address": address(3), "name": "Citoyen 3"}
    assert shown.json["subject"] == "Merci Citoyen 3"
    assert shown.json["text"].startswith("Bonjour Citoyen 3,\n\nDes nouvelles de « Collèges")
    assert len(shown.json["choices"]) == 3 and saved() == 0
    wrong = api(
        people.mission,
        "post",
        "/api/v1/mailings/preview",
        json={**fields, "subject": "[Décisions du Département]"},
    )
    assert wrong.status_code == 422 and "pas dans l’objet" in wrong.json["errors"]["subject"][0]
    assert api(people.agent, "post", "/api/v1/mailings/preview", json=fields).status_code == 403
    listed = api(people.mission, "get", "/api/v1/mailings/placeholders?kind=officials").json
    tokens = {p["token"]: p for p in listed["items"]}
    assert "[Lien de désabonnement]" not in tokens and "[Lieu de l’événement]" not in tokens
    assert tokens["[Titre de la démarche]"]["help"] == "le titre de la démarche"
    events = api(people.mission, "get", "/api/v1/mailings/placeholders?with_event=true").json
    assert "[Lieu de l’événement]" in {p["token"] for p in events["items"]}
    # The mailing endpoints take the same text.
    created = api(people.mission, "post", "/api/v1/mailings", json=fields)
    assert created.status_code == 201 and created.json["subject"] == SUBJECT
    preview = api(people.mission, "get", f"/api/v1/mailings/{created.json['id']}/preview")
    assert preview.json["subject"] == "Merci Citoyen 1"
