"""Feedback: were the contributors told what became of their contribution, how long after the
consultation closed, and did every item get a justified decision?

*Contributors*: the people (participants) with a contribution to the démarche, whatever its
status — the feedback mailing's audience. *Told*: a feedback mailing of the démarche was sent
to them (a delivery recorded ``sent``). Those who declined the feedback (consent withdrawn, or
unsubscribed from it) or erased their data are left out of the share, unless told before.
The closing: the move to the synthesis stage. Three queries whatever the contributions (the
times are counted per hour by the database).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from ..clock import local_date
from ..i18n import N_
from ..models import (
    Contribution,
    Delivery,
    DeliveryStatus,
    Demarche,
    Item,
    ItemDecision,
    Mailing,
    MailingKind,
    Participant,
)
from ..stages import Stage
from . import display
from .indicators import Dimension, Indicator, measured, not_computed
from .record import hour_of, paris_day, reached_by, stage_moments, weighted_median

#: Why a delivery was skipped when its person declined the feedback.
DECLINED = ("no_consent", "unsubscribed")


def _feedback_deliveries(d: Demarche):
    """The deliveries of the démarche's feedback mailings (a subquery)."""
    return (
        select(
            Delivery.participant_id,
            Delivery.status,
            Delivery.skip_reason,
            Delivery.sent_at,
        )
        .join(Mailing, Mailing.id == Delivery.mailing_id)
        .where(Mailing.demarche_id == d.id, Mailing.kind == MailingKind.FEEDBACK)
        .subquery()
    )


def feedback(session: Session, d: Demarche, as_of: datetime) -> Dimension:
    closing = reached_by(stage_moments(session, d), Stage.SYNTHESIS, as_of)
    return Dimension(
        "feedback",
        (
            _told(session, d),
            _days_after_closing(session, d, closing),
            _decisions_justified(session, d),
        ),
    )


def _told(session: Session, d: Demarche) -> Indicator:
    code = "feedback_contributors_told"
    contributors = (
        select(Contribution.participant_id)
        .where(Contribution.demarche_id == d.id, Contribution.participant_id.is_not(None))
        .distinct()
        .subquery()
    )
    person = contributors.c.participant_id
    delivery = _feedback_deliveries(d)
    declined = or_(
        Participant.consent_feedback.is_(False),
        Participant.erased_at.is_not(None),
        delivery.c.skip_reason.in_(DECLINED),
    )
    people = (
        select(
            func.max(case((delivery.c.status == DeliveryStatus.SENT, 1), else_=0)).label("told"),
            func.max(case((declined, 1), else_=0)).label("declined"),
            func.max(case((delivery.c.status.is_not(None), 1), else_=0)).label("addressed"),
        )
        .select_from(contributors)
        .join(Participant, Participant.id == person)
        .outerjoin(delivery, delivery.c.participant_id == person)
        .group_by(person)
        .subquery()
    )
    total, told, excused, addressed = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(people.c.told), 0),
            func.count(case((and_(people.c.told == 0, people.c.declined == 1), 1))),
            func.coalesce(func.sum(people.c.addressed), 0),
        )
    ).one()
    told = int(told)
    # (one told, then declining the next feedback mailing, counts as told)
    reachable = total - excused
    counted = {"contributors": total, "told": told, "declined_or_erased": excused}
    if not total:
        return not_computed(code, N_("no identified contributor"), counted)
    if not addressed:
        return not_computed(code, N_("no feedback mailing has gone out yet"), counted)
    if not reachable:
        return not_computed(code, N_("every contributor declined the feedback"), counted)
    return measured(code, told / reachable, display.share(told / reachable), counted)


def _days_after_closing(session: Session, d: Demarche, closing: datetime | None) -> Indicator:
    code = "feedback_days_after_closing"
    if closing is None:
        return not_computed(code, N_("the consultation is not closed yet"))
    delivery = _feedback_deliveries(d)
    first = (
        select(func.min(delivery.c.sent_at).label("first_sent"))
        .where(delivery.c.status == DeliveryStatus.SENT, delivery.c.participant_id.is_not(None))
        .group_by(delivery.c.participant_id)
        .subquery()
    )
    hour = hour_of(session, first.c.first_sent)
    per_day: Counter[float] = Counter()
    closed_on = local_date(closing)
    for when, count in session.execute(select(hour, func.count()).group_by(hour)):
        per_day[float((paris_day(when) - closed_on).days)] += count
    if not per_day:
        return not_computed(code, N_("no feedback message sent yet"))
    median = weighted_median(per_day)
    counted = {
        "told": sum(per_day.values()),
        "first_days": int(min(per_day)),
        "last_days": int(max(per_day)),
    }
    return measured(code, median, display.days(median), counted)


def _decisions_justified(session: Session, d: Demarche) -> Indicator:
    code = "feedback_decisions_justified"
    justified = and_(
        ItemDecision.id.is_not(None), func.length(func.trim(ItemDecision.justification)) > 0
    )
    items, decided, with_reason = session.execute(
        select(
            func.count(Item.id),
            func.count(ItemDecision.id),
            func.count(case((justified, 1))),
        )
        .select_from(Item)
        .outerjoin(ItemDecision, ItemDecision.item_id == Item.id)
        .where(Item.demarche_id == d.id)
    ).one()
    counted = {"items": items, "decided": decided, "justified": with_reason}
    if not items:
        return not_computed(code, N_("no item put to consultation"), counted)
    if not decided:
        return not_computed(code, N_("no decision written yet"), counted)
    return measured(code, with_reason / items, display.share(with_reason / items), counted)
