"""A mailing being written, as one real recipient of its audience will read it.

The writer's fields — saved or not — are checked as saving would check them, then rendered
by the same :class:`~.letters.Composer` (the same sandbox, the same budget) as the sending,
for the recipient asked for or the first of the audience. Whoever may not see the
participants' personal data (:func:`workflows.access.sees_personal_data`) gets a fictional
recipient and no list of recipients: nobody's name, address or contributions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from ..access import sees_personal_data
from ..models import Demarche, Event, Mailing, MailingStatus, User
from ..sandbox import Budget
from .audiences import Recipient, recipients
from .editing import _mission_only, mailing_values
from .letters import Composer, Links
from .placeholders import Placeholder, available, near_misses

#: How many recipients the writer may choose from (those who will receive it, in order).
CHOICES = 100
#: Who a preview is for when it cannot be a real recipient (nobody in the audience yet, or a
#: viewer who may not see them): the sample of the check at writing.
SAMPLE_NAME = "Camille Martin"


@dataclass(frozen=True)
class Preview:
    """``recipient`` None: written for the fictional recipient ``SAMPLE_NAME``."""

    subject: str
    text: str
    recipient: Recipient | None
    choices: list[Recipient] = field(default_factory=list)
    placeholders: list[Placeholder] = field(default_factory=list)
    #: Bracketed words that look like a misspelt placeholder: (as written, the placeholder).
    near_misses: list[tuple[str, str]] = field(default_factory=list)


def draft(session: Session, fields: dict[str, Any], budget: Budget | None = None) -> Mailing:
    """A mailing made of ``fields``, checked as saving checks them (InvalidFields), that is
    not saved: it is never added to the session."""
    values = mailing_values(session, fields, budget)
    event = session.get(Event, values["event_id"]) if values["event_id"] else None
    return Mailing(
        **values,
        demarche=session.get(Demarche, values["demarche_id"]),
        event=event,
        status=MailingStatus.DRAFT,
    )


def preview(
    session: Session,
    actor: User | None,
    fields: dict[str, Any],
    *,
    links: Links,
    address: str | None = None,
    label: Callable[[Any], str] = str,
    budget: Budget | None = None,
) -> Preview:
    """The subject and text of ``fields`` (a mailing's, saved or not) as ``address`` reads
    them — else the first recipient who will receive it —, with the recipients to choose
    from, the placeholders the mailing may use and the near misses of its text."""
    _mission_only(actor)
    mailing = draft(session, fields, budget)
    everyone = recipients(session, mailing) if sees_personal_data(actor) else []
    pool = [r for r in everyone if not r.skip] or everyone
    wanted = (address or "").strip().lower()
    chosen = next((r for r in everyone if wanted and r.address == wanted), None)
    chosen = chosen or (pool[0] if pool else None)
    choices = pool[:CHOICES]
    if chosen is not None and chosen not in choices:
        choices.append(chosen)
    composer = Composer(session, mailing, links, label=label, budget=budget)
    if chosen is not None:
        letter = composer.for_recipient(chosen)
    else:
        letter = composer.compose("", SAMPLE_NAME, None, test=True)
    return Preview(
        subject=letter.subject,
        text=letter.text,
        recipient=chosen,
        choices=choices,
        placeholders=available(mailing.kind, with_event=mailing.event_id is not None),
        near_misses=near_misses(mailing.subject + "\n" + mailing.body),
    )
