"""The guards of the stage machine: per target stage, the conditions to enter it.

Each guard returns the messages of what is missing, so that a refusal can say everything at
once, in French. They read the charter, the decisions and the feedback mailing, so they sit
above all of them; the table of stages and moves (``workflows.stages``) sits below the models.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from .charter import rule_for
from .clock import local_date
from .decisions import missing_decisions
from .i18n import N_, Msg
from .mailings import feedback_progress
from .models import Demarche, Synthesis, SynthesisStatus
from .stages import Move, Stage, add_months

UNIT_LABELS = {"days": N_("days"), "months": N_("months")}


@dataclass(frozen=True)
class MoveContext:
    """What a guard may look at besides the démarche itself."""

    session: Session
    as_of: datetime
    comment: str


Guard = Callable[["Demarche", MoveContext], Iterable[Msg]]

# Fields a saisine needs before the mission can review it, with the message when missing.
SAISINE_REQUIRED = (
    ("title", N_("title missing")),
    ("department_id", N_("department missing")),
    ("objectives", N_("objectives missing")),
    ("public", N_("public concerned missing")),
    ("territory", N_("territory missing")),
    ("desired_calendar", N_("desired calendar missing")),
    ("participation_level", N_("participation level missing")),
    ("elected_official_id", N_("sponsoring elected official missing")),
)


#: The same fields by the names the forms and the API give them (``department``, not
#: ``department_id``), for forms that mark what submitting needs.
SAISINE_REQUIRED_FIELDS = {attr.removesuffix("_id"): missing for attr, missing in SAISINE_REQUIRED}


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def saisine_missing(d: Demarche) -> dict[str, Msg]:
    """The fields ``d`` still lacks to be submitted, by field name, with their message."""
    return {
        attr.removesuffix("_id"): missing
        for attr, missing in SAISINE_REQUIRED
        if _blank(getattr(d, attr))
    }


def saisine_complete(d: Demarche, ctx: MoveContext) -> Iterator[Msg]:
    yield from saisine_missing(d).values()


def _add(day: date, amount: int, unit: str) -> date:
    return add_months(day, amount) if unit == "months" else day + timedelta(days=amount)


def consultation_dates(d: Demarche, ctx: MoveContext) -> Iterator[Msg]:
    opens, closes = d.consultation_opens, d.consultation_closes
    if opens is None or closes is None:
        yield N_("consultation dates missing")
        return
    if closes <= opens:
        yield N_("the consultation must close after it opens")
        return
    rule = rule_for(d, "consultation_length")
    if rule is not None:
        # Both days count: a consultation from the 1st to the 21st lasts 21 days.
        length = (closes - opens).days + 1
        shortest = (_add(opens, rule.duration, rule.unit) - opens).days
        if length < shortest:
            yield N_(
                "rule “%(rule)s”: the consultation must last at least %(days)s days "
                "(it lasts %(actual)s)",
                rule=rule.label,
                days=shortest,
                actual=length,
            )
        # (a rule's maximum always has its unit; days, as a rule's form has it by default)
        unit = rule.maximum_unit or "days"
        if rule.maximum is not None and closes > _add(opens, rule.maximum, unit):
            yield N_(
                "rule “%(rule)s”: the consultation may last at most %(amount)s %(unit)s",
                rule=rule.label,
                amount=rule.maximum,
                unit=UNIT_LABELS.get(unit, unit),
            )
    today = local_date(ctx.as_of)
    if opens > today:
        yield N_("the consultation opens on %(date)s, not before", date=opens)
    if closes < today:
        yield N_("the closing date %(date)s has already passed", date=closes)


def public_notice_given(d: Demarche, ctx: MoveContext) -> Iterator[Msg]:
    rule = rule_for(d, "public_notice")
    if rule is None or not rule.duration or d.consultation_opens is None:
        return
    announced = d.announced_at
    latest = d.consultation_opens - timedelta(days=rule.duration)
    if announced is None or local_date(announced) > latest:
        yield N_(
            "rule “%(rule)s”: the opening date must be public %(days)s days before it "
            "(by %(date)s; it was announced on %(announced)s)",
            rule=rule.label,
            days=rule.duration,
            date=latest,
            announced=local_date(announced) if announced else "—",
        )


def presentation_written(d: Demarche, ctx: MoveContext) -> Iterator[Msg]:
    if not (d.presentation or "").strip():
        yield N_("public presentation missing")


def closing_passed_or_reason(d: Demarche, ctx: MoveContext) -> Iterator[Msg]:
    closes = d.consultation_closes
    if closes is not None and local_date(ctx.as_of) > closes:
        return
    if not ctx.comment.strip():
        yield N_(
            "the consultation is open until %(date)s: give the reason for closing it early",
            date=closes,
        )


def items_prepared(d: Demarche, ctx: MoveContext) -> Iterator[Msg]:
    if not d.items:
        yield N_("no item to comment: prepare at least one")


def has_published_synthesis(session: Session, d: Demarche) -> bool:
    """Whether a version of ``d``'s synthesis is published (what the feedback and the label
    need)."""
    return (
        d.id is not None
        and session.scalar(
            select(Synthesis.id)
            .where(Synthesis.demarche_id == d.id, Synthesis.status == SynthesisStatus.PUBLISHED)
            .limit(1)
        )
        is not None
    )


def synthesis_published(d: Demarche, ctx: MoveContext) -> Iterator[Msg]:
    if not has_published_synthesis(ctx.session, d):
        yield N_("the synthesis is not published")


def decisions_written(d: Demarche, ctx: MoveContext) -> Iterator[Msg]:
    if not d.items:
        yield N_("no item: the department has nothing to decide")
    for item in missing_decisions(d.items):
        yield N_("the department's decision on “%(item)s” is missing", item=item.title)


def feedback_sent(d: Demarche, ctx: MoveContext) -> Iterator[Msg]:
    progress = feedback_progress(ctx.session, d)
    if progress is None:
        yield N_("no feedback mailing was sent")
    elif progress:
        yield N_("the feedback mailing is still sending (%(left)s messages left)", left=progress)


GUARDS: dict[Stage, tuple[Guard, ...]] = {
    Stage.SUBMITTED: (saisine_complete,),
    Stage.CONSULTATION: (
        consultation_dates,
        public_notice_given,
        presentation_written,
        items_prepared,
    ),
    Stage.SYNTHESIS: (closing_passed_or_reason,),
    Stage.FEEDBACK: (synthesis_published, decisions_written),
    Stage.CLOSED: (feedback_sent,),
}


def unmet_conditions(d: Demarche, move: Move, ctx: MoveContext) -> list[Msg]:
    """Everything that keeps ``d`` from making ``move`` now (empty when it may)."""
    unmet: list[Msg] = []
    if move.needs_comment and not ctx.comment.strip():
        unmet.append(N_("a comment is required for this decision"))
    for guard in GUARDS.get(move.target, ()):
        unmet.extend(guard(d, ctx))
    return unmet
