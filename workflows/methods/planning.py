"""The methods of one démarche: those it plans (chosen on the saisine, revised on the
démarche) and those it really used (its events and its channels of contributions name
theirs), which the evaluation counts (DESIGN §6).

A plan is a sequence that always ends with the restitution to the citizens (the feedback
stage): choosing methods without it adds it last; it cannot be taken out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from .. import audit
from ..access import acts_for_department
from ..errors import Conflict, InvalidFields, PermissionDenied
from ..i18n import N_
from ..models import (
    Channel,
    Contribution,
    Demarche,
    Event,
    EventKind,
    Method,
    PlannedMethod,
    StageTransition,
    UsedMethod,
    User,
)
from ..stages import Stage

#: The method every plan ends with: telling the citizens what became of their contributions.
RESTITUTION = "restitution-publique"
#: At most this many methods planned (the restitution included).
MAX_PLANNED = 12
#: When each may change a démarche's plan: the department while it writes its saisine and
#: prepares the launch, the mission until the démarche is closed.
DEPARTMENT_PLANS = frozenset({Stage.DRAFT, Stage.RETURNED, Stage.LAUNCH})
MISSION_PLANS = frozenset(Stage) - {Stage.CLOSED, Stage.REJECTED}
#: The method an event names when it is not told: its kind's usual method.
EVENT_DEFAULTS = {
    EventKind.WORKSHOP: "atelier-citoyen",
    EventKind.MEETING: "rencontre-territoriale",
}
#: The method a channel that received contributions used, unless the démarche names another
#: (workshops and meetings name theirs through their events; an import says nothing).
CHANNEL_DEFAULTS = {Channel.ONLINE: "consultation-en-ligne", Channel.MAIL: "questionnaire"}
#: Channels a démarche names a method for.
NAMED_CHANNELS = (Channel.ONLINE, Channel.MAIL, Channel.IMPORT)


@dataclass(frozen=True)
class Use:
    """A method a démarche used, and through what: an event, a channel, or the feedback."""

    method: Method
    via: str  # "event", "channel", "feedback"
    event: Event | None = None
    channel: Channel | None = None
    named: bool = True  # False: the channel's usual method, the démarche named none


def may_plan(actor: User, d: Demarche) -> bool:
    if actor.is_mission:
        return d.stage in MISSION_PLANS
    return acts_for_department(actor, d) and d.stage in DEPARTMENT_PLANS


def planned(session: Session, d: Demarche) -> list[Method]:
    """The démarche's plan, in order (the restitution last)."""
    rows = session.scalars(
        select(PlannedMethod)
        .where(PlannedMethod.demarche_id == d.id)
        .order_by(PlannedMethod.position, PlannedMethod.id)
    )
    return [row.method for row in rows]


def _methods_by_slug(session: Session, slugs: Sequence[str]) -> dict[str, Method]:
    if not slugs:
        return {}
    found = session.scalars(select(Method).where(Method.slug.in_(list(slugs))))
    return {m.slug: m for m in found}


def plan(
    session: Session, actor: User, d: Demarche, slugs: Sequence[str], *, as_of: datetime
) -> list[Method]:
    """Set the démarche's plan to ``slugs``, in that order, the restitution last (added if
    missing). A retired method may stay planned, not be newly chosen. Audited."""
    if not may_plan(actor, d):
        if actor.is_mission or acts_for_department(actor, d):
            raise Conflict(
                N_(
                    "the methods can no longer be changed at stage “%(stage)s”",
                    stage=d.stage.label,
                )
            )
        raise PermissionDenied(
            N_("only the mission or the démarche's department plans its methods")
        )
    if isinstance(slugs, str) or any(not isinstance(s, str) for s in slugs):
        raise InvalidFields({"planned_methods": N_("a list of method addresses expected")})
    wanted = list(dict.fromkeys(s.strip() for s in slugs if s.strip()))
    known = _methods_by_slug(session, [*wanted, RESTITUTION])
    unknown = [s for s in wanted if s not in known]
    if unknown:
        raise InvalidFields(
            {
                "planned_methods": N_(
                    "no method “%(slug)s” in the toolbox", slug=", ".join(unknown)[:200]
                )
            }
        )
    before = [m.slug for m in planned(session, d)]
    newly_retired = [s for s in wanted if known[s].retired and s not in before]
    if newly_retired:
        raise InvalidFields(
            {
                "planned_methods": N_(
                    "“%(name)s” is retired from the toolbox", name=known[newly_retired[0]].name
                )
            }
        )
    order = [s for s in wanted if s != RESTITUTION]
    if RESTITUTION in known:
        order.append(RESTITUTION)
    if len(order) > MAX_PLANNED:
        raise InvalidFields(
            {"planned_methods": N_("at most %(max)s methods planned", max=MAX_PLANNED)}
        )
    if order == before:
        return [known[s] for s in order]  # nothing changes, nothing is audited
    session.execute(delete(PlannedMethod).where(PlannedMethod.demarche_id == d.id))
    session.flush()
    for position, slug in enumerate(order, start=1):
        session.add(
            PlannedMethod(
                demarche_id=d.id, method_id=known[slug].id, position=position, added_at=as_of
            )
        )
    session.flush()
    audit.record(
        session, "methods.plan", actor=actor, as_of=as_of, demarche=d, target=",".join(order)
    )
    return [known[s] for s in order]


def _method(session: Session, slug: str | None, field: str) -> Method | None:
    if slug in (None, ""):
        return None
    found = (
        session.scalar(select(Method).where(Method.slug == slug)) if isinstance(slug, str) else None
    )
    if found is None:
        raise InvalidFields({field: N_("no method “%(slug)s” in the toolbox", slug=str(slug)[:80])})
    return found


def name_event_method(
    session: Session, event: Event, slug: str | None, *, as_of: datetime
) -> Method | None:
    """The method ``event`` uses: ``slug``, or its kind's usual method when none is given
    (and the event named none before). Called by the event's creation and changes."""
    current = session.scalar(select(UsedMethod).where(UsedMethod.event_id == event.id))
    method = _method(session, slug, "method")
    if method is None and current is not None:
        return current.method
    if method is None:
        method = session.scalar(select(Method).where(Method.slug == EVENT_DEFAULTS[event.kind]))
        if method is None:  # the catalogue was never loaded: the event names none
            return None
    if current is None:
        session.add(
            UsedMethod(
                demarche_id=event.demarche_id,
                method_id=method.id,
                event_id=event.id,
                recorded_at=as_of,
            )
        )
    elif current.method_id != method.id:
        current.method_id, current.recorded_at = method.id, as_of
    session.flush()
    return method


def event_method(session: Session, event: Event) -> Method | None:
    row = session.scalar(select(UsedMethod).where(UsedMethod.event_id == event.id))
    return row.method if row else None


def name_channel_method(
    session: Session, actor: User, d: Demarche, channel: str, slug: str | None, *, as_of: datetime
) -> Method | None:
    """The method the démarche's ``channel`` used (``None``: back to its usual one). Audited."""
    if not (actor.is_mission or acts_for_department(actor, d)):
        raise PermissionDenied(
            N_("only the mission or the démarche's department plans its methods")
        )
    try:
        named = Channel(channel)
    except ValueError:
        raise InvalidFields(
            {"channel": N_("unknown channel “%(value)s”", value=str(channel)[:40])}
        ) from None
    if named not in NAMED_CHANNELS:
        raise InvalidFields(
            {"channel": N_("workshops and meetings name their method through their events")}
        )
    method = _method(session, slug, "method")
    current = session.scalar(
        select(UsedMethod).where(UsedMethod.demarche_id == d.id, UsedMethod.channel == named.value)
    )
    if method is None:
        if current is not None:
            session.delete(current)
    elif current is None:
        session.add(
            UsedMethod(
                demarche_id=d.id, method_id=method.id, channel=named.value, recorded_at=as_of
            )
        )
    else:
        current.method_id, current.recorded_at = method.id, as_of
    session.flush()
    audit.record(
        session,
        "methods.channel",
        actor=actor,
        as_of=as_of,
        demarche=d,
        target=f"{named.value}:{method.slug if method else ''}",
    )
    return method


def used(session: Session, d: Demarche) -> list[Use]:
    """The methods the démarche really used: its events' methods, its channels' (named, or
    the usual one of a channel that received contributions), the restitution once the
    feedback was given. In that order; an event's method once per event."""
    uses: list[Use] = []
    rows = session.scalars(
        select(UsedMethod).where(UsedMethod.demarche_id == d.id).order_by(UsedMethod.id)
    ).all()
    events = {e.id: e for e in d.events}
    by_event = [(events[r.event_id], r.method) for r in rows if r.event_id is not None]
    for event, method in sorted(by_event, key=lambda pair: (pair[0].starts_at, pair[0].id)):
        uses.append(Use(method, "event", event=event))
    named = {Channel(r.channel): r.method for r in rows if r.channel}
    received = set(
        session.scalars(
            select(Contribution.channel)
            .where(Contribution.demarche_id == d.id)
            .group_by(Contribution.channel)
        )
    )
    for channel in NAMED_CHANNELS:
        if channel in named:
            uses.append(Use(named[channel], "channel", channel=channel))
        elif channel in received and channel in CHANNEL_DEFAULTS:
            usual = session.scalar(select(Method).where(Method.slug == CHANNEL_DEFAULTS[channel]))
            if usual is not None:
                uses.append(Use(usual, "channel", channel=channel, named=False))
    fed_back = session.scalar(
        select(func.count())
        .select_from(StageTransition)
        .where(StageTransition.demarche_id == d.id, StageTransition.to_stage == Stage.FEEDBACK)
    )
    if fed_back:
        restitution = session.scalar(select(Method).where(Method.slug == RESTITUTION))
        if restitution is not None:
            uses.append(Use(restitution, "feedback"))
    return uses
