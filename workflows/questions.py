"""Citizens' questions and the department's answers: published under the question, emailed
to whoever asked, and meeting the charter's answer deadline."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from . import audit, charter, outbox
from .access import may_act_on
from .contributions import to_text
from .errors import Conflict, InvalidFields, NotFound, PermissionDenied
from .i18n import N_
from .models import Contribution, ContributionKind, ContributionStatus, User

MAX_ANSWER = 10_000
ANSWERED = "question_answered"


def get_question(session: Session, question_id: object) -> Contribution:
    found = (
        session.get(Contribution, question_id)
        if isinstance(question_id, int) and 0 < question_id < 2**31
        else None
    )
    if found is None or found.kind != ContributionKind.QUESTION:
        raise NotFound(N_("no question %(id)s", id=question_id))
    return found


def answer(
    session: Session, actor: User, question: Contribution, text: object, *, as_of: datetime
) -> Contribution:
    """Publish (or correct) the answer to a question. The first answer meets the charter's
    deadline and is emailed to the asker; a correction is only audited."""
    if not may_act_on(actor, question.demarche):
        raise PermissionDenied(N_("only the démarche's department or the mission answers"))
    if question.status != ContributionStatus.PUBLISHED:
        raise Conflict(N_("only a published question is answered"))
    clean = to_text(text if isinstance(text, str) else "")
    if not clean:
        raise InvalidFields({"answer": N_("the answer is empty")})
    if len(clean) > MAX_ANSWER:
        raise InvalidFields({"answer": N_("at most %(max)s characters", max=MAX_ANSWER)})
    first = question.answered_at is None
    question.answer = clean
    if first:  # a correction keeps who answered and when (the audit log has the rest)
        question.answered_by = actor
        question.answered_at = as_of
    audit.record(
        session,
        "question.answer",
        actor=actor,
        as_of=as_of,
        demarche=question.demarche,
        target=f"contribution:{question.id}",
        first=first,
    )
    if first:
        charter.event(session, question.demarche, "question_answered", at=as_of, question=question)
        asker = question.participant
        if asker is not None and asker.email:
            outbox.enqueue(
                session,
                key=f"question:{question.id}:answered",
                template=ANSWERED,
                recipient=asker,
                demarche=question.demarche,
                context={"question_id": question.id},
                as_of=as_of,
            )
    session.flush()
    return question
