"""Writing a mailing without template syntax: placeholders in plain French, the list each kind
of mailing may use, the default texts, and the preview of unsaved text for a real recipient
(or a fictional one for whoever may not see the participants)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from backoffice.extensions import db
from backoffice.outgoing import mailer
from tests.seed import address, seed_contributors
from workflows import mailings
from workflows.clock import utcnow
from workflows.errors import InvalidFields, PermissionDenied
from workflows.mailings.placeholders import expand, near_misses
from workflows.models import Mailing, MailingKind, Participant
from workflows.sandbox import Budget


@pytest.fixture
def consulted(make_demarche):
    d = make_demarche("consultation", title="Routes du Lauragais")
    seed_contributors(db.session, d, 3, as_of=utcnow())
    db.session.commit()
    return d


def fields(d, **changes):
    return {
        "kind": "newsletter",
        "audience": "contributors",
        "demarche_id": d.id,
        "event_id": None,
        "subject": "Merci [Prénom et nom du destinataire]",
        "body": "[Bonjour et nom du destinataire]\n\nDes nouvelles de [Titre de la démarche].",
        **changes,
    }


def look(people, d, address_=None, actor=None, **changes):
    return mailings.preview(
        db.session,
        people.mission if actor is None else actor,
        fields(d, **changes),
        links=mailer.links(),
        address=address_,
    )


def keys(placeholders) -> set[str]:
    return {p.key for p in placeholders}


def test_placeholders_become_the_recipients_own_words(app, consulted, people):
    body = (
        "[Bonjour et nom du destinataire]\n"
        "« [titre de la demarche] » ([Territoire de la démarche]) : "
        "[Lien vers la page de la démarche]\n"
        "[Contributions du destinataire et décisions]\n"
        "Ni [sic] ni [Titre de la démarche sont changés. {{ name|upper }}"
    )
    shown = look(people, consulted, address(2), body=body)
    assert shown.subject == "Merci Citoyen 2"
    assert shown.text.startswith(
        "Bonjour Citoyen 2,\n« Routes du Lauragais » (Portet-sur-Garonne) : "
    )
    assert f"http://dialogue.test/demarches/{consulted.slug}\n" in shown.text
    assert "Vos contributions, et ce qui a été décidé à leur sujet :\n\nLe " in shown.text
    # Brackets that name no placeholder, and the templates of before, read as they did.
    assert "Ni [sic] ni [Titre de la démarche sont changés. CITOYEN 2" in shown.text


def test_a_recipient_without_a_name_or_contributions_reads_no_gap(app, make_demarche, people):
    d = make_demarche("consultation")
    seed_contributors(db.session, d, 1, as_of=utcnow())
    db.session.commit()
    db.session.scalar(select(Participant)).name = None
    db.session.commit()
    body = "[Bonjour et nom du destinataire]\n\n[Décisions du Département]\n\nFin"
    shown = look(people, d, audience="territory_subscribers", body=body)
    assert shown.recipient is None  # nobody asked for the news: a fictional recipient
    shown = look(people, d, body=body)
    assert shown.text.startswith("Bonjour,\n\nEngagement n°1 : décision à venir.\n\nFin")
    assert not re.search(r"\n\s*\n\s*\n", shown.text)


def test_each_kind_has_its_list_of_placeholders(app):
    survey = {"survey_url"}  # the participants' survey's own link
    everything = keys(mailings.PLACEHOLDERS) - survey
    events = {"event_title", "event_when", "event_place"}
    to_citizens = {"contributions", "unsubscribe_url"}
    assert keys(mailings.available(MailingKind.FEEDBACK, with_event=False)) == everything - events
    assert keys(mailings.available(MailingKind.REMINDER, with_event=True)) == everything
    staff = everything - events - to_citizens
    assert keys(mailings.available(MailingKind.OFFICIALS, with_event=False)) == staff
    assert keys(mailings.available(MailingKind.DEPARTMENTS, with_event=True)) == staff | events
    assert (
        keys(mailings.available(MailingKind.SURVEY, with_event=False))
        == (everything - events) | survey
    )
    assert keys(mailings.available(None, with_event=True)) == everything | survey
    for placeholder in mailings.PLACEHOLDERS:  # each is what the writer types, in French
        assert re.fullmatch(r"\[[A-ZÉ][\w’ ]+\]", placeholder.token), placeholder


def test_a_placeholder_the_mailing_has_no_value_for_is_refused_when_written(app, consulted, people):
    cases = [
        ({"body": "Rendez-vous à [Lieu de l’événement]."}, "body", "needs an event"),
        (
            {"kind": "officials", "audience": "elected", "body": "[Lien de désabonnement]"},
            "body",
            "only for mailings to citizens",
        ),
        ({"subject": "[Décisions du Département]"}, "subject", "not in the subject"),
    ]
    for changes, field, words in cases:
        with pytest.raises(InvalidFields) as refused:
            mailings.create_mailing(
                db.session, people.mission, fields(consulted, **changes), as_of=utcnow()
            )
        assert words in str(refused.value.errors[field]), (changes, refused.value.errors)
        with pytest.raises(InvalidFields):  # the preview refuses it alike
            look(people, consulted, **changes)


def test_the_budget_holds_for_text_with_placeholders(app, consulted, people):
    endless = "{% for i in range(100000) %}[Décisions du Département]{% endfor %}"
    # Room for any length: the time is what stops it, however fast the machine writes.
    with pytest.raises(InvalidFields) as refused:
        mailings.check_template(endless, "body", budget=Budget(seconds=0.05, chars=100_000_000))
    assert "takes more than 50 ms" in str(refused.value.errors["body"])


@pytest.mark.parametrize("kind", list(MailingKind))
def test_the_default_texts_read_as_plain_french(app, kind):
    subject, body = mailings.default_text(kind)
    for text in (subject, body):
        assert "{" not in text and "}" not in text and "%" not in text
        assert expand(text) != text  # they do use placeholders
        assert near_misses(text) == []
        for bracketed in re.findall(r"\[[^\]]*\]", text):
            assert bracketed in {p.token for p in mailings.PLACEHOLDERS}
    with_event = kind == MailingKind.REMINDER
    mailings.check_template(subject, "subject", kind=kind, with_event=with_event)
    mailings.check_template(body, "body", kind=kind, with_event=with_event)


def test_the_preview_renders_unsaved_text_for_the_recipient_chosen(app, consulted, people):
    first = look(people, consulted)
    assert first.recipient.address == address(1) and first.subject == "Merci Citoyen 1"
    assert [r.address for r in first.choices] == [address(n) for n in (1, 2, 3)]
    chosen = look(people, consulted, f" {address(3).upper()} ")
    assert chosen.subject == "Merci Citoyen 3"
    stranger = look(people, consulted, "personne@exemple.fr")
    assert stranger.recipient.address == address(1)  # not in the audience: the first
    assert keys(first.placeholders) == keys(
        mailings.available(MailingKind.NEWSLETTER, with_event=False)
    )
    assert db.session.scalar(select(func.count()).select_from(Mailing)) == 0  # nothing saved
    misspelt = look(people, consulted, body="Voir [Titre de la démarhce].")
    assert misspelt.near_misses == [("[Titre de la démarhce]", "[Titre de la démarche]")]


def test_the_preview_shows_nobody_to_whoever_may_not_see_the_participants(app, consulted, people):
    with pytest.raises(PermissionDenied):
        look(people, consulted, address(2), actor=people.agent)
    shown = mailings.preview(  # the system itself sees no personal data
        db.session, None, fields(consulted), links=mailer.links(), address=address(2)
    )
    assert shown.recipient is None and shown.choices == []
    assert shown.subject == f"Merci {mailings.SAMPLE_NAME}" and "Citoyen" not in shown.text
