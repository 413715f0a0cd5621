"""Invitations and answers: each participant's single-use link, an answer given through it
(once), and the paper answers the mission types in.

The link carries the invitation's ``nonce`` signed by the web side (``backoffice/tokens.py``):
the domain gets back the nonce, or None when the signature is not ours. Answering marks the
invitation ``answered`` with a compare-and-set — of two answers sent through one link at
once, one is kept — and writes the answer apart: the answer row knows its démarche and
nothing else (``workflows/models/survey.py``). Nothing here writes to the audit log or a log
about an online answer: a time beside the person would undo the separation.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import audit
from ..errors import Conflict, NotFound, PermissionDenied
from ..i18n import N_
from ..models import (
    Demarche,
    SurveyAnswer,
    SurveyInvitation,
    SurveyScore,
    SurveySource,
    User,
)
from ..models.survey import random_id
from ..sql import execute_dml
from ..stages import Stage, reached
from .questions import Answer, parse

INVALID_LINK = N_(
    "this questionnaire link is not valid: check that it was copied whole from the email"
)
ALREADY_ANSWERED = N_(
    "this questionnaire was already answered through this link: an answer counts once. Thank "
    "you for your participation."
)


def invitation_nonce(
    session: Session, demarche_id: int, participant_id: int, *, as_of: datetime
) -> str:
    """The secret of ``participant_id``'s invitation to the démarche's survey, made the first
    time (one per participant per démarche: a message sent again carries the same link)."""
    query = select(SurveyInvitation.nonce).where(
        SurveyInvitation.demarche_id == demarche_id,
        SurveyInvitation.participant_id == participant_id,
    )
    found = session.scalar(query)
    if found is not None:
        return found
    nonce = secrets.token_urlsafe(24)
    try:
        with session.begin_nested():
            session.add(
                SurveyInvitation(
                    demarche_id=demarche_id,
                    participant_id=participant_id,
                    nonce=nonce,
                    answered=False,
                    created_at=as_of,
                )
            )
    except IntegrityError:  # made meanwhile by another message's render
        made = session.scalar(query)
        assert made is not None
        return made
    return nonce


def invitation(session: Session, nonce: str | None) -> SurveyInvitation:
    """The invitation a link names; NotFound (a French message) for a forged or unknown one."""
    found = (
        session.scalar(select(SurveyInvitation).where(SurveyInvitation.nonce == nonce))
        if isinstance(nonce, str) and nonce
        else None
    )
    if found is None:
        raise NotFound(INVALID_LINK)
    return found


def _write(session: Session, demarche_id: int, answer: Answer, source: SurveySource) -> str:
    answer_id = random_id()
    session.execute(
        insert(SurveyAnswer),
        [
            {
                "id": answer_id,
                "demarche_id": demarche_id,
                "source": source,
                "first_time": answer.first_time,
                "age_band": answer.age_band,
                "comment": answer.comment,
            }
        ],
    )
    session.execute(
        insert(SurveyScore),
        [
            {"answer_id": answer_id, "question": code, "score": score}
            for code, score in answer.scores.items()
        ],
    )
    return answer_id


def answer(session: Session, nonce: str | None, data: Mapping[str, Any]) -> None:
    """Answer the survey through an invitation's link, once: a forged link (NotFound), one
    already used (Conflict) or a wrong answer (InvalidFields) writes nothing."""
    found = invitation(session, nonce)
    if found.answered:
        raise Conflict(ALREADY_ANSWERED)
    checked = parse(data)
    used = execute_dml(
        session,
        update(SurveyInvitation)
        .where(SurveyInvitation.id == found.id, SurveyInvitation.answered.is_(False))
        .values(answered=True)
        .execution_options(synchronize_session=False),
    ).rowcount
    if not used:  # answered meanwhile through the same link
        raise Conflict(ALREADY_ANSWERED)
    _write(session, found.demarche_id, checked, SurveySource.ONLINE)
    session.flush()


def may_type_paper(user: User, d: Demarche) -> bool:
    """The mission types in the paper answers of a launched démarche (collected at its
    workshops and meetings)."""
    return user.is_mission and reached(d.stage, Stage.LAUNCH)


def add_paper_answer(
    session: Session, actor: User, d: Demarche, data: Mapping[str, Any], *, as_of: datetime
) -> None:
    """A paper answer typed by the mission: the same checks, stored like the others (source
    ``paper``, no person). Audited as typed (who, when), not with what it said."""
    if not actor.is_mission:
        raise PermissionDenied(N_("paper answers are typed by the mission"))
    if not reached(d.stage, Stage.LAUNCH):
        raise Conflict(N_("the survey's answers come once the démarche is launched"))
    checked = parse(data)
    _write(session, d.id, checked, SurveySource.PAPER)
    audit.record(session, "survey.paper_answer", actor=actor, as_of=as_of, demarche=d)
    session.flush()
