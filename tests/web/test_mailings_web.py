"""Mailings and decisions over the API and in the back office: the contract's routes, rights
and status codes; draft → preview → test → send → counts → cancel, each step audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from backoffice.extensions import db
from tests import factories
from tests.domain.test_mailings import deliver
from tests.seed import address, seed_contributors
from tests.support import csrf_from, login, logout
from workflows import mailings
from workflows.clock import utcnow
from workflows.models import AuditEntry, ItemDecision, Mailing, MailingStatus


@pytest.fixture
def consulted(make_demarche):
    d = make_demarche("consultation")
    seed_contributors(db.session, d, 3, as_of=utcnow(), news=True)
    db.session.commit()
    return d


NEWS = {
    "kind": "newsletter",
    "audience": "contributors",
    "subject": "Merci {{ name }}",
    "body": (
        "Bonjour {{ name }},\n{% for c in contributions %}{{ c.item }} : {{ c.text }}\n{% endfor %}"
    ),
}


def test_the_mailing_api_follows_its_contract(app, api, consulted, people, smtp):
    created = api(
        people.mission, "post", "/api/v1/mailings", json={**NEWS, "demarche_id": consulted.id}
    )
    assert created.status_code == 201, created.json
    mailing_id = created.json["id"]
    assert created.json["status"] == "draft"
    assert created.json["counts"] == {
        "to_send": 0,
        "sent": 0,
        "refused": 0,
        "failed": 0,
        "skipped": 0,
        "uncertain": 0,
        "cancelled": 0,
    }
    preview = api(
        people.mission, "get", f"/api/v1/mailings/{mailing_id}/preview?address={address(2)}"
    )
    assert preview.json["subject"] == "Merci Citoyen 2"
    sent = api(people.mission, "post", f"/api/v1/mailings/{mailing_id}/send")
    assert sent.status_code == 202 and sent.json["status"] == "scheduled"
    again = api(people.mission, "post", f"/api/v1/mailings/{mailing_id}/send")
    assert again.status_code == 409 and "déjà" in again.json["message"]

    mailings.start(db.session, mailing_id, as_of=utcnow())
    assert (
        api(people.mission, "get", f"/api/v1/mailings/{mailing_id}").json["counts"]["to_send"] == 3
    )
    deliver(app, mailing_id)
    final = api(people.mission, "get", f"/api/v1/mailings/{mailing_id}").json
    assert final["status"] == "sent" and final["counts"]["sent"] == 3 and len(smtp.received) == 3
    assert api(people.mission, "post", f"/api/v1/mailings/{mailing_id}/cancel").status_code == 409


def test_a_mailing_can_be_scheduled_and_cancelled_over_the_api(api, consulted, people):
    mailing_id = api(
        people.mission, "post", "/api/v1/mailings", json={**NEWS, "demarche_id": consulted.id}
    ).json["id"]
    later = (utcnow() + timedelta(days=2)).isoformat()
    scheduled = api(
        people.mission, "post", f"/api/v1/mailings/{mailing_id}/send", json={"scheduled_at": later}
    )
    assert scheduled.status_code == 202 and scheduled.json["scheduled_at"].startswith(later[:16])
    cancelled = api(people.mission, "post", f"/api/v1/mailings/{mailing_id}/cancel")
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    naive = api(
        people.mission, "post", "/api/v1/mailings", json={**NEWS, "demarche_id": consulted.id}
    ).json["id"]
    paris = api(
        people.mission,
        "post",
        f"/api/v1/mailings/{naive}/send",
        json={"scheduled_at": "2030-03-01T09:00:00"},
    )
    assert paris.json["scheduled_at"].startswith("2030-03-01T08:00:00")  # 09:00 in Paris


def test_the_mailing_api_is_the_missions_and_says_what_is_wrong_in_french(
    api, consulted, people, citizen
):
    url = "/api/v1/mailings"
    for user in (people.agent, people.elected, citizen):
        refused = api(user, "post", url, json={**NEWS, "demarche_id": consulted.id})
        assert refused.status_code == 403
    assert api(people.agent, "get", f"{url}/1").status_code == 403
    bad = api(
        people.mission, "post", url, json={**NEWS, "demarche_id": consulted.id, "kind": "spam"}
    )
    assert bad.status_code == 422 and bad.json["errors"]["kind"] == ["type inconnu « spam »"]
    mismatch = api(
        people.mission,
        "post",
        url,
        json={**NEWS, "demarche_id": consulted.id, "kind": "officials"},
    )
    assert mismatch.status_code == 422 and "audience" in mismatch.json["errors"]
    broken = api(
        people.mission,
        "post",
        url,
        json={**NEWS, "demarche_id": consulted.id, "body": "{{ nom }}"},
    )
    assert broken.status_code == 422 and broken.json["errors"]["body"][0].startswith(
        "le modèle ne se lit pas"
    )
    missing = api(people.mission, "post", url, json={"kind": "feedback"})
    assert missing.status_code == 422 and {"demarche_id", "audience", "subject", "body"} <= set(
        missing.json["errors"]
    )
    assert api(people.mission, "post", url, json={**NEWS, "demarche_id": 2**40}).status_code == 422
    assert api(people.mission, "get", f"{url}/999999").status_code == 404


def test_the_department_puts_its_decision_over_the_api(api, make_demarche, people):
    d = make_demarche("synthesis")
    item = d.items[0]
    url = f"/api/v1/demarches/{d.id}/items/{item.id}/decision"
    assert api(people.agent, "get", url).status_code == 404
    put = api(
        people.agent, "put", url, json={"outcome": "partly_retained", "justification": "En partie."}
    )
    assert put.status_code == 200 and put.json["outcome"] == "partly_retained"
    assert api(people.elected, "get", url).json["justification"] == "En partie."
    assert (
        api(
            people.other_agent, "put", url, json={"outcome": "retained", "justification": "x"}
        ).status_code
        == 404
    )
    assert (
        api(
            people.elected, "put", url, json={"outcome": "retained", "justification": "x"}
        ).status_code
        == 403
    )
    wrong = api(people.agent, "put", url, json={"outcome": "peut-être", "justification": ""})
    assert wrong.status_code == 422 and set(wrong.json["errors"]) == {"outcome", "justification"}
    elsewhere = make_demarche("synthesis", title="Autre démarche")
    other = f"/api/v1/demarches/{d.id}/items/{elsewhere.items[0].id}/decision"
    assert (
        api(
            people.agent, "put", other, json={"outcome": "retained", "justification": "x"}
        ).status_code
        == 404
    )


def test_decisions_are_written_on_the_demarche_sheet(client, make_demarche, people):
    d = make_demarche("synthesis")
    item = d.items[0]
    login(client, people.agent)
    sheet = client.get(f"/admin/demarche/details/?id={d.id}").text
    assert "Pas encore de décision" in sheet and f'id="justification-{item.id}"' in sheet
    saved = client.post(
        "/admin/demarche/decide/",
        data={
            "csrf_token": csrf_from(sheet),
            "id": d.id,
            "item_id": item.id,
            "outcome": "not_retained",
            "justification": "Le budget ne le permet pas <b>cette année</b>.",
        },
        follow_redirects=True,
    )
    assert "Décision sur « Engagement n°1 » enregistrée." in saved.text
    assert "&lt;b&gt;cette année&lt;/b&gt;" in saved.text or "cette année" in saved.text
    assert "<b>cette année</b>" not in saved.text
    decision = db.session.scalar(select(ItemDecision))
    assert decision.outcome.value == "not_retained" and decision.decided_by_id == people.agent.id
    no_csrf = client.post(
        "/admin/demarche/decide/",
        data={"id": d.id, "item_id": item.id, "outcome": "retained", "justification": "x"},
    )
    assert no_csrf.status_code == 400


def test_the_mission_writes_previews_tests_sends_and_follows_a_mailing(
    app, client, consulted, people, smtp
):
    login(client, people.mission)
    form = client.get(f"/admin/mailing/new/?demarche_id={consulted.id}").text
    assert "Ce que votre participation" in form  # the default feedback, to adapt
    created = client.post(
        "/admin/mailing/new/",
        data={
            "csrf_token": csrf_from(form),
            "demarche_id": consulted.id,
            "kind": "newsletter",
            "audience": "contributors",
            "event_id": "",
            **{k: NEWS[k] for k in ("subject", "body")},
        },
    )
    assert created.status_code == 302, created.text
    mailing = db.session.scalar(select(Mailing))
    sheet = client.get(created.headers["Location"]).text
    assert "Merci Citoyen 1" in sheet and "Brouillon" in sheet
    other = client.get(f"/admin/mailing/details/?id={mailing.id}&address={address(3)}").text
    assert "Merci Citoyen 3" in other

    client.post(
        "/admin/mailing/test/",
        data={"csrf_token": csrf_from(sheet), "id": mailing.id, "address": address(2)},
    )
    [test] = smtp.to(people.mission.email)
    assert test.subject == "[TEST] Merci Citoyen 2"
    assert "Citoyen 2" in test.text and address(2) not in test.message["List-Unsubscribe"]

    client.post(
        "/admin/mailing/send/",
        data={"csrf_token": csrf_from(sheet), "id": mailing.id, "when": "now"},
    )
    db.session.refresh(mailing)
    assert mailing.status == MailingStatus.SCHEDULED
    mailings.start(db.session, mailing.id, as_of=utcnow())
    counts = client.get(f"/admin/mailing/counts/?id={mailing.id}").json
    assert counts == {"status": "sending", "counts": {**counts["counts"], "to_send": 3}}
    client.post("/admin/mailing/cancel/", data={"csrf_token": csrf_from(sheet), "id": mailing.id})
    db.session.refresh(mailing)
    assert mailing.status == MailingStatus.CANCELLED
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.target == f"mailing:{mailing.id}")
    ).all()
    assert actions == [
        "mailing.create",
        "mailing.test",
        "mailing.schedule",
        "mailing.start",
        "mailing.cancel",
    ]


def test_mailings_are_closed_to_everyone_but_the_mission(client, consulted, people):
    login(client, people.agent)
    assert client.get("/admin/mailing/").status_code == 403
    assert client.get("/admin/mailing/new/").status_code == 403
    logout(client)
    assert client.get("/admin/mailing/").status_code == 302


def test_citizen_text_is_escaped_in_the_preview(client, make_demarche, people):
    d = make_demarche("consultation")
    seed_contributors(db.session, d, 1, as_of=utcnow())
    from workflows.models import Contribution

    contribution = db.session.scalar(select(Contribution))
    contribution.body = "<script>alert('x')</script>"
    db.session.commit()
    mailing = factories.mailing(people.mission, d, **NEWS)
    db.session.commit()
    login(client, people.mission)
    page = client.get(f"/admin/mailing/details/?id={mailing.id}").text
    assert "<script>alert" not in page and "&lt;script&gt;" in page


def test_entering_feedback_from_the_sheet_schedules_the_feedback(client, make_demarche, people):
    make_demarche("feedback")  # through the one transition function, as the sheet does
    [mailing] = db.session.scalars(select(Mailing)).all()
    assert mailing.kind.value == "feedback" and mailing.status == MailingStatus.SCHEDULED


def test_the_public_page_shows_the_decisions_where_the_feedback_links(client, make_demarche):
    d = make_demarche("feedback")
    page = client.get(f"/demarches/{d.slug}").text
    synthesis = page[page.index('id="synthese"') :]
    assert "Engagement n°1 — Retenu" in synthesis
    assert "Le service retient cet engagement." in synthesis


def test_a_feedback_mailing_cannot_be_sent_before_the_feedback_stage(api, consulted, people):
    created = api(
        people.mission,
        "post",
        "/api/v1/mailings",
        json={**NEWS, "kind": "feedback", "demarche_id": consulted.id},
    )
    assert created.status_code == 201  # prepared as a draft: it goes out on entering the stage
    sent = api(people.mission, "post", f"/api/v1/mailings/{created.json['id']}/send")
    assert sent.status_code == 409 and "brouillon" in sent.json["message"]
