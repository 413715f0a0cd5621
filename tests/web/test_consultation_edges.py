"""Edge cases of the consultation found in review: each test is a way it once went wrong."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backoffice.api.auth import issue_token
from backoffice.extensions import db, limiter
from tests import factories
from tests.support import csrf_token, login
from workflows import contributions, events, imports
from workflows.clock import utcnow
from workflows.errors import Conflict
from workflows.models import (
    AuditEntry,
    Contribution,
    ContributionImport,
    ContributionStatus,
    ImportStatus,
    OutboxMessage,
)
from workflows.participants import participant_for_user


def preview(d, text: str, fmt: str = "csv"):
    return imports.Importer(db.session, d, fmt).preview(text.encode())


def test_a_name_typed_by_someone_else_never_shows_on_an_account_holders_words(
    client, make_demarche, make_user
):
    d = make_demarche("consultation")
    factories.participant("discrete@exemple.fr", name="Nom Imposé")
    user = make_user("citizen", email="discrete@exemple.fr")
    user.name = ""  # registered without a name: anonymous
    participant_for_user(db.session, user, as_of=utcnow())
    db.session.commit()
    login(client, user)
    client.post(
        f"/demarches/{d.slug}/elements/{d.items[0].id}/contribuer",
        data={"csrf_token": csrf_token(client), "kind": "comment", "body": "Discrètement"},
    )
    page = client.get(f"/demarches/{d.slug}/elements/{d.items[0].id}").text
    assert "Nom Imposé" not in page and "Un·e participant·e" in page


def test_the_api_shows_citizens_no_more_names_than_the_pages(
    client, make_demarche, people, citizen
):
    d = make_demarche("consultation")
    paper = factories.participant("papier@exemple.fr", name="Jean Papier")
    c = factories.contribution(
        d, people.mission, body="Lettre", title="Ma proposition", kind="proposal", author=paper
    )
    db.session.commit()
    headers = {"Authorization": f"Bearer {issue_token(citizen, utcnow())}"}
    db.session.commit()
    [seen] = client.get(f"/api/v1/demarches/{d.id}/contributions", headers=headers).json["items"]
    assert seen["author_name"] is None and seen["author_email"] is None
    contributions.moderate(
        db.session, c, "hide", actor=people.mission, reason="hors sujet", as_of=utcnow()
    )
    db.session.commit()
    [hidden] = client.get(f"/api/v1/demarches/{d.id}/contributions", headers=headers).json["items"]
    assert (hidden["title"], hidden["body"], hidden["moderation_reason"]) == (
        None,
        "",
        "hors sujet",
    )


def test_a_held_contribution_refused_stays_private(client, make_demarche, people, citizen):
    d = make_demarche("consultation", hold_for_review=True)
    author = participant_for_user(db.session, citizen, as_of=utcnow())
    held = factories.contribution(d, citizen, body="Hors charte", author=author)
    db.session.commit()
    with pytest.raises(Conflict):
        contributions.moderate(
            db.session, held, "hide", actor=people.mission, reason="x", as_of=utcnow()
        )
    db.session.rollback()
    held = db.session.get(Contribution, held.id)
    contributions.moderate(
        db.session, held, "reject", actor=people.mission, reason="propos hors sujet", as_of=utcnow()
    )
    db.session.commit()
    assert held.status == ContributionStatus.REJECTED
    page = client.get(f"/demarches/{d.slug}/elements/{d.items[0].id}").text
    assert "Hors charte" not in page and "masqué" not in page
    login(client, citizen)
    assert "propos hors sujet" in client.get("/espace/").text  # its author sees why


def test_an_ambiguous_postal_code_in_my_choices_gets_a_message(client, citizen):
    login(client, citizen)
    response = client.post(
        "/espace/consentements",
        data={"csrf_token": csrf_token(client), "consent_feedback": "y", "commune": "31450"},
    )
    assert response.status_code == 302
    assert "plusieurs communes" in client.get(response.headers["Location"]).text


def test_registrations_cannot_be_cancelled_once_the_event_started(make_demarche, people):
    d = make_demarche("consultation")
    start = utcnow() + timedelta(days=1)
    event = factories.event(
        d,
        people.mission,
        starts_at=start,
        lasts=timedelta(hours=2),
        kind="meeting",
        title="Rencontre",
        place="Revel",
        capacity=5,
    )
    taken = events.register(
        db.session,
        event.id,
        factories.participant("a@exemple.fr"),
        as_of=utcnow(),
    )
    with pytest.raises(Conflict, match="has started"):
        events.cancel_registration(db.session, taken, as_of=start + timedelta(minutes=5))


# -- imports --------------------------------------------------------------------------------


def test_impossible_dates_are_refused_per_row(make_demarche):
    d = make_demarche("consultation")
    result = preview(d, "item;text;date\n1;Ancien;0001-01-01\n1;Normal;2026-11-20\n")
    assert [(line, str(reason)) for line, reason in result.refused] == [
        (2, "a date between 1900 and 2100 expected")
    ]
    assert result.rows_to_import == 1


def test_refused_lines_are_the_first_line_of_their_record(make_demarche):
    d = make_demarche("consultation")
    text = 'item;text\n1;"Un avis\nsur deux lignes"\ninconnu;"Mal placé\nlui aussi"\n1;Bien\n'
    assert [line for line, _ in preview(d, text).refused] == [4]


def test_an_answer_to_an_answer_to_a_missing_comment_is_refused_too(make_demarche):
    d = make_demarche("consultation")
    header = (
        "id;created_at;body;author/id;author/name;alignment;depth;user_group/id;"
        "user_group/name/fr;commentable_id;commentable_type;root_commentable_url\n"
    )
    rows = (
        "10;2019-01-21 20:46:55 +0100;Réponse;1;;0;1;;;99;Decidim::Comments::Comment;"
        "http://x/proposals/1\n"
        "11;2019-01-22 20:46:55 +0100;Réponse à la réponse;2;;0;deux;;;10;"
        "Decidim::Comments::Comment;http://x/proposals/1\n"
    )
    result = preview(d, header + rows, "decidim")
    assert result.rows_to_import == 0 and len(result.refused) == 2


def test_a_utf8_file_is_recognised_whatever_byte_4096_cuts(make_demarche):
    text = "item;text\n" + "z" * 5 + "\n" + "1;« il a dit ”oui” »\n" * 500
    assert imports.guess_format("avis.csv", text.encode()) == "csv"
    assert preview(make_demarche("consultation"), text).refused[0][0] == 2  # "zzzzz": no item


def test_a_huge_field_is_a_refused_row_not_a_crash(make_demarche):
    result = preview(make_demarche("consultation"), "item;text\n1;" + "x" * 200_000 + "\n1;ok\n")
    assert result.rows_to_import == 1 and len(result.refused) == 1


def test_an_import_runs_once_and_always_ends(make_demarche, people, tmp_path):
    d = make_demarche("consultation")
    record = imports.start_import(
        db.session,
        d,
        actor=people.mission,
        filename="a.csv",
        raw=b"item;text\n1;Un\n1;Deux\n",
        fmt=None,
        item_id=None,
        directory=tmp_path,
        as_of=utcnow(),
    )
    twin = imports.start_import(
        db.session,
        d,
        actor=people.mission,
        filename="a.csv",
        raw=b"item;text\n1;Un\n1;Deux\n",
        fmt=None,
        item_id=None,
        directory=tmp_path,
        as_of=utcnow(),
    )
    db.session.commit()
    assert record.path != twin.path  # the same file twice in a second: two files
    assert imports.run_import(db.session, record.id).status == ImportStatus.DONE
    assert imports.run_import(db.session, record.id) is None  # a double click runs nothing
    assert imports.run_import(db.session, twin.id).imported == 0  # duplicates
    assert not Path(record.path).exists() and not Path(twin.path).exists()
    broken = imports.start_import(
        db.session,
        d,
        actor=people.mission,
        filename="b.csv",
        raw=b"item;text\n1;Trois\n",
        fmt=None,
        item_id=None,
        directory=tmp_path,
        as_of=utcnow(),
    )
    db.session.commit()
    Path(broken.path).unlink()  # the file went missing (a full disk, a cleaner …)
    failed = imports.run_import(db.session, broken.id)
    assert failed.status == ImportStatus.FAILED and failed.error


def test_the_sweep_hands_out_lost_imports_and_forgets_old_previews(make_demarche, people, tmp_path):
    d = make_demarche("consultation")
    now = utcnow()
    lost = imports.start_import(
        db.session,
        d,
        actor=people.mission,
        filename="a.csv",
        raw=b"item;text\n1;Un\n",
        fmt=None,
        item_id=None,
        directory=tmp_path,
        as_of=now,
    )
    old = imports.start_import(
        db.session,
        d,
        actor=people.mission,
        filename="b.csv",
        raw=b"item;text\n1;Deux\n",
        fmt=None,
        item_id=None,
        directory=tmp_path,
        as_of=now - timedelta(days=2),
    )
    db.session.commit()
    assert imports.queue_import(db.session, lost.id, as_of=now)
    assert imports.sweep_imports(db.session, as_of=now) == []  # just queued: give it time
    assert imports.sweep_imports(db.session, as_of=now + timedelta(minutes=3)) == [lost.id]
    db.session.refresh(old)
    assert old.status == ImportStatus.FAILED and not Path(old.path).exists()


def test_erasure_forgets_files_answers_and_row_hashes(
    client, make_demarche, people, citizen, tmp_path, deliver
):
    d = make_demarche("consultation")
    raw = f"item;text;email\n1;Avis de Claire;{citizen.email}\n".encode()
    done = imports.Importer(db.session, d, "csv")
    done.apply(done.preview(raw), actor=None, as_of=utcnow())
    waiting = imports.start_import(
        db.session,
        d,
        actor=people.mission,
        filename="c.csv",
        raw=b"item;text;email\n1;Autre;" + citizen.email.encode(),
        fmt=None,
        item_id=None,
        directory=tmp_path,
        as_of=utcnow(),
    )
    message = db.session.scalar(select(OutboxMessage))
    message.error = f"550 <{citizen.email}>: mailbox full"
    db.session.commit()
    from workflows.erasure import erase_account

    erase_account(db.session, citizen, as_of=utcnow())
    db.session.commit()
    assert not Path(waiting.path).exists()
    assert db.session.get(ContributionImport, waiting.id).status == ImportStatus.FAILED
    assert citizen.email not in (db.session.get(OutboxMessage, message.id).error or "")
    kept = db.session.scalar(select(Contribution).where(Contribution.body == "Avis de Claire"))
    assert kept.participant.erased_at and "claire" not in kept.source


# -- rights and ids -------------------------------------------------------------------------


def test_an_elected_official_reads_but_does_not_import(client, make_demarche, people, tmp_path):
    d = make_demarche("consultation")
    record = imports.start_import(
        db.session,
        d,
        actor=people.mission,
        filename="a.csv",
        raw=b"item;text\n1;Un\n",
        fmt=None,
        item_id=None,
        directory=tmp_path,
        as_of=utcnow(),
    )
    db.session.commit()
    login(client, people.elected)
    url = f"/admin/demarche/import/{record.id}/"
    assert client.get(url).status_code == 200
    assert client.post(url, data={"csrf_token": csrf_token(client)}).status_code == 403
    assert client.get(f"/admin/demarche/import/?id={d.id}").status_code == 403
    assert db.session.scalar(select(func.count(Contribution.id))) == 0


def test_the_timeline_names_staff_and_keeps_citizens_anonymous(
    client, make_demarche, people, citizen
):
    d = make_demarche("consultation")
    c = factories.contribution(d, people.mission, body="Avis")
    contributions.report(db.session, c, reporter=citizen, reason="x", as_of=utcnow())
    db.session.commit()
    login(client, people.elected)
    sheet = client.get(f"/admin/demarche/details/?id={d.id}").text
    assert "un·e citoyen·ne</strong>" in sheet and citizen.email not in sheet


@pytest.mark.parametrize("url", ["/api/v1/demarches/{d}/contributions?item_id=2147483648"])
def test_ids_beyond_32_bits_are_422_in_the_api(client, make_demarche, people, url):
    d = make_demarche("consultation")
    headers = {"Authorization": f"Bearer {issue_token(people.mission, utcnow())}"}
    db.session.commit()
    assert client.get(url.format(d=d.id), headers=headers).status_code == 422
    posted = client.post(
        f"/api/v1/demarches/{d.id}/contributions",
        headers=headers,
        json={"item_id": 2**40, "body": "x", "channel": "mail"},
    )
    assert posted.status_code == 422
    assert posted.json["errors"]["item_id"] == ["identifiant invalide"]


def test_ids_beyond_32_bits_are_404_on_pages(client, people, citizen):
    login(client, citizen)
    assert (
        client.post(
            "/espace/inscriptions/1099511627776/annuler", data={"csrf_token": csrf_token(client)}
        ).status_code
        == 404
    )


def test_registration_and_password_reset_are_rate_limited(app, client, people):
    app.config["PUBLIC_POST_LIMIT"] = "2 per minute"
    limiter.reset()
    try:
        codes = [
            client.post(
                "/reset", data={"email": people.agent.email, "csrf_token": csrf_token(client)}
            ).status_code
            for _ in range(3)
        ]
    finally:
        app.config["PUBLIC_POST_LIMIT"] = "10000 per minute"
        limiter.reset()
    assert codes[-1] == 429


def test_the_registration_form_has_a_honeypot(client, ctx):
    page = client.get("/register").text
    response = client.post(
        "/register",
        data={
            "csrf_token": re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1),
            "email": "robot@exemple.fr",
            "password": "un mot de passe solide",
            "password_confirm": "un mot de passe solide",
            "website": "http://spam.example",
        },
    )
    assert response.status_code == 200  # the form again: nobody registered
    assert db.session.scalar(select(func.count(AuditEntry.id))) == 0
    from workflows.models import User

    assert db.session.scalar(select(User).where(User.email == "robot@exemple.fr")) is None
