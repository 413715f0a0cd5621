"""What each recipient reads."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clock import PARIS
from ..errors import DomainError, InvalidFields
from ..models import (
    Contribution,
    Delivery,
    Demarche,
    Event,
    Mailing,
    MailingKind,
    Participant,
    Registration,
    RegistrationStatus,
    User,
)
from ..sandbox import Budget, render
from .audiences import Recipient, recipients
from .policy import EXCERPT, MAX_SUBJECT, SCOPES
from .reminders import reminder_key
from .templates import (
    TEMPLATE_ERRORS,
    THIS,
    compile_template,
    reads_the_same_for_all,
    template_error,
)

# -- what each recipient reads ---------------------------------------------------------------


@dataclass(frozen=True)
class Links:
    """URLs the web side builds (the domain knows no host): the démarche's public page,
    and the signed unsubscription link of a participant for a scope."""

    demarche: Callable[[Demarche], str]
    unsubscribe: Callable[[int | None, str], str]  # (participant id — None: a test —, scope)
    #: A recipient's own link to the démarche's survey: (démarche id, participant id — None:
    #: a preview or a test, whose link answers nothing). Only a survey mailing asks for it.
    questionnaire: Callable[[int, int | None], str] = lambda demarche_id, participant_id: ""


class NotToSend(Exception):  # noqa: N818 - a decision, not a failure
    """This delivery should no longer go; ``reason`` is its skip reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Letter:
    """One recipient's message, rendered: what the sender turns into an email."""

    address: str
    subject: str
    text: str
    kind: MailingKind
    scope: str | None  # the unsubscription scope (None: a message to staff)
    unsubscribe_url: str
    delivery_id: int | None = None


#: Blank lines in a row (an empty placeholder's — a recipient without contributions) read as one.
_BLANK_LINES = re.compile(r"\n(?:[ \t]*\n){2,}")
#: A chunk that has spent this many render budgets rendering gives the rest of its rows back
#: and hands the mailing on (to the back of the queue): the other tasks get their turn.
SLICE_BUDGETS = 4


def _shared_context(mailing: Mailing, links: Links) -> dict[str, Any]:
    """What every recipient of a mailing reads alike (the decisions aside)."""
    d, event = mailing.demarche, mailing.event
    page = links.demarche(d)
    return {
        "demarche": {"title": d.title, "url": page, "territory": d.territory or ""},
        "synthesis_url": page + "#synthese",
        "event": {
            "title": event.title,
            "place": event.place,
            "when": event.starts_at.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M"),
        }
        if event is not None
        else None,
    }


def subject_line(mailing: Mailing, links: Links, budget: Budget | None = None) -> str:
    """The subject as the lists of mailings show it: rendered for nobody in particular (no
    name, no contributions, no decisions), within a subject's budget — the template as written
    if that fails. The body is never rendered for a list."""
    try:
        context = {
            **_shared_context(mailing, links),
            "name": "",
            "decisions": [],
            "contributions": [],
            "unsubscribe_url": "",
            "survey_url": "",
        }
        text = render(
            compile_template(mailing.subject, "subject"),
            context,
            (budget or Budget()).for_subject(),
        )
    except Exception:  # noqa: BLE001 - a list shows what it can
        return mailing.subject
    return _one_line(text)


def _one_line(subject: str) -> str:
    subject = " ".join(subject.split())
    return subject if len(subject) <= MAX_SUBJECT else subject[: MAX_SUBJECT - 1] + "…"


class Composer:
    """Renders one mailing for each of its recipients, each render within ``budget``; what
    all share is read once. ``spent`` is the CPU time its renders took."""

    def __init__(
        self,
        session: Session,
        mailing: Mailing,
        links: Links,
        label: Callable[[Any], str] = str,
        budget: Budget | None = None,
    ) -> None:
        self.session = session
        self.label = label
        self.budget = budget or Budget()
        self.spent = 0.0
        self._recipients: dict[int, tuple] = {}
        self._contributions: dict[int, list[dict[str, str]]] = {}
        self._survey_urls: dict[int, str] = {}
        self.mailing_id = mailing.id
        self.demarche_id = mailing.demarche_id
        self.kind = mailing.kind
        self.scope = SCOPES[mailing.kind]
        self.links = links
        self.subject = compile_template(mailing.subject, "subject")
        # A subject that names nobody is rendered once for the whole mailing.
        self.same_subject = reads_the_same_for_all(mailing.subject)
        self.rendered_subject: str | None = None
        self.body = compile_template(mailing.body, "body")
        # An automatic event reminder is checked at sending: (event id, the key of its date).
        self.reminder_of = (
            (mailing.event_id, mailing.key)
            if mailing.kind == MailingKind.REMINDER and mailing.key and mailing.event_id
            else None
        )
        d = mailing.demarche
        self.items = {}
        for item in d.items:
            decision = item.decision
            self.items[item.id] = {
                "item": item.title,
                "outcome": label(decision.outcome.label) if decision else "",
                "justification": decision.justification if decision else "",
            }
        self.shared = {**_shared_context(mailing, links), "decisions": list(self.items.values())}

    def _contribution(self, item_id: int, body: str, at: datetime) -> dict[str, str]:
        return {
            **self.items.get(item_id, {"item": "", "outcome": "", "justification": ""}),
            "text": body if len(body) <= EXCERPT else body[: EXCERPT - 1] + "…",
            "date": at.astimezone(PARIS).strftime("%d/%m/%Y"),
        }

    def contributions_of(self, participant_id: int | None) -> list[dict[str, str]]:
        if participant_id is None:
            return []
        if participant_id in self._contributions:
            return self._contributions.pop(participant_id)
        rows = self.session.execute(
            select(Contribution.item_id, Contribution.body, Contribution.contributed_at)
            .where(
                Contribution.demarche_id == self.demarche_id,
                Contribution.participant_id == participant_id,
            )
            .order_by(Contribution.contributed_at, Contribution.id)
        ).all()
        return [self._contribution(*row) for row in rows]

    def compose(
        self,
        address: str,
        name: str,
        participant_id: int | None,
        delivery_id: int | None = None,
        *,
        test: bool = False,
    ) -> Letter:
        """The letter for ``address``, named ``name``, about ``participant_id``'s part (a
        ``test`` carries an unsubscription link that unsubscribes nobody)."""
        context = {
            **self.shared,
            "name": name,
            "contributions": self.contributions_of(participant_id),
            "unsubscribe_url": self.links.unsubscribe(None if test else participant_id, self.scope)
            if self.scope
            else "",
            "survey_url": self._survey_url(participant_id, delivery_id)
            if self.kind == MailingKind.SURVEY
            else "",
        }
        started = time.thread_time()
        field_name = "subject"
        try:
            subject = self.rendered_subject or _one_line(
                render(self.subject, context, self.budget.for_subject())
            )
            if self.same_subject:
                self.rendered_subject = subject
            field_name = "body"
            text = _BLANK_LINES.sub("\n\n", render(self.body, context, self.budget))
        except TEMPLATE_ERRORS as exc:  # whatever the template does wrong, budgets included
            raise InvalidFields({field_name: template_error(exc, THIS)}) from None
        finally:
            self.spent += time.thread_time() - started
        return Letter(
            address=address,
            subject=subject,
            text=text,
            kind=self.kind,
            scope=self.scope,
            unsubscribe_url=context["unsubscribe_url"],
            delivery_id=delivery_id,
        )

    def explain(self, refusal: DomainError) -> str:
        """A refusal in the words of the web side (French), for a delivery's record."""
        return "; ".join(self.label(message) for message in refusal.messages)

    def sliced(self) -> bool:
        """True once its renders took more than a chunk's share of the worker's time."""
        return self.spent > self.budget.seconds * SLICE_BUDGETS

    def for_recipient(self, recipient: Recipient) -> Letter:
        return self.compose(recipient.address, recipient.name, recipient.participant_id)

    def _survey_url(self, participant_id: int | None, delivery_id: int | None) -> str:
        """Only a real delivery gets a link that answers (it makes the invitation)."""
        if delivery_id is None:
            participant_id = None
        elif participant_id in self._survey_urls:
            return self._survey_urls.pop(participant_id)
        return self.links.questionnaire(self.demarche_id, participant_id)

    def prefetch(self, delivery_ids: list[int]) -> None:
        """Read a chunk's recipients and their contributions in two queries, not two each;
        for the survey, make their invitations now, which the caller commits before the
        chunk's first message leaves: a link sent always names a stored invitation."""
        rows = self.session.execute(
            select(
                Delivery.id,
                Delivery.address,
                Delivery.participant_id,
                Participant.name,
                User.name,
            )
            .outerjoin(Participant, Participant.id == Delivery.participant_id)
            .outerjoin(User, User.id == Delivery.user_id)
            .where(Delivery.id.in_(delivery_ids))
        ).all()
        self._recipients = {row[0]: tuple(row[1:]) for row in rows}
        participants = {row[2] for row in rows if row[2] is not None}
        self._contributions = {p: [] for p in participants}
        if self.kind == MailingKind.SURVEY:
            self._survey_urls = {
                p: self.links.questionnaire(self.demarche_id, p) for p in sorted(participants)
            }
        if participants:
            for participant_id, item_id, body, contributed_at in self.session.execute(
                select(
                    Contribution.participant_id,
                    Contribution.item_id,
                    Contribution.body,
                    Contribution.contributed_at,
                )
                .where(
                    Contribution.demarche_id == self.demarche_id,
                    Contribution.participant_id.in_(participants),
                )
                .order_by(Contribution.contributed_at, Contribution.id)
            ):
                assert participant_id is not None  # only the participants asked for
                self._contributions[participant_id].append(
                    self._contribution(item_id, body, contributed_at)
                )

    def for_delivery(self, delivery_id: int) -> Letter:
        """The letter of a delivery row; NotToSend if it should no longer go (a reminder of a
        cancelled registration, or of an event that moved since)."""
        known = self._recipients.pop(delivery_id, None)
        address, participant_id, participant_name, user_name = (
            known
            or self.session.execute(
                select(Delivery.address, Delivery.participant_id, Participant.name, User.name)
                .outerjoin(Participant, Participant.id == Delivery.participant_id)
                .outerjoin(User, User.id == Delivery.user_id)
                .where(Delivery.id == delivery_id)
            ).one()
        )
        if self.reminder_of is not None:
            self._check_reminder(self.reminder_of, participant_id)
        return self.compose(
            address, user_name or participant_name or "", participant_id, delivery_id
        )

    def _check_reminder(self, reminder_of: tuple[int, str], participant_id: int | None) -> None:
        self.session.commit()  # read the registrations as they are now
        event_id, key = reminder_of
        event = self.session.get(Event, event_id, populate_existing=True)
        if event is None or reminder_key(event) != key:
            raise NotToSend("event_moved")
        confirmed = self.session.scalar(
            select(Registration.id).where(
                Registration.event_id == event_id,
                Registration.participant_id == participant_id,
                Registration.status == RegistrationStatus.CONFIRMED,
            )
        )
        if confirmed is None:
            raise NotToSend("registration_cancelled")


def sample_recipient(
    session: Session, mailing: Mailing, address: str | None = None
) -> Recipient | None:
    """A recipient to preview the mailing for: the given address, else the first one."""
    found = recipients(session, mailing)
    if address:
        found = [r for r in found if r.address == address.strip().lower()]
    return found[0] if found else None
