"""The participants' survey's mailing of a démarche: made once, after its feedback went out.

Made by the domain when the feedback mailing to the contributors is sent (``sending``'s
``finish_if_done``), or by the mission's button — once per démarche (its unique ``key``): a
cancelled survey is not made again. Its audience is the feedback's (the contributors); the
kind's consents (``policy.CONSENTS``) keep only those who kept the feedback and the survey.
Each message carries the recipient's own link (``[Lien vers le questionnaire]``), made by
the web side's ``Links.questionnaire``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import Conflict
from ..models import Audience, Demarche, Mailing, MailingKind, MailingStatus, User
from .editing import _mission_only, create_mailing, schedule
from .policy import SURVEY_STAGES, SURVEY_TOO_EARLY
from .templates import default_text


def survey_key(demarche_id: int) -> str:
    return f"survey:demarche:{demarche_id}"


def survey_mailing(session: Session, demarche: Demarche) -> Mailing | None:
    """The démarche's survey mailing, the one the domain made (whatever its status)."""
    return session.scalar(select(Mailing).where(Mailing.key == survey_key(demarche.id)))


def survey_sent(session: Session, demarche: Demarche) -> bool:
    """True once a survey mailing of the démarche is sent (nothing of it left to send)."""
    found = session.scalar(
        select(Mailing.id)
        .where(
            Mailing.demarche_id == demarche.id,
            Mailing.kind == MailingKind.SURVEY,
            Mailing.status == MailingStatus.SENT,
        )
        .limit(1)
    )
    return found is not None


def may_send_survey(session: Session, user: User, demarche: Demarche) -> bool:
    """Whether ``user`` may send the démarche's survey now: the mission, from the feedback
    stage on, while none was made (the feedback sent makes it by itself)."""
    return (
        user.is_mission
        and demarche.stage in SURVEY_STAGES
        and survey_mailing(session, demarche) is None
    )


def send_survey(
    session: Session, demarche: Demarche, *, as_of: datetime, actor: User | None = None
) -> Mailing:
    """Make the démarche's survey mailing from the default text and send it now; once (a
    second call returns the first, whatever became of it). Only from the feedback stage on;
    ``actor`` the mission (None: the domain, when the feedback went out)."""
    _mission_only(actor)
    found = survey_mailing(session, demarche)
    if found is not None:
        return found
    if demarche.stage not in SURVEY_STAGES:
        raise Conflict(SURVEY_TOO_EARLY)
    subject, body = default_text(MailingKind.SURVEY)
    try:
        with session.begin_nested():
            mailing = create_mailing(
                session,
                actor,
                {
                    "kind": MailingKind.SURVEY.value,
                    "audience": Audience.CONTRIBUTORS.value,
                    "demarche_id": demarche.id,
                    "subject": subject,
                    "body": body,
                },
                as_of=as_of,
            )
            mailing.key = survey_key(demarche.id)
            session.flush()
    except IntegrityError:  # made by another request meanwhile
        made = survey_mailing(session, demarche)
        assert made is not None  # the unique key is what refused it
        return made
    return schedule(session, actor, mailing, at=None, as_of=as_of)
