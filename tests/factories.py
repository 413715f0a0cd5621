"""Factories for what most tests build: a contribution, a participant, an event, a mailing.

Plain functions on ``backoffice.extensions.db.session`` (a test runs in the app context of the
``ctx`` fixture, which ``people``, ``citizen`` and ``make_demarche`` bring). Each goes through
the domain function a real user's request goes through, so the rules and the audit apply; each
has real defaults (French texts like those of the reference data) that a test overrides by
keyword, so that a test only writes what it is about. Like the domain functions, they flush and
leave the commit to the test. Users and démarches come from the ``make_user``, ``people``,
``citizen`` and ``make_demarche`` fixtures of ``tests/conftest.py``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from backoffice.extensions import db
from workflows import contributions, events, mailings
from workflows.clock import utcnow
from workflows.models import Contribution, Demarche, Event, Item, Mailing, Participant, User
from workflows.participants import participant_for_email
from workflows.roles import RoleName

# One of the FEAMP consultation's proposals (tests/data/reference/).
OPINION = "Comment le FEAMP va-t-il lutter contre les pollutions marines telles que le plastique ?"
# A newsletter to a démarche's contributors, with the template variables they are given.
NEWS_SUBJECT = "Des nouvelles de « {{ demarche.title }} »"
NEWS_BODY = "Bonjour {{ name }},\n\nLa démarche avance : {{ demarche.url }}\n"


def contribution(
    d: Demarche,
    actor: User | None,
    *,
    body: str = OPINION,
    item: Item | None = None,
    author: Participant | None = None,
    channel: str | None = None,
    as_of: datetime | None = None,
    **fields: Any,
) -> Contribution:
    """A contribution to ``d``'s first item (or ``item``) through ``contributions.contribute``.

    ``actor`` is who records it: a citizen account contributes online; staff (``people.mission``)
    record what came by another channel (``channel``, « mail » unless told); ``None`` is the
    system (an import). ``author``: the participant it is from (none: anonymous paper).
    ``fields``: ``kind``, ``title``, ``commune``, ``contributed_at``, ``event``, ``source``…
    """
    if channel is None:
        online = actor is not None and actor.has_any_role(RoleName.CITIZEN)
        channel = "online" if online else "mail"
    return contributions.contribute(
        db.session,
        d,
        item_id=(item or d.items[0]).id,
        body=body,
        author=author,
        actor=actor,
        channel=channel,
        as_of=as_of or utcnow(),
        **fields,
    )


def participant(
    email: str = "ana.garcia@exemple.fr",
    *,
    name: str | None = None,
    consents: bool = True,
    as_of: datetime | None = None,
) -> Participant:
    """The participant of ``email`` (created if new) through ``participant_for_email``: an
    address met on paper or at an event, with every consent on unless ``consents=False``."""
    return participant_for_email(
        db.session, email, name=name, consents=consents, as_of=as_of or utcnow()
    )


def event(
    d: Demarche,
    actor: User,
    *,
    starts_in: timedelta = timedelta(days=7),
    lasts: timedelta = timedelta(hours=3),
    as_of: datetime | None = None,
    **fields: Any,
) -> Event:
    """A workshop of ``d`` organised by ``actor`` through ``events.create_event``: at the
    Hôtel du Département, 30 seats, starting ``starts_in`` after ``as_of`` (whole seconds) and
    lasting ``lasts``. ``fields`` override the form (``starts_at``, ``title``, ``capacity``…)."""
    moment = as_of or utcnow()
    starts_at = fields.pop("starts_at", None) or moment.replace(microsecond=0) + starts_in
    values = {
        "kind": "workshop",
        "title": "Atelier citoyen",
        "place": "Hôtel du Département",
        "starts_at": starts_at,
        "ends_at": starts_at + lasts,
        "capacity": 30,
        **fields,
    }
    return events.create_event(db.session, actor, d, values, as_of=moment)


def mailing(
    actor: User | None,
    d: Demarche | None = None,
    *,
    as_of: datetime | None = None,
    **fields: Any,
) -> Mailing:
    """A draft newsletter to the contributors of ``d`` written by ``actor`` (the mission)
    through ``mailings.create_mailing``; ``fields`` override the form (``kind``, ``audience``,
    ``subject``, ``body``, ``territory``…)."""
    values = {
        "kind": "newsletter",
        "audience": "contributors",
        "subject": NEWS_SUBJECT,
        "body": NEWS_BODY,
        **({"demarche_id": d.id} if d is not None else {}),
        **fields,
    }
    return mailings.create_mailing(db.session, actor, values, as_of=as_of or utcnow())
