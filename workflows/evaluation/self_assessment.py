"""The department's self-assessment of its démarche, and the mission's review of it.

A few questions with choices — the accessibility of the venues, the *aller-vers* actions, the
means given — each with an optional free text, and notes. The démarche's department (or the
mission) fills it once the démarche is launched, and may fill it again; the mission reviews
it: accepted (with a comment if it wishes) or to complete (saying what). Filling it again
puts it back in the mission's hands. Both are audited. The free texts stay in the back office
and the API: the public page never shows them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit
from ..access import may_act_on
from ..errors import Conflict, InvalidFields, PermissionDenied
from ..i18n import N_, Msg
from ..models import Demarche, SelfAssessment, SelfAssessmentStatus, User
from ..stages import Stage, reached
from ..text import checked_text

MAX_COMMENT = 2000
MAX_NOTES = 5000
REVIEW_DECISIONS = ("accept", "complete")


@dataclass(frozen=True)
class Question:
    code: str
    text: Msg
    choices: tuple[tuple[str, Msg], ...]

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(value for value, _ in self.choices)

    def choice_label(self, value: str | None) -> Msg | None:
        return dict(self.choices).get(value or "")


QUESTIONS: tuple[Question, ...] = (
    Question(
        "venues",
        N_(
            "Were the venues of the workshops and meetings accessible (people with reduced "
            "mobility, public transport, times that suit those who work)?"
        ),
        (
            ("all", N_("All of them")),
            ("most", N_("Most of them")),
            ("few", N_("Few or none")),
            ("no_venue", N_("No event in person")),
        ),
    ),
    Question(
        "outreach",
        N_(
            "Were aller-vers actions held to reach those who seldom take part (markets, door "
            "to door, drop-in stands, partner associations)?"
        ),
        (
            ("several", N_("Several")),
            ("one", N_("One")),
            ("none", N_("None held")),
        ),
    ),
    Question(
        "means",
        N_(
            "Were the means given (the agents' time, the budget, the facilitation) equal to "
            "what the démarche needed?"
        ),
        (
            ("enough", N_("Enough")),
            ("partly", N_("Partly")),
            ("short", N_("Not enough")),
        ),
    ),
)
BY_CODE = {q.code: q for q in QUESTIONS}


def may_fill(user: User, d: Demarche) -> bool:
    """The mission or the démarche's department, once the démarche is launched."""
    return may_act_on(user, d) and reached(d.stage, Stage.LAUNCH)


def self_assessment_of(session: Session, d: Demarche) -> SelfAssessment | None:
    return session.scalar(select(SelfAssessment).where(SelfAssessment.demarche_id == d.id))


def parse(answers: Any, comments: Any, notes: Any) -> tuple[dict[str, str], dict[str, str], str]:
    """The answers checked, by field (``venues``, ``venues_comment``, ``notes``…): every
    question answered with one of its choices, texts not too long. Raises InvalidFields."""
    errors: dict[str, Msg] = {}
    answers = answers if isinstance(answers, Mapping) else {}
    comments = comments if isinstance(comments, Mapping) else {}
    unknown = sorted(str(k)[:40] for k in {*answers, *comments} if k not in BY_CODE)
    for name in unknown:
        errors[name] = N_("unknown question")
    chosen: dict[str, str] = {}
    texts: dict[str, str] = {}
    for question in QUESTIONS:
        value = answers.get(question.code)
        if value in (None, ""):
            errors[question.code] = N_("choose one of the answers")
        elif not isinstance(value, str) or value not in question.values:
            errors[question.code] = N_(
                "unknown answer “%(value)s”: choose one of %(choices)s",
                value=str(value)[:40],
                choices=", ".join(question.values),
            )
        else:
            chosen[question.code] = value
        text = checked_text(
            comments.get(question.code), MAX_COMMENT, f"{question.code}_comment", errors
        )
        if text:
            texts[question.code] = text
    clean_notes = checked_text(notes, MAX_NOTES, "notes", errors)
    if errors:
        raise InvalidFields(errors)
    return chosen, texts, clean_notes


def submit(
    session: Session,
    actor: User,
    d: Demarche,
    *,
    answers: Any,
    comments: Any = None,
    notes: Any = "",
    as_of: datetime,
) -> SelfAssessment:
    """Fill (or fill again) the self-assessment of ``d``: it then awaits the mission's review.
    403 for someone else than its department or the mission, 409 before the launch, 422 for
    an answer missing or unknown; nothing is saved then. Audited; the caller commits."""
    if not may_act_on(actor, d):
        raise PermissionDenied(
            N_("only the démarche's department or the mission fills its self-assessment")
        )
    if not reached(d.stage, Stage.LAUNCH):
        raise Conflict(N_("the self-assessment is filled once the démarche is launched"))
    chosen, texts, clean_notes = parse(answers, comments, notes)
    found = self_assessment_of(session, d)
    if found is None:
        found = SelfAssessment(demarche_id=d.id, review_comment="")
        session.add(found)
    found.answers, found.comments, found.notes = chosen, texts, clean_notes
    found.status = SelfAssessmentStatus.SUBMITTED
    found.submitted_at, found.submitted_by_id = as_of, actor.id
    audit.record(
        session,
        "self_assessment.submit",
        actor=actor,
        as_of=as_of,
        demarche=d,
        target=f"self_assessment:{d.id}",
    )
    session.flush()
    return found


def review(
    session: Session,
    actor: User,
    d: Demarche,
    *,
    decision: Any,
    comment: Any = "",
    as_of: datetime,
) -> SelfAssessment:
    """The mission accepts the self-assessment (a comment if it wishes) or asks the
    department to complete it (saying what). 403 for anyone else, 409 when there is nothing
    awaiting a review, 422 for an unknown decision or a request without its reason."""
    if not actor.is_mission:
        raise PermissionDenied(N_("only the mission reviews a self-assessment"))
    found = self_assessment_of(session, d)
    if found is None:
        raise Conflict(N_("the department has not filled its self-assessment yet"))
    if found.status != SelfAssessmentStatus.SUBMITTED:
        raise Conflict(
            N_(
                "the self-assessment is already reviewed (“%(status)s”): it is reviewed again "
                "once the department fills it again",
                status=found.status.label,
            )
        )
    errors: dict[str, Msg] = {}
    if decision not in REVIEW_DECISIONS:
        errors["decision"] = N_(
            "unknown decision “%(value)s”: accept or complete", value=str(decision)[:40]
        )
    text = checked_text(comment, MAX_COMMENT, "comment", errors)
    if decision == "complete" and not text and "comment" not in errors:
        errors["comment"] = N_("say what the department should complete")
    if errors:
        raise InvalidFields(errors)
    found.status = (
        SelfAssessmentStatus.ACCEPTED if decision == "accept" else SelfAssessmentStatus.TO_COMPLETE
    )
    found.review_comment, found.reviewed_at, found.reviewed_by_id = text, as_of, actor.id
    audit.record(
        session,
        "self_assessment.review",
        actor=actor,
        as_of=as_of,
        demarche=d,
        target=f"self_assessment:{d.id}",
        decision=decision,
    )
    session.flush()
    return found
