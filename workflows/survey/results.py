"""The survey's results: aggregates only, and only from a minimum number of answers.

``results`` counts with the database — three statements, however many answers — and hides
every aggregate below the minimum (``SURVEY_MIN_ANSWERS``, 30 by default: set by the app
factory through :func:`configure`): « trop peu de réponses pour publier ». The free texts are
never part of the results (``free_texts`` gives them to the mission, in no particular order).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..i18n import N_, Msg
from ..mailings import survey_sent
from ..models import Demarche, SurveyAnswer, SurveyInvitation, SurveyScore, SurveySource
from .questions import AGE_BANDS, AGREEING, HIGHEST, LOWEST, STATEMENTS

#: Aggregates are published from this many answers (the setting ``SURVEY_MIN_ANSWERS``).
MIN_ANSWERS = 30
TOO_FEW = N_("too few answers to publish")


@dataclass
class _Settings:
    minimum: int = MIN_ANSWERS


_settings = _Settings()


def configure(*, minimum: int) -> None:
    """The minimum number of answers for publishing (the app factory sets it from
    ``SURVEY_MIN_ANSWERS``; the workers use the app factory too)."""
    _settings.minimum = max(1, int(minimum))


def minimum() -> int:
    return _settings.minimum


@dataclass(frozen=True)
class StatementResult:
    """One statement's answers: how many gave each score (1 to 5), their mean and the share
    agreeing (4 or 5)."""

    code: str
    text: Msg
    counts: tuple[int, ...]
    answered: int
    mean: float | None
    agreeing: float | None

    def to_json(self) -> dict:
        return {
            "code": self.code,
            "distribution": {
                str(s): n for s, n in zip(range(LOWEST, HIGHEST + 1), self.counts, strict=True)
            },
            "answered": self.answered,
            "mean": self.mean,
            "agreeing": self.agreeing,
        }


@dataclass(frozen=True)
class SurveyResults:
    """A démarche's survey: ``answers`` (online and paper), ``invitations`` sent, and — once
    ``published`` (from ``minimum`` answers) — the response rate, each statement's results,
    the first participations and the age bands; else ``missing`` says why."""

    demarche_id: int
    sent: bool
    answers: int
    online: int
    paper: int
    invitations: int
    minimum: int
    published: bool
    response_rate: float | None = None
    statements: tuple[StatementResult, ...] = ()
    first_time: dict[str, int] = field(default_factory=dict)
    age_bands: dict[str, int] = field(default_factory=dict)
    missing: Msg | None = None

    def statement(self, code: str) -> StatementResult | None:
        return next((s for s in self.statements if s.code == code), None)


#: True once the démarche's survey mailing was sent.
sent = survey_sent


def answer_count(session: Session, demarche: Demarche) -> int:
    """How many answers the démarche's survey holds (online and on paper)."""
    return session.scalar(select(func.count()).where(SurveyAnswer.demarche_id == demarche.id)) or 0


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def results(session: Session, demarche: Demarche, *, reveal: bool = False) -> SurveyResults:
    """The survey's aggregates (three statements, and one for ``sent``, whatever is shown).
    Below the minimum of answers they are hidden — but for ``reveal`` (staff reading the back
    office or the API), which computes them still ``published`` False."""
    invitations = (
        session.scalar(select(func.count()).where(SurveyInvitation.demarche_id == demarche.id)) or 0
    )
    tallies = session.execute(
        select(SurveyAnswer.source, SurveyAnswer.first_time, SurveyAnswer.age_band, func.count())
        .where(SurveyAnswer.demarche_id == demarche.id)
        .group_by(SurveyAnswer.source, SurveyAnswer.first_time, SurveyAnswer.age_band)
    ).all()
    by_source: Counter[SurveySource] = Counter()
    first: Counter[str] = Counter()
    bands: Counter[str] = Counter()
    for source, first_time, band, count in tallies:
        by_source[source] += count
        first["unsaid" if first_time is None else "yes" if first_time else "no"] += count
        bands[band or "unsaid"] += count
    answers = sum(by_source.values())
    online, paper = by_source[SurveySource.ONLINE], by_source[SurveySource.PAPER]
    common: dict[str, Any] = {
        "demarche_id": demarche.id,
        "sent": sent(session, demarche),
        "answers": answers,
        "online": online,
        "paper": paper,
        "invitations": invitations,
        "minimum": minimum(),
    }
    # Read whether shown or not: as many statements with the aggregates hidden as shown.
    scores: dict[str, Counter[int]] = {s.code: Counter() for s in STATEMENTS}
    for question, score, count in session.execute(
        select(SurveyScore.question, SurveyScore.score, func.count())
        .join(SurveyAnswer, SurveyAnswer.id == SurveyScore.answer_id)
        .where(SurveyAnswer.demarche_id == demarche.id)
        .group_by(SurveyScore.question, SurveyScore.score)
    ):
        if question in scores:
            scores[question][score] += count
    published = answers >= minimum()
    if not published and (not reveal or not answers):
        return SurveyResults(**common, published=False, missing=TOO_FEW)
    statements = []
    for statement in STATEMENTS:
        counted = scores[statement.code]
        answered = sum(counted.values())
        total = sum(score * n for score, n in counted.items())
        statements.append(
            StatementResult(
                code=statement.code,
                text=statement.text,
                counts=tuple(counted[s] for s in range(LOWEST, HIGHEST + 1)),
                answered=answered,
                mean=round(total / answered, 2) if answered else None,
                agreeing=_share(sum(n for s, n in counted.items() if s >= AGREEING), answered),
            )
        )
    return SurveyResults(
        **common,
        published=published,
        missing=None if published else TOO_FEW,
        # The answers that came through the invitations, over the invitations (the paper
        # ones, from workshops, had none).
        response_rate=_share(min(online, invitations), invitations),
        statements=tuple(statements),
        first_time={k: first[k] for k in ("yes", "no", "unsaid")},
        age_bands={k: bands[k] for k in [*dict(AGE_BANDS), "unsaid"]},
    )


def free_texts(session: Session, demarche: Demarche) -> list[str]:
    """The answers' free texts, for the mission only (never published), in the order of
    their random ids — no order of arrival."""
    return list(
        session.scalars(
            select(SurveyAnswer.comment)
            .where(SurveyAnswer.demarche_id == demarche.id, SurveyAnswer.comment != "")
            .order_by(SurveyAnswer.id)
        )
    )
